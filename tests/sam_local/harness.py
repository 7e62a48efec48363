"""What the sam-local tests and their fixtures share: the timings, and `sam local invoke` itself.

(A module of its own: pytest imports conftest.py under a name of its own, so state kept there would not be
the state a test module imports.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SAM_CLI = Path(__file__).resolve().with_name("sam_cli.py")
# What SAM passes to the container as the function's credentials and region (it reads its own environment).
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
INVOKE_TIMEOUT_SECONDS = 180


@dataclass
class Timings:
    """Seconds per step of the session, printed after the tests (what a cold and a warm run cost)."""

    started: float = field(default_factory=time.perf_counter)
    steps: list[tuple[str, float]] = field(default_factory=list)

    def add(self, step: str, seconds: float) -> None:
        self.steps.append((step, seconds))


TIMINGS = Timings()


@dataclass(frozen=True)
class Invocation:
    function: str
    event: str
    exit_code: int
    output: Any  # the function's result (or its error object), as `sam local invoke` prints it on stdout
    log: str  # SAM's and the container's output (stderr)
    seconds: float


@dataclass
class SamLocal:
    """Runs `sam local invoke <function> -e events/<file> ...` against the session's world."""

    template: Path
    image: str
    env_vars: Path
    endpoint: str

    def invoke(self, function: str, event: str) -> Invocation:
        command = [
            sys.executable, str(SAM_CLI), "local", "invoke", function,
            "--template", str(self.template), "--event", str(ROOT / "events" / event), "--env-vars", str(self.env_vars),
            "--invoke-image", self.image, "--skip-pull-image", "--docker-network", "host",
        ]  # fmt: skip
        # No AWS_* of this process (a profile, the emulator's own settings) and no pyenv selection: SAM gets the
        # emulated account's credentials and endpoint only, and runs under this venv's Python.
        environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYENV_"))},
            **FAKE_CREDENTIALS,
            "AWS_ENDPOINT_URL": self.endpoint,
            "SAM_CLI_TELEMETRY": "0",
        }
        started = time.perf_counter()
        done = subprocess.run(
            command,
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=INVOKE_TIMEOUT_SECONDS,
            check=False,
        )
        seconds = time.perf_counter() - started
        try:
            output = json.loads(done.stdout)
        except ValueError:
            output = None
        return Invocation(function, event, done.returncode, output, done.stderr, seconds)
