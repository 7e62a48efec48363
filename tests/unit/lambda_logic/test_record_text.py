"""Outcome and cause: what a person reads in the notification and the failed execution."""

from __future__ import annotations

import json
from typing import Any

from deploy_pipeline.logic.record import explain, outcome_of
from deploy_pipeline.models.state import RecordInput

DIGEST = "sha256:" + "cd" * 32
TD_OLD = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7"
TD_NEW = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:8"
EXECUTION = {
    "name": "dep-1",
    "arn": "arn:aws:states:us-east-1:123456789012:execution:m:dep-1",
    "started_at": "2026-11-25T07:00:00Z",
}
PLAN: dict[str, Any] = {
    "deployment_id": "dep-1",
    "trigger": "ecr-push",
    "image": {"repository": "shop/app", "repository_uri": "1.dkr.ecr/shop/app", "digest": DIGEST, "tag": "v2"},
    "cluster": "prod",
    "services": [{"name": "web", "arn": "arn:svc/web", "task_definition_arn": TD_OLD}],
    "migration_container": "app",
    "migration_command": ["npx", "prisma", "migrate", "deploy"],
    "database": {"kind": "instance", "identifier": "shop-db"},
}
SNAPSHOT = {"snapshot_id": "pre-deploy-dep-1", "started_at": "2026-11-25T07:00:01Z", "done": True}
MIGRATION = {"task_arn": "arn:task/1", "task_definition_arn": TD_NEW, "started_at": "2026-11-25T07:00:02Z"}


def lambda_error(kind: str, message: str) -> dict[str, str]:
    return {"Error": kind, "Cause": json.dumps({"errorType": kind, "errorMessage": message})}


def state(**parts: Any) -> RecordInput:
    return RecordInput.model_validate({"execution": EXECUTION, **parts})


def test_success() -> None:
    s = state(plan=PLAN, snapshot=SNAPSHOT, migration=MIGRATION)
    assert outcome_of(s) == "Succeeded"
    assert explain(s, "Succeeded") == ("", f"Deployed shop/app:v2 ({DIGEST}) to web.")


def test_invalid_input_says_nothing_was_touched() -> None:
    s = state(
        input={"image_tag": "bad tag"}, error=lambda_error("InvalidInput", "invalid manual input: image_tag: ...")
    )
    assert outcome_of(s) == "Failed"
    name, cause = explain(s, "Failed")
    assert name == "InvalidInput"
    assert "invalid manual input" in cause and "no AWS resource was touched" in cause


def test_migration_failure_reports_untouched_services_and_kept_snapshot() -> None:
    s = state(
        plan=PLAN,
        snapshot=SNAPSHOT,
        migration=MIGRATION,
        error=lambda_error("MigrationFailed", "the migration task exited with code 1"),
        rollback={
            "started_at": "2026-11-25T07:01:00Z",
            "done": True,
            "services": [],
            "database": {
                "policy": "keep",
                "snapshot_id": "pre-deploy-dep-1",
                "restore_command": "aws rds restore-db-instance-from-db-snapshot ...",
            },
        },
    )
    assert outcome_of(s) == "Failed"
    name, cause = explain(s, "Failed")
    assert name == "MigrationFailed"
    assert "exited with code 1" in cause
    assert f"web still runs {TD_OLD}" in cause
    assert "snapshot pre-deploy-dep-1 is kept" in cause and "aws rds restore-db-instance-from-db-snapshot" in cause


def test_rolled_back_and_rollback_failed() -> None:
    rollback = {
        "started_at": "2026-11-25T07:01:00Z",
        "done": True,
        "services": [
            {
                "name": "web",
                "task_definition_arn": TD_OLD,
                "previous_task_definition_arn": TD_NEW,
                "rollout_state": "COMPLETED",
            }
        ],
    }
    rolled = state(
        plan=PLAN,
        snapshot=SNAPSHOT,
        migration=MIGRATION,
        error=lambda_error("RolloutFailed", "circuit breaker"),
        rollback=rollback,
    )
    assert outcome_of(rolled) == "RolledBack"
    assert f"web → {TD_OLD}" in explain(rolled, "RolledBack")[1]
    broken = state(
        plan=PLAN,
        error=lambda_error("RolloutFailed", "circuit breaker"),
        rollback_error=lambda_error("AwsCallFailed", "AccessDenied"),
    )
    assert outcome_of(broken) == "RollbackFailed"
    name, cause = explain(broken, "RollbackFailed")
    assert name == "RollbackFailed"
    assert cause.startswith("ROLLBACK FAILED, ACTION NEEDED")
    assert f"aws ecs update-service --cluster prod --service web --task-definition {TD_OLD}" in cause


def test_noop_and_dry_run() -> None:
    assert outcome_of(state(plan={**PLAN, "noop": True, "noop_reason": "x"})) == "NoOp"
    assert outcome_of(state(plan={**PLAN, "options": {"dry_run": True}})) == "DryRun"
