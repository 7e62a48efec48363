"""Shared helpers of the static checks: paths, the parsed template, tools that must be installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from ecs_migrate_deploy.template import load_template, parameter_defaults

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"
ASL_PATHS = sorted((ROOT / "statemachine").glob("*.asl.json"))
INSTALL_HINT = "run `make install` (Python tools into .venv, Node tools into node_modules)"

# Values for the parameters that have no Default, as a deployment would give them.
REQUIRED_PARAMETER_VALUES: dict[str, str] = {
    "RepositoryName": "acme/api",
    "ClusterName": "acme-prod",
    "ServiceNames": "api,worker",
    "DbSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:acme/prod/db-AbCdEf",
    "VerifySubnetIds": "subnet-0123456789abcdef0,subnet-0fedcba9876543210",
    "VerifySecurityGroupIds": "sg-0123456789abcdef0",
    "PassRoleArns": "arn:aws:iam::123456789012:role/acme-task,arn:aws:iam::123456789012:role/acme-task-execution",
}
PSEUDO_PARAMETERS: dict[str, str] = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::StackName": "ecs-migrate-deploy",
    "AWS::URLSuffix": "amazonaws.com",
}


@cache
def _template() -> dict[str, Any]:
    return load_template(TEMPLATE_PATH)


def template() -> dict[str, Any]:
    """The parsed template (long-form intrinsics); shared, so never mutate it."""
    return _template()


def resources(of_type: str | None = None) -> dict[str, dict[str, Any]]:
    found = template().get("Resources") or {}
    return {name: res for name, res in found.items() if of_type is None or res.get("Type") == of_type}


def functions() -> dict[str, dict[str, Any]]:
    """Logical id -> Properties of every AWS::Serverless::Function (Globals not merged)."""
    return {name: res.get("Properties") or {} for name, res in resources("AWS::Serverless::Function").items()}


def global_function() -> dict[str, Any]:
    return dict(((template().get("Globals") or {}).get("Function")) or {})


def environment() -> dict[str, Any]:
    return dict((global_function().get("Environment") or {}).get("Variables") or {})


def parameter_values(**overrides: str) -> dict[str, Any]:
    """Defaults, the required parameters' sample values, pseudo parameters, then `overrides`."""
    return {**parameter_defaults(template()), **REQUIRED_PARAMETER_VALUES, **PSEUDO_PARAMETERS, **overrides}


def walk(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every (path, value) in a nested dict/list structure, depth first."""
    yield path, node
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from walk(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, (*path, str(index)))


def tool(name: str, *, node: bool = False) -> str:
    """Path of an installed command-line tool; fails (never skips) with the install hint."""
    if node:
        candidate = ROOT / "node_modules" / ".bin" / name
        if not candidate.exists():
            pytest.fail(f"{name} is not installed in node_modules: {INSTALL_HINT}", pytrace=False)
        if shutil.which("node") is None:
            pytest.fail(f"Node.js is needed to run {name}: {INSTALL_HINT}", pytrace=False)
        return str(candidate)
    beside_python = Path(sys.executable).parent / name
    found = str(beside_python) if beside_python.exists() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: {INSTALL_HINT}", pytrace=False)
    return found


def run(command: Sequence[str], *, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run a tool from the repository root, offline-friendly environment, output captured."""
    env = {
        **os.environ,
        "AWS_DEFAULT_REGION": "us-east-1",
        "SAM_CLI_TELEMETRY": "0",
        "NO_COLOR": "1",
    }
    return subprocess.run(
        list(command), cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
