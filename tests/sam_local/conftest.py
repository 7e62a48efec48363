"""`sam local invoke` of every function, in a Lambda-like container, against emulated AWS and a real PostgreSQL.

One session: a Docker daemon (host.py: installed and started when missing, stopped if started here), the
invoke image (lambda_image.py, cached by its inputs), the functions built for this machine (local_build.py),
a moto server in this process with the sample world (emulated_aws.py), and a scratch database the
verification functions really query, dropped at the end.

Nothing is skipped when something is missing: it is installed or started, or the session fails saying what
to do. The time each step took is printed at the end (`make sam-local`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ecs_migrate_deploy.emulation.engine import Emulator
from tests.sam_local import emulated_aws, lambda_image, local_build
from tests.sam_local.harness import TIMINGS, SamLocal
from tests.sam_local.host import DockerDaemon, require_commands
from tests.support.moto_server import running_moto_server
from tests.support.postgres import ScratchDatabase, scratch_database_named

ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = ROOT / ".aws-sam" / "sam-local"  # its own build and cache (see local_build.py)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not TIMINGS.steps:
        return
    terminalreporter.section("sam-local timings")
    for step, seconds in TIMINGS.steps:
        terminalreporter.write_line(f"{seconds:7.1f} s  {step}")
    terminalreporter.write_line(f"{time.perf_counter() - TIMINGS.started:7.1f} s  in all (this session)")


def _timed(step: str, started: float) -> None:
    TIMINGS.add(step, time.perf_counter() - started)


@pytest.fixture(scope="session")
def docker_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerDaemon]:
    started = time.perf_counter()
    daemon = DockerDaemon.ensure(tmp_path_factory.mktemp("dockerd") / "dockerd.log")
    _timed(f"Docker daemon {f'started (pid {daemon.started.pid})' if daemon.started else 'already running'}", started)
    try:
        yield daemon
    finally:
        started = time.perf_counter()
        daemon.stop()
        if daemon.started is not None:
            _timed(f"Docker daemon stopped (pid {daemon.started.pid})", started)


@pytest.fixture(scope="session")
def invoke_image(docker_daemon: DockerDaemon) -> str:
    started = time.perf_counter()
    recipe = lambda_image.recipe()
    if lambda_image.needs_build(recipe):
        require_commands({"debootstrap": "debootstrap"})
    image = lambda_image.ensure_image(recipe)
    _timed(f"invoke image {image.tag} ({'built' if image.built else 'cached'})", started)
    return image.tag


@pytest.fixture(scope="session")
def built() -> local_build.LocalBuild:
    started = time.perf_counter()
    result = local_build.build(BUILD_DIR)
    _timed(f"sam build for {result.architecture} (.aws-sam/sam-local)", started)
    return result


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    with running_moto_server() as server:
        yield server.url


@pytest.fixture(scope="session")
def database() -> Iterator[ScratchDatabase]:
    with scratch_database_named("emd_samlocal") as scratch:
        yield scratch


@pytest.fixture(scope="session")
def emulator(moto_url: str, database: ScratchDatabase) -> Iterator[Emulator]:
    started = time.perf_counter()
    with emulated_aws.sample_world(moto_url, database) as running:
        _timed("moto server and the sample world", started)
        yield running


@pytest.fixture(scope="session")
def sam_local(
    invoke_image: str,
    built: local_build.LocalBuild,
    emulator: Emulator,
    moto_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> SamLocal:
    env_vars = emulated_aws.write_env_vars(emulator, tmp_path_factory.mktemp("sam-local") / "env.json")
    return SamLocal(template=built.template, image=invoke_image, env_vars=env_vars, endpoint=moto_url)
