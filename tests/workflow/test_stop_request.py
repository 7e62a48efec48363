"""A stop request (what `ecs-migrate-deploy stop` writes) obeyed through the real ASL: before the
migration nothing is touched; during the rollout the services go back to their previous task
definitions. Either way the record and the notification say who stopped it and why, and no lock
is left. (The CLI's side, which also ends a wait at once, is tests/operator/test_operator_stop.py.)"""

from __future__ import annotations

from deploy_pipeline.aws.stop_requests import StopRequest, request_stop

from tests.support.pipeline import Pipeline, PipelineFactory
from tests.workflow.test_failures import assert_recorded

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
