"""samconfig.toml: one stack per environment, read as `sam deploy --config-env` reads it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ecs_migrate_deploy.rehearse import checked_parameters
from ecs_migrate_deploy.samconfig import deploy_parameters, parameter_overrides

ROOT = Path(__file__).resolve().parents[3]
SAMCONFIG = ROOT / "samconfig.toml"


@pytest.mark.parametrize(
    ("env", "stack"),
    [("default", "ecs-migrate-deploy"), ("dev", "ecs-migrate-deploy-dev"), ("prod", "ecs-migrate-deploy-prod")],
)
def test_each_environment_is_its_own_stack(env: str, stack: str) -> None:
    assert deploy_parameters(env, SAMCONFIG)["stack_name"] == stack


def test_the_commented_examples_are_valid_parameters_of_the_template() -> None:
    """The examples users uncomment: every name a template parameter, every value one it allows."""
    examples = re.findall(r'^#\s+"([A-Za-z]+)=([^"]*)",?$', SAMCONFIG.read_text(), flags=re.M)
    assert len(examples) > 20
    for name, value in examples:  # one by one: the environments repeat names
        checked_parameters({name: value}, "samconfig.toml examples")


def test_overrides_as_sam_deploy_guided_writes_them_and_as_a_list(tmp_path: Path) -> None:
    config = tmp_path / "samconfig.toml"
    config.write_text(
        '[a.deploy.parameters]\nparameter_overrides = "RepositoryName=\\"acme/api\\" MigrationCommand=\\"npx prisma migrate deploy\\""\n'
        '[b.deploy.parameters]\nparameter_overrides = ["RepositoryName=acme/api", "TagPrefix="]\n'
    )
    assert parameter_overrides("a", config) == {
        "RepositoryName": "acme/api",
        "MigrationCommand": "npx prisma migrate deploy",
    }
    assert parameter_overrides("b", config) == {"RepositoryName": "acme/api", "TagPrefix": ""}
