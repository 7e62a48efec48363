"""A service without a database (a frontend): empty MigrationCommand, no DB identifier. Through the
real ASL, the lock, rollout, rollback, record and notification work as for any service, and nothing
reads, snapshots, migrates or restores a database; every call is one its role grants in such a stack."""

from __future__ import annotations

from tests.support.pipeline import Pipeline, PipelineFactory

DATABASE_STATES = {"StartSnapshot", "CheckSnapshot", "CaptureBaseline", "StartMigration", "CheckMigration", "Verify"}


def _frontend(make_pipeline: PipelineFactory, **changes: object) -> Pipeline:
    # The frontend's container is not called "app": no migration container is looked for.
    return make_pipeline("shop", db_kind=None, services=("frontend",), container_name="web", **changes)


def _migration_tasks(pipeline: Pipeline) -> list[str]:
    ecs = pipeline.client("ecs")
    return list(ecs.list_tasks(cluster=pipeline.world.cluster_name, desiredStatus="STOPPED")["taskArns"]) + list(
        ecs.list_tasks(cluster=pipeline.world.cluster_name)["taskArns"]
    )


def test_a_push_is_rolled_out_without_snapshot_migration_or_verification(make_pipeline: PipelineFactory) -> None:
    pipeline = _frontend(make_pipeline)
    world = pipeline.world
    assert world.conditions()["HasDatabase"] is False
    assert world.env()["MIGRATION_COMMAND"] == "" and world.env()["DB_INSTANCE_IDENTIFIER"] == ""
    event = world.ecr_push_event("v1.1.0")

    report = pipeline.deliver(event)

    assert report.status == "SUCCEEDED", (report.error, report.cause)
    assert not DATABASE_STATES & set(report.state_names), report.state_names
    assert {"AcquireLock", "StartRollout", "CheckRollout", "RecordOutcome", "ReleaseLock"} <= set(report.state_names)
    described = world.service("frontend")
    image = pipeline.client("ecs").describe_task_definition(taskDefinition=described["taskDefinition"])[
        "taskDefinition"
    ]["containerDefinitions"][0]["image"]
    assert image == f"{world.repository_uri}@{event['detail']['image-digest']}"
    assert _migration_tasks(pipeline) == []
    assert pipeline.query("SELECT to_regclass('public._prisma_migrations') IS NULL") == [(True,)]
    assert pipeline.client("rds").describe_db_snapshots()["DBSnapshots"] == []
    record = pipeline.record()
    assert record["outcome"] == "Succeeded" and record["database"] is None and "snapshot_id" not in record
    assert record["expected_migration"]["reason"] == "this stack has no database: nothing is migrated or verified"
    [note] = world.notifications()
    assert "[Succeeded] frontend v1.1.0" in note["Subject"]
    assert pipeline.locks() == []


def test_a_failed_rollout_is_rolled_back_and_the_record_says_no_database_was_involved(
    make_pipeline: PipelineFactory,
) -> None:
    def breaker(service: str, task_definition_arn: str) -> str:
        return "COMPLETED" if task_definition_arn == before else "FAILED"

    pipeline = _frontend(make_pipeline, rollout_policy=breaker)
    world = pipeline.world
    before = world.task_definition_arns["frontend"]

    report = pipeline.deliver(world.ecr_push_event("v1.1.0"))

    assert report.status == "FAILED"
    assert not DATABASE_STATES & set(report.state_names), report.state_names
    assert world.service("frontend")["taskDefinition"] == before
    record = pipeline.record()
    assert record["outcome"] == "RolledBack" and record["error"] == "RolloutFailed"
    assert "No database: this stack deploys without migrating." in record["cause"]
    assert "migration" not in record and record["rollback"]["database"] is None
    assert record["rollback"]["migration_tasks"] == []
    assert pipeline.locks() == []


def test_a_manual_start_cannot_expect_a_migration_it_cannot_check(make_pipeline: PipelineFactory) -> None:
    pipeline = _frontend(make_pipeline)

    report = pipeline.run({"image_tag": "v1.1.0", "options": {"expected_migration": "20250310083000_order_status"}})

    assert report.status == "FAILED" and report.error == "InvalidInput"
    assert "expected_migration cannot be checked: this stack has no database" in (report.cause or "")
    assert "AcquireLock" not in report.state_names and "StartRollout" not in report.state_names
