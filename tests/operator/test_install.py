"""An operator installs the CLI from its wheel, without the repository and without the emulator:
the operator commands need only boto3, pydantic and the CLI libraries (pyproject.toml's
dependencies); `rehearse` and `lint` say which extra brings what they need.

The wheel is built from a copy of what it packages (so the checkout gains no build/ or egg-info),
installed into a new virtual environment from PyPI (pip's cache makes that quick after the first
time), and run against the stand-in stack on the moto server like the other operator tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.operator_stack import CALLER, CI, OPERATOR_MARKS, ROOT, StackFactory

pytestmark = OPERATOR_MARKS

# What only `rehearse` and `lint` use: none of it may come with the operator commands.
NOT_FOR_OPERATORS = {
    "moto",
    "aws-lambda-powertools",
    "psycopg2-binary",
    "pyyaml",
    "squawk-cli",
    "alembic",
    "sqlalchemy",
}


def _wheel(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in ("functions/deploy_pipeline", "src/ecs_migrate_deploy"):
        shutil.copytree(ROOT / part, source / part, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--wheel-dir", str(wheels), str(source)],
        check=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("ecs_migrate_deploy-*.whl")
    return wheel


def test_the_wheel_alone_runs_the_operator_commands_and_names_the_extras_the_others_need(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    wheel = _wheel(tmp_path)
    venv = tmp_path / "operator-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], check=True, timeout=600)
    listed = subprocess.run(
        [str(venv / "bin" / "pip"), "list", "--format", "json"], check=True, capture_output=True, text=True
    )
    installed = {package["name"].lower() for package in json.loads(listed.stdout)}
    assert "boto3" in installed and not NOT_FOR_OPERATORS & installed, sorted(installed)

    stack = make_stack()
    program = [str(venv / "bin" / "ecs-migrate-deploy")]
    version = stack.cli("--version", stack=False, program=program)
    started = stack.cli("start", "--tag", "v1.1.0", "--watch", "--interval", "0.2", env=CI, program=program)
    history = stack.cli("history", "--json", program=program)
    nothing = stack.cli("stop", "--latest", "--reason", "checking", env=CI, program=program)
    rehearse = stack.cli("rehearse", stack=False, program=program)
    # (PATH without the test's own environment, which has squawk: lint looks there after its own)
    bare = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if not p.startswith(sys.prefix))
    lint = stack.cli("lint", str(ROOT / "examples" / "shop"), stack=False, program=program, env={"PATH": bare})

    assert (version.code, version.stdout.strip()) == (0, "ecs-migrate-deploy 0.1.0"), version.stderr
    assert started.code == 0, started.stdout + started.stderr
    assert "\nSucceeded  (SUCCEEDED)\n" in started.stdout
    (deployment,) = history.json()
    assert (deployment["outcome"], deployment["started_by"]) == ("Succeeded", CALLER)
    assert deployment["migrations_applied"]["count"] == 3
    assert nothing.code == 0 and nothing.stdout.startswith("Nothing to stop"), nothing.stdout + nothing.stderr
    assert rehearse.code == 2
    assert "needs ecs-migrate-deploy's 'rehearse' extra" in rehearse.stderr
    assert "pipx install 'ecs-migrate-deploy[rehearse]'" in rehearse.stderr
    assert lint.code == 2 and "pipx install 'ecs-migrate-deploy[lint]'" in lint.stderr, lint.stderr
    assert "Traceback" not in "".join(r.stderr for r in (version, started, history, nothing, rehearse, lint))
