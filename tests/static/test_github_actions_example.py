"""examples/github-actions/*.yml: what actionlint cannot know about them.

actionlint checks the workflow as GitHub Actions reads it; this checks it against this project: every
`ecs-migrate-deploy` command in a `run:` script parses with the CLI's own options (a renamed flag
fails here, not in a user's first deployment), and AWS is reached by OIDC role assumption only.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from ecs_migrate_deploy.cli import app

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / "examples" / "github-actions").glob("*.yml"))
_COMMAND = re.compile(r"(?<![\w-])ecs-migrate-deploy\s+([^\n)]*)")


def _steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    return [(name, job, step) for name, job in workflow["jobs"].items() for step in job.get("steps", [])]


def _commands(script: str) -> list[list[str]]:
    """The arguments of each `ecs-migrate-deploy` call in a script, "$VAR" standing for a value."""
    joined = script.replace("\\\n", " ")
    return [shlex.split(match.group(1), comments=True) for match in _COMMAND.finditer(joined)]


def _parse(arguments: list[str]) -> str:
    """Parse as the console script would, stopping at `--help` (eager: nothing runs); the subcommand."""
    result = CliRunner().invoke(app, [*arguments, "--help"])
    if result.exit_code != 0:
        pytest.fail(f"`ecs-migrate-deploy {shlex.join(arguments)}` does not parse: {result.output.strip()}")
    return arguments[0]


def test_there_is_an_example_workflow() -> None:
    assert [path.name for path in WORKFLOWS] == ["deploy.yml"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_ecs_migrate_deploy_command_parses_with_the_cli(path: Path) -> None:
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    used = []
    for _, _, step in _steps(workflow):
        for arguments in _commands(step.get("run", "")):
            used.append(_parse(arguments))
    assert sorted(set(used)) == ["image-labels", "promote", "watch"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_aws_is_reached_by_oidc_role_assumption_only(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    workflow = yaml.safe_load(text)
    assert "aws-access-key-id" not in text and "aws-secret-access-key" not in text and "secrets." not in text
    assert workflow.get("permissions") == {"contents": "read"}
    credentials = [
        (job, step) for _, job, step in _steps(workflow) if "configure-aws-credentials" in step.get("uses", "")
    ]
    assert credentials
    for job, step in credentials:
        assert job["permissions"] == {"contents": "read", "id-token": "write"}
        assert set(step["with"]) == {"role-to-assume", "aws-region"}
