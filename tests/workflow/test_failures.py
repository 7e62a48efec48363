"""Every way a deployment can fail ends in a known, safe, recorded state.

Each test runs the real ASL and then reads the emulated AWS back: the services' task definitions,
the lock items, the deployment record, the SNS message and the EventBridge event.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from deploy_pipeline.errors import TransientAwsError
from moto.rds.exceptions import SnapshotQuotaExceededFault

from ecs_migrate_deploy.emulation.seams.ecs_tasks import TaskOutcome
from tests.support.pipeline import DB_PASSWORD, Pipeline, PipelineFactory


def task_definitions(pipeline: Pipeline) -> dict[str, str]:
    return {s: pipeline.world.service(s)["taskDefinition"] for s in pipeline.world.spec.services}


def task_definition_revisions(pipeline: Pipeline) -> list[str]:
    return pipeline.client("ecs").list_task_definitions()["taskDefinitionArns"]


def assert_recorded(
    pipeline: Pipeline, outcome: str, error: str | None = None, *, others_locks: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The end state every failure must reach: a record, a notification, an event, no lock of its own
    (only the locks of `others_locks`, executions the test made hold one)."""
    [record] = pipeline.records()
    assert record["outcome"] == outcome
    if error:
        assert record["error"] == error
    [note] = pipeline.world.notifications()
    assert f"[{outcome}]" in note["Subject"]
    assert note["MessageAttributes"]["outcome"]["Value"] == outcome
    assert [e["detail-type"] for e in pipeline.world.outcome_events()] == [f"Deployment {outcome}"]
    assert {item["execution"]["S"] for item in pipeline.locks()} == set(others_locks)
    assert DB_PASSWORD not in json.dumps(record) + json.dumps(note)
    return record


def only_our_snapshots(pipeline: Pipeline) -> list[str]:
    snapshots = pipeline.client("rds").describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    return sorted(s["DBSnapshotIdentifier"] for s in snapshots)


# 1 -------------------------------------------------------------------------------------------------
def test_snapshot_refused_fails_before_anything_is_touched(make_pipeline: PipelineFactory) -> None:
    def quota(kind: str, snapshot_id: str) -> str:
        raise SnapshotQuotaExceededFault()

    pipeline = make_pipeline("shop", snapshot_policy=quota)
    before, revisions = task_definitions(pipeline), task_definition_revisions(pipeline)

    report = pipeline.run({"image_tag": "v1.1.0"}, name="snap-quota")

    assert (report.status, report.error) == ("FAILED", "SnapshotFailed")
    assert "SnapshotQuotaExceeded" in (report.cause or "")
    assert task_definitions(pipeline) == before and task_definition_revisions(pipeline) == revisions
    assert pipeline.client("ecs").list_tasks(cluster=pipeline.world.cluster_name)["taskArns"] == []
    assert pipeline.query("SELECT to_regclass('_prisma_migrations')") == [(None,)]
    assert_recorded(pipeline, "Failed", "SnapshotFailed")


def test_snapshot_that_never_becomes_available_times_out(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline("shop", snapshot_policy=lambda kind, snapshot_id: "creating")
    before = task_definitions(pipeline)

    report = pipeline.run({"image_tag": "v1.1.0"}, name="snap-slow")

    assert (report.status, report.error) == ("FAILED", "SnapshotTimedOut")
    assert "SnapshotTimeoutSeconds=3600" in (report.cause or "")
    assert task_definitions(pipeline) == before
    assert pipeline.client("ecs").list_tasks(cluster=pipeline.world.cluster_name)["taskArns"] == []
    # the adaptive wait polled a handful of times for an hour, not every 10 seconds
    assert 5 <= report.state_names.count("CheckSnapshot") <= 25
    assert_recorded(pipeline, "Failed", "SnapshotTimedOut")


# 2, 3 ----------------------------------------------------------------------------------------------
def test_task_that_never_starts_reports_the_stopped_reason(make_pipeline: PipelineFactory) -> None:
    def cannot_pull(task_definition: Any, overrides: Any, started_by: str) -> TaskOutcome:
        return TaskOutcome.failed_to_start("CannotPullContainerError: pull image manifest has been retried 5 time(s)")

    pipeline = make_pipeline("shop", task_runner=cannot_pull)
    before = task_definitions(pipeline)

    report = pipeline.run({"image_tag": "v1.1.0"}, name="no-pull")

    assert (report.status, report.error) == ("FAILED", "MigrationFailed")
    assert "stopped before the migration ran: CannotPullContainerError" in (report.cause or "")
    assert "TaskFailedToStart" in (report.cause or "")
    assert task_definitions(pipeline) == before
    record = assert_recorded(pipeline, "Failed", "MigrationFailed")
    assert record["migration"]["exit_code"] is None
    assert record["snapshot_id"] == "pre-deploy-no-pull"


# 4 -------------------------------------------------------------------------------------------------
def test_migration_past_its_timeout_is_stopped(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline("shop", task_runner=lambda *args: None, parameters={"MigrationTimeoutSeconds": "900"})
    before = task_definitions(pipeline)

    report = pipeline.run({"image_tag": "v1.1.0"}, name="slow-migration")

    assert (report.status, report.error) == ("FAILED", "MigrationTimedOut")
    assert "MigrationTimeoutSeconds=900" in (report.cause or "")
    [task_arn] = pipeline.client("ecs").list_tasks(cluster=pipeline.world.cluster_name, desiredStatus="STOPPED")[
        "taskArns"
    ]
    task = pipeline.client("ecs").describe_tasks(cluster=pipeline.world.cluster_name, tasks=[task_arn])["tasks"][0]
    assert task["lastStatus"] == "STOPPED"
    assert "exceeded its 900s timeout" in task["stoppedReason"]
    assert task_definitions(pipeline) == before
    assert_recorded(pipeline, "Failed", "MigrationTimedOut")


# 5 -------------------------------------------------------------------------------------------------
def test_exit_code_zero_is_not_trusted_when_the_database_disagrees(make_pipeline: PipelineFactory) -> None:
    def lying_migrator(task_definition: Any, overrides: Any, started_by: str) -> TaskOutcome:
        pipeline.query(
            'CREATE TABLE "_prisma_migrations" (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, '
            "finished_at timestamptz, migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz, "
            "started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count int NOT NULL DEFAULT 0);"
            "INSERT INTO _prisma_migrations (id, checksum, migration_name, logs) "
            "VALUES ('1', 'x', '20250101090000_init', 'relation already exists') RETURNING 1"
        )
        return TaskOutcome.exited(0, ["All migrations have been successfully applied."])

    pipeline = make_pipeline("shop", task_runner=lying_migrator)
    before = task_definitions(pipeline)

    report = pipeline.run({"image_tag": "v1.1.0"}, name="lying")

    assert (report.status, report.error) == ("FAILED", "SchemaVerificationFailed")
    assert "20250101090000_init" in (report.cause or "")
    assert task_definitions(pipeline) == before
    assert "StartRollout" not in report.state_names
    assert_recorded(pipeline, "Failed", "SchemaVerificationFailed")


# 6 -------------------------------------------------------------------------------------------------
def test_failed_rollout_rolls_every_service_back(make_pipeline: PipelineFactory) -> None:
    holder: dict[str, Pipeline] = {}

    def breaker(service: str, task_definition_arn: str) -> str:
        return "COMPLETED" if task_definition_arn == initial[service] else "FAILED"

    pipeline = holder["p"] = make_pipeline("shop", rollout_policy=breaker)
    initial = dict(pipeline.world.task_definition_arns)

    report = pipeline.run({"image_tag": "v1.1.0"}, name="breaker")

    assert (report.status, report.error) == ("FAILED", "RolloutFailed")
    assert (report.cause or "").startswith("Rolled back: RolloutFailed")
    assert "circuit breaker" in (report.cause or "")
    for service in pipeline.world.spec.services:
        described = pipeline.world.service(service)
        assert described["taskDefinition"] == initial[service]
        primary = next(d for d in described["deployments"] if d["status"] == "PRIMARY")
        assert (primary["taskDefinition"], primary["rolloutState"]) == (initial[service], "COMPLETED")
    assert "CheckRollback" in report.state_names or "RollbackDone" in report.state_names
    record = assert_recorded(pipeline, "RolledBack", "RolloutFailed")
    assert {s["name"] for s in record["rollback"]["services"]} == set(pipeline.world.spec.services)


def test_rollout_that_never_completes_times_out_and_rolls_back(make_pipeline: PipelineFactory) -> None:
    def stuck(service: str, task_definition_arn: str) -> str:
        return "COMPLETED" if task_definition_arn == initial[service] else "IN_PROGRESS"

    pipeline = make_pipeline("shop", rollout_policy=stuck, parameters={"RolloutTimeoutSeconds": "1200"})
    initial = dict(pipeline.world.task_definition_arns)

    report = pipeline.run({"image_tag": "v1.1.0"}, name="stuck")

    assert (report.status, report.error) == ("FAILED", "RolloutTimedOut")
    assert task_definitions(pipeline) == initial
    assert_recorded(pipeline, "RolledBack", "RolloutTimedOut")


# 7 -------------------------------------------------------------------------------------------------
def test_failed_rollback_is_loud_and_names_the_manual_command(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline("shop", rollout_policy=lambda service, arn: "FAILED")
    initial = dict(pipeline.world.task_definition_arns)

    report = pipeline.run({"image_tag": "v1.1.0"}, name="all-broken")

    assert (report.status, report.error) == ("FAILED", "RollbackFailed")
    cause = report.cause or ""
    assert cause.startswith("ROLLBACK FAILED, ACTION NEEDED")
    for service, arn in initial.items():
        command = f"aws ecs update-service --cluster {pipeline.world.cluster_name} --service {service} --task-definition {arn}"
        assert command in cause
    [record] = pipeline.records()
    assert record["outcome"] == "RollbackFailed"
    [note] = pipeline.world.notifications()
    assert note["Subject"].startswith("ACTION NEEDED: [RollbackFailed]")
    assert [e["detail-type"] for e in pipeline.world.outcome_events()] == ["Deployment RollbackFailed"]
    assert pipeline.locks() == []


# 8 -------------------------------------------------------------------------------------------------
def flaky(handler_path: str, failures: int, error: type[Exception]) -> Any:
    """A route that fails `failures` times with `error` before it behaves."""
    from ecs_migrate_deploy.emulation.seams.awslambda import resolve_handler

    calls = {"n": 0}

    def route(event: dict[str, Any], context: Any) -> Any:
        calls["n"] += 1
        if calls["n"] <= failures:
            raise error("throttled (test)")
        return resolve_handler(handler_path)(event, context)

    route.calls = calls  # type: ignore[attr-defined]
    return route


LambdaServiceException = type("Lambda.ServiceException", (Exception,), {})
TooManyRequests = type("Lambda.TooManyRequestsException", (Exception,), {})


@pytest.mark.parametrize("error", [TransientAwsError, LambdaServiceException, TooManyRequests])
def test_transient_errors_are_retried_with_backoff(make_pipeline: PipelineFactory, error: type[Exception]) -> None:
    route = flaky("deploy_pipeline.handlers.snapshot.start", 2, error)
    pipeline = make_pipeline("shop", routes={"StartSnapshotFunction": route})

    report = pipeline.run({"image_tag": "v1.1.0"}, name="flaky")

    assert report.status == "SUCCEEDED", (report.error, report.cause)
    assert route.calls["n"] == 3
    retries = [s for s in report.sleeps if s.kind == "retry"]
    # exponential backoff with full jitter: attempt n waits up to Interval * BackoffRate^(n-1)
    interval = 2 if error is not TransientAwsError else 5
    assert len(retries) == 2
    assert 0 <= retries[0].seconds <= interval and 0 <= retries[1].seconds <= interval * 2


def test_a_fault_that_persists_ends_failed_and_recorded(make_pipeline: PipelineFactory) -> None:
    route = flaky("deploy_pipeline.handlers.snapshot.start", 100, TransientAwsError)
    pipeline = make_pipeline("shop", routes={"StartSnapshotFunction": route})

    report = pipeline.run({"image_tag": "v1.1.0"}, name="throttled")

    assert (report.status, report.error) == ("FAILED", "TransientAwsError")
    assert route.calls["n"] == 6  # the first try and the 5 retries of the ASL's policy
    assert_recorded(pipeline, "Failed", "TransientAwsError")


# 9 -------------------------------------------------------------------------------------------------
def hold_lock(pipeline: Pipeline, owner: str, expires_in: int) -> None:
    from deploy_pipeline.logic.polling import now

    for service in pipeline.world.spec.services:
        pipeline.client("dynamodb").put_item(
            TableName=pipeline.world.table_name,
            Item={
                "pk": {"S": f"LOCK#{pipeline.world.cluster_name}/{service}"},
                "sk": {"S": "LOCK"},
                "execution": {"S": owner},
                "digest": {"S": "sha256:" + "0" * 64},
                "acquired_at": {"N": str(int(now().timestamp()))},
                "expires_at": {"N": str(int(now().timestamp()) + expires_in)},
            },
        )


def test_lock_held_fails_at_once_when_the_stack_says_so(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline("shop", parameters={"OnLockHeld": "fail"})
    hold_lock(pipeline, "other-deployment", 3600)

    report = pipeline.run({"image_tag": "v1.1.0"}, name="second")

    assert (report.status, report.error) == ("FAILED", "DeploymentInProgress")
    assert "other-deployment" in (report.cause or "")
    assert pipeline.client("rds").describe_db_snapshots(SnapshotType="manual")["DBSnapshots"] == []
    [record] = pipeline.records()
    assert record["outcome"] == "Failed"
    # the other execution's locks are still there: ReleaseLock only deletes our own
    assert {item["execution"]["S"] for item in pipeline.locks()} == {"other-deployment"}


def test_lock_held_waits_within_budget_then_runs(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline("shop", parameters={"LockWaitSeconds": "600"})
    hold_lock(pipeline, "other-deployment", 100)  # expires after ~4 emulated waits

    report = pipeline.run({"image_tag": "v1.1.0"}, name="waiter")

    assert report.status == "SUCCEEDED", (report.error, report.cause)
    assert report.state_names.count("WaitForLock") >= 2
    assert pipeline.locks() == []


def test_lock_wait_budget_exhausted_fails_deployment_in_progress(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline("shop", parameters={"LockWaitSeconds": "120"})
    hold_lock(pipeline, "other-deployment", 3600)

    report = pipeline.run({"image_tag": "v1.1.0"}, name="impatient")

    assert (report.status, report.error) == ("FAILED", "DeploymentInProgress")
    assert "budget is 120s" in (report.cause or "")


def test_pushing_an_already_deployed_digest_is_a_recorded_noop(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline("shop")
    assert pipeline.run({"image_tag": "v1.1.0"}, name="first").status == "SUCCEEDED"
    pipeline.world.notifications(), pipeline.world.outcome_events()
    digest = pipeline.world.digests["v1.1.0"]
    pipeline.client("ecr").put_image(
        repositoryName=pipeline.world.repository_name,
        imageManifest=pipeline.client("ecr").batch_get_image(
            repositoryName=pipeline.world.repository_name, imageIds=[{"imageDigest": digest}]
        )["images"][0]["imageManifest"],
        imageTag="v1.1.0-retag",
    )
    revisions = task_definition_revisions(pipeline)

    report = pipeline.deliver(pipeline.world.ecr_push_event("v1.1.0-retag", digest=digest))

    assert report.status == "SUCCEEDED"
    assert "StartSnapshot" not in report.state_names and "AcquireLock" not in report.state_names
    assert task_definition_revisions(pipeline) == revisions
    outcomes = sorted(r["outcome"] for r in pipeline.records())
    assert outcomes == ["NoOp", "Succeeded"]
    [note] = pipeline.world.notifications()
    assert "[NoOp]" in note["Subject"]


# 10 ------------------------------------------------------------------------------------------------
def test_stopped_execution_leaves_a_lock_that_expires_by_ttl(make_pipeline: PipelineFactory) -> None:
    entered, release = threading.Event(), threading.Event()

    def blocks_the_first_time(task_definition: Any, overrides: Any, started_by: str) -> TaskOutcome | None:
        if started_by != "abandoned":
            return pipeline.local(task_definition, overrides, started_by)
        entered.set()  # the execution is now inside StartMigration, holding its locks
        release.wait(30)
        return None

    pipeline = make_pipeline(
        "shop", task_runner=blocks_the_first_time, parameters={"LockTtlSeconds": "3600", "LockWaitSeconds": "120"}
    )
    arn = pipeline.emulator.start({"image_tag": "v1.1.0"}, name="abandoned")
    assert entered.wait(30)
    pipeline.client("stepfunctions").stop_execution(executionArn=arn, error="Operator", cause="stopped by hand")
    release.set()
    assert pipeline.emulator.wait(arn).status == "ABORTED"
    assert {item["execution"]["S"] for item in pipeline.locks()} == {"abandoned"}  # nothing ran ReleaseLock

    blocked = pipeline.run({"image_tag": "v1.1.0"}, name="blocked")
    assert (blocked.status, blocked.error) == ("FAILED", "DeploymentInProgress")
    assert "abandoned" in (blocked.cause or "")

    pipeline.emulator.advance_clock(3600)  # past the TTL: the lock counts as free before DynamoDB deletes it
    after = pipeline.run({"image_tag": "v1.1.0"}, name="after-ttl")
    assert after.visits("AcquireLock")[0].output["lock"]["acquired"] is True
    assert after.status == "SUCCEEDED", (after.error, after.cause)


# 11 ------------------------------------------------------------------------------------------------
def test_restore_policy_restores_the_snapshot_beside_the_database(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline("broken", parameters={"DbRollbackPolicy": "restore"})

    report = pipeline.run({"image_tag": "v1.1.0"}, name="restore-me")

    assert (report.status, report.error) == ("FAILED", "MigrationFailed")
    restored = pipeline.client("rds").describe_db_instances(DBInstanceIdentifier="restored-restore-me")["DBInstances"]
    assert restored[0]["DBInstanceIdentifier"] == "restored-restore-me"
    assert "being restored to a new instance restored-restore-me" in (report.cause or "")
    assert "migrate resolve --rolled-back 20250320100000_add_not_null_sku" in (report.cause or "")
    record = assert_recorded(pipeline, "Failed", "MigrationFailed")
    assert record["rollback"]["database"]["restored_identifier"] == "restored-restore-me"


def test_keep_policy_reports_the_snapshot_and_the_restore_command(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline("broken")

    report = pipeline.run({"image_tag": "v1.1.0"}, name="keep-me")

    cause = report.cause or ""
    assert "snapshot pre-deploy-keep-me is kept" in cause
    assert "aws rds restore-db-instance-from-db-snapshot --db-instance-identifier restored-keep-me" in cause
    assert "--db-snapshot-identifier pre-deploy-keep-me" in cause
    instances = pipeline.client("rds").describe_db_instances()["DBInstances"]
    assert [i["DBInstanceIdentifier"] for i in instances] == [pipeline.world.db_identifier]


# 12 ------------------------------------------------------------------------------------------------
def test_retention_deletes_only_our_oldest_snapshots(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline(
        "shop", image_tags=("v1.0.0", "v1.1.0", "v1.2.0", "v1.3.0"), parameters={"SnapshotRetention": "2"}
    )
    rds = pipeline.client("rds")
    db = pipeline.world.db_identifier
    rds.create_db_snapshot(DBSnapshotIdentifier="pre-deploy-not-ours", DBInstanceIdentifier=db)  # prefix, no tag
    rds.create_db_snapshot(DBSnapshotIdentifier="nightly-manual", DBInstanceIdentifier=db)
    # Another stack deploying an app that shares this database: its snapshots carry our tags but its name.
    other_stack = [
        {"Key": "managed-by", "Value": "ecs-migrate-deploy"},
        {"Key": "ecs-migrate-deploy:stack", "Value": "billing-deploy"},
    ]
    for number in range(3):
        rds.create_db_snapshot(
            DBSnapshotIdentifier=f"pre-deploy-billing-{number}", DBInstanceIdentifier=db, Tags=other_stack
        )

    for number, tag in enumerate(("v1.1.0", "v1.2.0", "v1.3.0")):
        assert pipeline.run({"image_tag": tag}, name=f"release-{number}").status == "SUCCEEDED"

    assert only_our_snapshots(pipeline) == [
        "nightly-manual",
        "pre-deploy-billing-0",
        "pre-deploy-billing-1",
        "pre-deploy-billing-2",
        "pre-deploy-not-ours",
        "pre-deploy-release-1",
        "pre-deploy-release-2",
    ]
    tags = rds.list_tags_for_resource(
        ResourceName=rds.describe_db_snapshots(DBSnapshotIdentifier="pre-deploy-release-2")["DBSnapshots"][0][
            "DBSnapshotArn"
        ]
    )["TagList"]
    assert {"Key": "ecs-migrate-deploy:stack", "Value": pipeline.world.spec.stack_name} in tags
