"""`rehearse --event` with a team's own captured push, and `--config-env` with its stack's parameters:
the rehearsal refuses what the deployed stack would refuse."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from ecs_migrate_deploy.rehearse import UsageError, stack_parameters
from tests.e2e.rehearsal import ROOT, rehearse

THEIR_DIGEST = "sha256:" + hashlib.sha256(b"an image built somewhere else").hexdigest()


def their_push(tmp_path: Path, *, repository: str = "team/api", tag: str = "2025.11.28") -> Path:
    """AWS's sample `ECR Image Action` event, as a push in another account, region and repository."""
    event: dict[str, Any] = json.loads((ROOT / "events" / "ecr-push.json").read_text())
    event.update(account="111122223333", region="eu-west-1", resources=[])
    event["detail"].update({"repository-name": repository, "image-tag": tag, "image-digest": THEIR_DIGEST})
    path = tmp_path / "push.json"
    path.write_text(json.dumps(event))
    return path


def samconfig(tmp_path: Path, overrides: str) -> Path:
    path = tmp_path / "samconfig.toml"
    path.write_text(
        "version = 0.1\n[dev.deploy.parameters]\n"
        'stack_name = "api-dev"\n'
        f"parameter_overrides = {json.dumps(overrides)}\n"
    )
    return path


def test_a_push_captured_in_another_account_and_region_deploys_its_own_digest(tmp_path: Path) -> None:
    code, payload, stderr = rehearse("--event", str(their_push(tmp_path)), "--json")
    assert payload is not None, stderr
    assert code == 0, payload["cause"]
    record = payload["deployment"]
    assert record["image_uri"] == f"111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/api@{THEIR_DIGEST}"
    assert record["image_tag"] == "2025.11.28"
    assert payload["deployment"]["execution_arn"].startswith("arn:aws:states:eu-west-1:111122223333:")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            'RepositoryName="acme/app" TagPrefix=""',
            "the push is to repository 'team/api'; this stack deploys 'acme/app'",
        ),
        (
            'RepositoryName="team/api" TagPrefix="release-"',
            "tag '2025.11.28' is filtered out by this stack's tag filter",
        ),
    ],
)
def test_the_stack_s_own_parameters_refuse_what_the_stack_would_refuse(
    tmp_path: Path, overrides: str, message: str
) -> None:
    config = samconfig(tmp_path, overrides)
    code, _payload, stderr = rehearse(
        "--event", str(their_push(tmp_path)), "--config-env", "dev", "--config-file", str(config)
    )
    assert code == 2
    assert message in stderr and len(stderr.strip().splitlines()) == 1, stderr


def test_a_wrong_verify_tool_in_the_stack_fails_the_rehearsal(tmp_path: Path) -> None:
    config = samconfig(tmp_path, 'RepositoryName="team/api" VerifyTool="alembic"')
    code, payload, stderr = rehearse(
        "--event", str(their_push(tmp_path)), "--config-env", "dev", "--config-file", str(config), "--json"
    )
    assert payload is not None, stderr
    assert (code, payload["error"]) == (1, "SchemaVerificationFailed")
    assert "the alembic verification of the database failed" in payload["cause"]


def test_parameters_naming_the_team_s_own_resources_are_emulated_and_said(tmp_path: Path) -> None:
    config = samconfig(
        tmp_path,
        'RepositoryName="team/api" DbSecretArn="arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf" '
        'VerifySubnetIds="subnet-0123456789abcdef0"',
    )
    parameters, notes = stack_parameters(["VerifyTool=prisma"], "dev", config)
    assert parameters == {"RepositoryName": "team/api", "VerifyTool": "prisma"}
    assert notes == [
        f"stack parameters from {config} [dev]: RepositoryName",
        "emulated instead (they name your account's resources): DbSecretArn, VerifySubnetIds",
    ]


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        (
            'version = 0.1\n[dev.deploy.parameters]\nstack_name = "x"\n',
            "prod",
            "has no environment [prod] (it has: dev)",
        ),
        ('[dev.deploy.parameters]\nparameter_overrides = "Nope=1"\n', "dev", "unknown parameter 'Nope'"),
        ('[dev.deploy.parameters]\nparameter_overrides = "NoEquals"\n', "dev", "'NoEquals' is not Key=Value"),
    ],
)
def test_a_bad_config_env_is_one_line(tmp_path: Path, text: str, env: str, message: str) -> None:
    config = tmp_path / "samconfig.toml"
    config.write_text(text)
    with pytest.raises(UsageError, match=re.escape(message)):
        stack_parameters([], env, config)


def test_a_stack_without_a_database_has_nothing_to_rehearse(tmp_path: Path) -> None:
    config = samconfig(tmp_path, 'RepositoryName="team/api" MigrationCommand=""')
    code, _payload, stderr = rehearse(
        "--event", str(their_push(tmp_path)), "--config-env", "dev", "--config-file", str(config)
    )
    assert code == 2
    assert "this stack has no database (empty MigrationCommand, no DB identifier)" in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
