"""What `make sam-local` needs on this machine, installed or started when missing and stopped when it started it.

Docker comes from Debian's archive (`docker.io`: no registry is reachable here, the images are built locally)
and debootstrap too. A dockerd this harness starts has no bridge network and touches no firewall
(`--bridge=none --iptables=false`): containers run on the host's network only (tests/sam_local/sam_cli.py),
so everything they reach is on 127.0.0.1. A daemon that already runs is used as it is and left running.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

DOCKERD_FLAGS = ("--bridge=none", "--iptables=false")
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 30.0


class HostSetupError(RuntimeError):
    """Something this machine lacks that the harness cannot provide; the message says what to do."""


def apt_install(*packages: str) -> None:
    """`apt-get install` from the Debian archive (the one package source reachable offline); root only."""
    if os.geteuid() != 0:
        raise HostSetupError(
            f"sam-local needs {', '.join(packages)}: run `sudo apt-get install -y {' '.join(packages)}`"
        )
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
        done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise HostSetupError(f"`{' '.join(command)}` failed (exit {done.returncode}):\n{done.stderr[-2000:]}")


def require_commands(commands: dict[str, str]) -> None:
    """Each command on PATH, installing its Debian package (command -> package) when it is not."""
    missing = sorted({package for command, package in commands.items() if shutil.which(command) is None})
    if missing:
        apt_install(*missing)


def docker_answers() -> bool:
    """Whether a Docker daemon answers on the default socket (what SAM CLI and the docker CLI use)."""
    probe = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True, check=False)
    return probe.returncode == 0


def bridge_networks() -> set[str]:
    """The daemon's networks that containers could use to reach beyond the host (driver bridge)."""
    listed = subprocess.run(
        ["docker", "network", "ls", "--filter", "driver=bridge", "--format", "{{.Name}}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(listed.stdout.split())


@dataclass
class DockerDaemon:
    """The Docker daemon the harness uses; `started` is the process of one it started itself."""

    started: subprocess.Popen[bytes] | None
    log: Path
    bridges: set[str] = field(default_factory=set)  # the bridge networks it had when the harness came

    @classmethod
    def ensure(cls, log: Path) -> DockerDaemon:
        """Install docker.io if dockerd is missing; start dockerd (no bridge, no iptables) if none answers."""
        require_commands({"dockerd": "docker.io", "docker": "docker.io"})
        if docker_answers():
            return cls(started=None, log=log, bridges=bridge_networks())
        if os.geteuid() != 0:
            raise HostSetupError("no Docker daemon answers and only root can start one: start dockerd, or run as root")
        with log.open("wb") as output:
            process = subprocess.Popen(
                ["dockerd", *DOCKERD_FLAGS], stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        daemon = cls(started=process, log=log)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not docker_answers():
            if process.poll() is not None or time.monotonic() > deadline:
                daemon.stop()
                tail = log.read_text(errors="replace")[-3000:]
                raise HostSetupError(f"dockerd did not start (exit {process.returncode}); its log ({log}):\n{tail}")
            time.sleep(0.2)
        daemon.bridges = bridge_networks()
        return daemon

    def stop(self) -> None:
        """Stop the dockerd this harness started (by its process id; it stops its own containerd)."""
        if self.started is None or self.started.poll() is not None:
            return
        self.started.send_signal(signal.SIGTERM)
        try:
            self.started.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.started.kill()
            self.started.wait()
