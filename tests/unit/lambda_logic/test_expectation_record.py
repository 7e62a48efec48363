"""The record says whether the expected-migration check ran, from what source, or why it was
skipped; drift is a warning: recorded and in the cause, and it does not fail a verification."""

from __future__ import annotations

import json
from typing import Any

from deploy_pipeline.logic.record import expectation_record, explain, warnings_of
from deploy_pipeline.models.state import RecordInput

from tests.unit.lambda_logic.test_record_text import EXECUTION, MIGRATION, PLAN, SNAPSHOT, lambda_error

NAME = "20250310083000_order_status"
FROM_LABEL = {"expected_migration": NAME, "source": "label", "checksums": True}
DRIFT = {
    "name": "migration-checksums",
    "passed": False,
    "severity": "warning",
    "detail": "1 applied migration was edited after it was applied (...): 20250101090000_init",
}


def state(expectation: dict[str, Any], **parts: Any) -> RecordInput:
    return RecordInput.model_validate({"execution": EXECUTION, "plan": {**PLAN, "expectation": expectation}, **parts})


def verification(*checks: dict[str, Any]) -> dict[str, Any]:
    return {"tool": "prisma", "passed": True, "checks": list(checks)}


def test_a_passed_check_from_the_label() -> None:
    s = state(
        FROM_LABEL,
        verification=verification({"name": "expected-migration", "passed": True}, {**DRIFT, "passed": True}),
    )

    assert expectation_record(s) == {
        "expected_migration": {"name": NAME, "source": "label", "check": "passed"},
        "migration_checksums": {"labelled": True, "check": "passed"},
    }


def test_a_failed_verification_names_the_failed_check_and_the_warning() -> None:
    message = (
        f"the prisma verification of the database failed (1 check): expected-migration: {NAME} is not applied; "
        f"(warning) migration-checksums: {DRIFT['detail']}"
    )
    s = state(FROM_LABEL, error=lambda_error("SchemaVerificationFailed", message))

    record = expectation_record(s)

    assert record["expected_migration"]["check"] == "failed"
    assert record["migration_checksums"]["check"] == "warning"


def test_an_unlabelled_image_is_recorded_as_skipped_with_the_reason() -> None:
    reason = "the image has no io.github.ecs-migrate-deploy.expected-migration label: the expected-migration check is skipped"
    s = state({"reason": reason, "checksums_reason": "the image has no ... label"}, verification=verification())

    record = expectation_record(s)

    assert record["expected_migration"] == {"name": None, "source": None, "check": "skipped", "reason": reason}
    assert record["migration_checksums"]["check"] == "skipped"


def test_a_check_verify_never_reached_is_not_run() -> None:
    s = state(FROM_LABEL, error=lambda_error("MigrationFailed", "exit 1"))

    assert expectation_record(s)["expected_migration"]["check"] == "not-run"


def test_drift_is_a_warning_in_the_cause_of_a_successful_deployment() -> None:
    s = state(
        FROM_LABEL,
        snapshot=SNAPSHOT,
        migration=MIGRATION,
        verification=verification({"name": "expected-migration", "passed": True}, DRIFT),
    )

    _, cause = explain(s, "Succeeded")

    assert warnings_of(s) == [f"migration-checksums: {DRIFT['detail']}"]
    assert cause.splitlines()[1] == f"Warning: migration-checksums: {DRIFT['detail']}"
    assert json.dumps(expectation_record(s))  # the record stays JSON
