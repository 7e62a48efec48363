"""The functions built for this machine's architecture, to run in its containers (deployed: arm64).

The local build is the deployed one with one difference, the architecture, and nothing else can drift:
- the template: template.yaml with only Globals.Function.Architectures and the layer's BuildArchitecture and
  CompatibleArchitectures replaced (`local_template`; tests/sam_local/test_local_build.py checks that every
  other value is the same, and that the deployed values agree with each other and with lambda-build/Makefile);
- the build: the same `sam build` of the same lambda-build/Makefile targets, with LAMBDA_ARCHITECTURE set
  (the Makefile's only architecture-dependent line is pip's --platform).
It lives in .aws-sam/sam-local/ (its own `--cached` build and cache: SAM's cache key ignores the architecture).
`python tests/sam_local/local_build.py` builds it and prints the template `sam local invoke --template` takes.
"""

from __future__ import annotations

import copy
import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecs_migrate_deploy.template import load_template

ROOT = Path(__file__).resolve().parents[2]
LAYER_TYPE = "AWS::Serverless::LayerVersion"
# `uname -m` -> Lambda's name for the architecture
LAMBDA_ARCHITECTURES = {"x86_64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}


class LocalBuildError(RuntimeError):
    """`sam build` failed; the message holds its output."""


@dataclass(frozen=True)
class LocalBuild:
    template: Path  # the built template (what `sam local invoke --template` takes)
    architecture: str


def host_architecture() -> str:
    machine = platform.machine()
    if machine not in LAMBDA_ARCHITECTURES:
        raise LocalBuildError(f"Lambda has no architecture for this machine ({machine})")
    return LAMBDA_ARCHITECTURES[machine]


def local_template(template: dict[str, Any], architecture: str) -> dict[str, Any]:
    """`template` for `architecture`: the functions' Architectures, the layers' build and compatible ones."""
    local = copy.deepcopy(template)
    local["Globals"]["Function"]["Architectures"] = [architecture]
    for resource in local["Resources"].values():
        if resource["Type"] == LAYER_TYPE:
            resource["Metadata"]["BuildArchitecture"] = architecture
            resource["Properties"]["CompatibleArchitectures"] = [architecture]
    return local


def build(directory: Path, architecture: str | None = None) -> LocalBuild:
    """`sam build` of template.yaml for `architecture` (default: this machine's) into `directory`."""
    architecture = architecture or host_architecture()
    directory.mkdir(parents=True, exist_ok=True)
    source = directory / "template.json"
    source.write_text(json.dumps(local_template(load_template(ROOT / "template.yaml"), architecture), indent=1))
    environment = {
        **os.environ,
        "SAM_CLI_TELEMETRY": "0",
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "LAMBDA_ARCHITECTURE": architecture,
        "PIP": f"{sys.executable} -m pip",
    }
    command = [
        str(Path(sys.executable).with_name("sam")), "build",
        "--template-file", str(source), "--base-dir", str(ROOT),
        "--build-dir", str(directory / "build"), "--cache-dir", str(directory / "cache"), "--cached", "--parallel",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LocalBuildError(f"sam build failed (exit {done.returncode}):\n{(done.stdout + done.stderr)[-4000:]}")
    return LocalBuild(template=directory / "build" / "template.yaml", architecture=architecture)


if __name__ == "__main__":
    print(build(ROOT / ".aws-sam" / "sam-local").template)
