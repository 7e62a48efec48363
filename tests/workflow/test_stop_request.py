"""A stop request (what `ecs-migrate-deploy stop` writes) obeyed through the real ASL: before the
migration nothing is touched (a deployment waiting for the lock ends at its next try); during the
rollout the services go back to their previous task definitions. Either way the record and the
notification say who stopped it and why, and no lock is left. (The CLI's side, which also ends a wait at once, is tests/operator/test_operator_stop.py.)"""

from __future__ import annotations

import threading
from typing import Any

from deploy_pipeline.aws.stop_requests import StopRequest, request_stop

from ecs_migrate_deploy.emulation.seams.awslambda import resolve_handler
from tests.support.pipeline import Pipeline, PipelineFactory
from tests.workflow.test_failures import assert_recorded, hold_lock

REQUEST = StopRequest(
    by="arn:aws:iam::123456789012:user/alice", reason="INC-9: bad release", requested_at="2026-11-29T10:00:00+00:00"
)


def _ask_to_stop(pipeline: Pipeline, execution: str) -> None:
    request_stop(pipeline.client("dynamodb"), pipeline.world.table_name, execution, REQUEST, now=1_800_000_000)


def test_a_stop_before_the_migration_touches_nothing(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline("shop")
    _ask_to_stop(pipeline, "stopped-early")

    report = pipeline.run({"image_tag": "v1.1.0"}, name="stopped-early")

    assert (report.status, report.error) == ("FAILED", "DeploymentStopped")
    # obeyed by the first phase after the lock (AcquireLock never obeys: see logic/stops.py)
    names = report.state_names
    assert names[names.index("StartSnapshot") + 1] == "RecordOutcome", names
    record = assert_recorded(pipeline, "Failed", "DeploymentStopped")
    assert REQUEST.describe() in record["cause"]
    assert "The migration did not run" in record["cause"]
    assert "snapshot_id" not in record and "migration" not in record


def test_a_stop_during_the_rollout_puts_every_service_back(make_pipeline: PipelineFactory) -> None:
    asked: list[str] = []

    def rolling(service: str, task_definition_arn: str) -> str:
        if task_definition_arn == initial[service]:
            return "COMPLETED"
        if not asked:  # the operator stops it while ECS rolls the new revision out
            _ask_to_stop(pipeline, "stopped-rollout")
            asked.append(service)
        return "IN_PROGRESS"

    pipeline = make_pipeline("shop", rollout_policy=rolling)
    initial = dict(pipeline.world.task_definition_arns)

    report = pipeline.run({"image_tag": "v1.1.0"}, name="stopped-rollout")

    assert (report.status, report.error) == ("FAILED", "DeploymentStopped")
    record = assert_recorded(pipeline, "RolledBack", "DeploymentStopped")
    assert record["cause"].startswith(f"Rolled back: DeploymentStopped: {REQUEST.describe()}")
    for service in pipeline.world.spec.services:
        assert pipeline.world.service(service)["taskDefinition"] == initial[service]
    assert {s["name"] for s in record["rollback"]["services"]} == set(pipeline.world.spec.services)


def test_a_stop_between_the_snapshot_and_its_retry_still_reports_the_snapshot(make_pipeline: PipelineFactory) -> None:
    """StartSnapshot created the snapshot, its result was lost (Lambda.Unknown), and the operator
    asked to stop before the retry: the retry passes the snapshot on, CheckSnapshot obeys the stop, and
    the record names the snapshot (kept, and pruned later by SnapshotRetention like any other)."""
    pipeline = make_pipeline("shop")
    start_snapshot = pipeline.function_name("StartSnapshot")
    router = pipeline.emulator.seams.lambdas
    router.lose_result(start_snapshot)
    real = resolve_handler("deploy_pipeline.handlers.snapshot.start")

    def start_then_stop(event: dict[str, Any], context: Any) -> Any:
        try:
            return real(event, context)
        finally:  # the operator asks, from outside the function (the router records calls per thread)
            operator = threading.Thread(target=_ask_to_stop, args=(pipeline, "stopped-after-snapshot"))
            operator.start()
            operator.join()

    router.route(start_snapshot, start_then_stop)

    report = pipeline.run({"image_tag": "v1.1.0"}, name="stopped-after-snapshot")

    assert (report.status, report.error) == ("FAILED", "DeploymentStopped")
    names = report.state_names
    assert names.count("StartSnapshot") == 1 and names[names.index("StartSnapshot") + 1] == "WaitForSnapshot", names
    record = assert_recorded(pipeline, "Failed", "DeploymentStopped")
    (snapshot,) = pipeline.client("rds").describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    assert record["snapshot_id"] == snapshot["DBSnapshotIdentifier"]
    assert "migration" not in record


def test_a_deployment_waiting_for_the_lock_ends_at_its_next_try(make_pipeline: PipelineFactory) -> None:
    """Holding nothing, it does not wait for the other deployment to finish before it obeys."""
    pipeline = make_pipeline("shop", parameters={"LockWaitSeconds": "3600"})
    hold_lock(pipeline, "other-deployment", 3600)
    _ask_to_stop(pipeline, "queued")

    report = pipeline.run({"image_tag": "v1.1.0"}, name="queued")

    assert (report.status, report.error) == ("FAILED", "DeploymentStopped")
    names = report.state_names
    assert "WaitForLock" not in names and names[names.index("AcquireLock") + 1] == "RecordOutcome", names
    record = assert_recorded(pipeline, "Failed", "DeploymentStopped", others_locks=("other-deployment",))
    assert REQUEST.describe() in record["cause"]
    assert pipeline.client("rds").describe_db_snapshots(SnapshotType="manual")["DBSnapshots"] == []
