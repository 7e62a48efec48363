"""The build `make sam-local` runs is the deployed build for another architecture, and nothing else.

No Docker, no network: the template and lambda-build/Makefile are read (`make --dry-run` prints what a
target would run). A drift between the deployed (arm64) and the local (x86_64) build fails here.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from ecs_migrate_deploy.template import load_template
from tests.sam_local.local_build import LAYER_TYPE, local_template

ROOT = Path(__file__).resolve().parents[2]
MAKEFILE = ROOT / "lambda-build" / "Makefile"
TEMPLATE = load_template(ROOT / "template.yaml")
DEPLOYED = "arm64"
MACHINES = {"arm64": "aarch64", "x86_64": "x86_64"}
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FUNCTIONS = sorted(name for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function")
LAYERS = sorted(name for name, r in RESOURCES.items() if r["Type"] == LAYER_TYPE)


def differences(left: Any, right: Any, path: str = "") -> set[str]:
    """The paths (dotted) where two JSON-like values differ."""
    if isinstance(left, dict) and isinstance(right, dict):
        return {
            d for key in left.keys() | right.keys() for d in differences(left.get(key), right.get(key), f"{path}.{key}")
        }
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        return {d for i, (a, b) in enumerate(zip(left, right, strict=True)) for d in differences(a, b, f"{path}[{i}]")}
    return set() if left == right else {path}


def dry_run(target: str, architecture: str | None = None) -> str:
    """The commands `make` would run for `target` (as SAM calls it: ARTIFACTS_DIR set)."""
    command = ["make", "--dry-run", "--makefile", str(MAKEFILE), target, "ARTIFACTS_DIR=/artifacts"]
    if architecture:
        command.append(f"LAMBDA_ARCHITECTURE={architecture}")
    return subprocess.run(command, cwd=ROOT / "functions", capture_output=True, text=True, check=True).stdout


def test_the_local_template_differs_only_in_the_architecture() -> None:
    expected = {".Globals.Function.Architectures[0]"}
    for layer in LAYERS:
        expected |= {f".Resources.{layer}.Metadata.BuildArchitecture"}
        expected |= {f".Resources.{layer}.Properties.CompatibleArchitectures[0]"}
    assert differences(TEMPLATE, local_template(TEMPLATE, "x86_64")) == expected


def test_the_deployed_architecture_is_the_same_everywhere() -> None:
    """Functions, layer and Makefile default agree (no function overrides the Globals' architecture)."""
    assert TEMPLATE["Globals"]["Function"]["Architectures"] == [DEPLOYED]
    assert all("Architectures" not in RESOURCES[name]["Properties"] for name in FUNCTIONS)
    for layer in LAYERS:
        assert RESOURCES[layer]["Metadata"]["BuildArchitecture"] == DEPLOYED
        assert RESOURCES[layer]["Properties"]["CompatibleArchitectures"] == [DEPLOYED]
    assert f"--platform manylinux2014_{MACHINES[DEPLOYED]}" in dry_run("build-DependenciesLayer")


def test_every_function_and_layer_is_built_by_the_makefile() -> None:
    assert LAYERS and TEMPLATE["Globals"]["Function"]["Layers"] == [{"Ref": layer} for layer in LAYERS]
    for layer in LAYERS:
        assert RESOURCES[layer]["Metadata"]["BuildMethod"] == "makefile"
        assert RESOURCES[layer]["Properties"]["ContentUri"] == "lambda-build/"
    for function in FUNCTIONS:
        metadata = RESOURCES[function]["Metadata"]
        assert (metadata["BuildMethod"], metadata["ContextPath"]) == ("makefile", "lambda-build"), function
        assert "cp -R deploy_pipeline" in dry_run(f"build-{function}")
    assert (ROOT / "lambda-build" / "requirements.txt").resolve() == ROOT / "functions" / "requirements.txt"


@pytest.mark.parametrize("target", ["build-DependenciesLayer", "build-ResolveFunction"])
def test_the_makefile_differs_per_architecture_only_in_the_platform(target: str) -> None:
    deployed, local = dry_run(target, DEPLOYED), dry_run(target, "x86_64")
    assert deployed.replace(MACHINES[DEPLOYED], "x86_64") == local
