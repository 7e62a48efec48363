"""What real AWS does that the default emulated world did not, run through the state machine.

A migration task whose Lambda result is lost (RunTask succeeded, then the invocation timed out), a
task ECS stops rather than one that ends by itself (Fargate Spot), StopTask that takes time, a log
read that fails or starts with an empty page, a database in its backup window, a secret RDS manages
itself. Each behaviour is a seam in `emulation/seams/documented_behaviour.py` or `seams.ecs_tasks.EcsTasks`
that quotes the AWS text it follows.
"""

from __future__ import annotations

import json
from typing import Any

from ecs_migrate_deploy.emulation.seams.base import Seam, _Patches
from ecs_migrate_deploy.emulation.seams.documented_behaviour import DatabaseBackingUp, LogsEmptyFirstPage
from ecs_migrate_deploy.emulation.seams.ecs_tasks import TaskOutcome
from tests.support.pipeline import Pipeline, PipelineFactory

NEW = {"image_tag": "v1.1.0"}
LAMBDA_ATTEMPTS = 7  # the ASL's Retry on Lambda.Unknown / States.Timeout: 1 + MaxAttempts 6


def migration_tasks(pipeline: Pipeline) -> list[dict[str, Any]]:
    ecs = pipeline.client("ecs")
    cluster = pipeline.world.cluster_name
    arns = [
        arn
        for desired in ("RUNNING", "STOPPED")
        for arn in ecs.list_tasks(cluster=cluster, desiredStatus=desired)["taskArns"]
    ]
    return list(ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]) if arns else []


def failed_attempts(pipeline: Pipeline, report: Any, state: str) -> list[str]:
    """The errors of `state`'s failed invocations, in order (LambdaFunctionFailed events after it was entered)."""
    errors: list[str] = []
    current = None
    for event in report.events:
        if event["type"] == "TaskStateEntered":
            current = event["stateEnteredEventDetails"]["name"]
        elif event["type"] == "LambdaFunctionFailed" and current == state:
            errors.append(event["lambdaFunctionFailedEventDetails"].get("error", ""))
    return errors


def keeps_running(task_definition: dict[str, Any], overrides: list[dict[str, Any]], started_by: str) -> None:
    """A migrator that is still working (a long data migration): it ends only when stopped."""
    return None


# Defect 2 ------------------------------------------------------------------------------------------
def test_a_migration_task_whose_start_result_is_lost_is_stopped_before_the_lock_is_released(
    make_pipeline: PipelineFactory,
) -> None:
    pipeline = make_pipeline("shop", task_runner=keeps_running)
    # RunTask succeeds every time; every StartMigration result is lost, so the Retry runs out and the
    # Catch goes to StartRollback with no migration in the state.
    pipeline.emulator.seams.lambdas.lose_result(pipeline.function_name("StartMigration"), times=LAMBDA_ATTEMPTS)

    report = pipeline.run(NEW, name="lost-run-task")

    assert report.status == "FAILED"
    [task] = migration_tasks(pipeline)  # one migrator for seven StartMigration runs (startedBy, clientToken)
    assert (task["lastStatus"], task["stopCode"]) == ("STOPPED", "UserInitiated")
    assert "rolling back" in task["stoppedReason"]
    assert pipeline.locks() == []
    cause = pipeline.record()["cause"]
    assert "The migration did not run" not in cause
    assert f"A migration task was started but its result was not seen ({task['taskArn']} stopped by the pipeline" in (
        cause
    )
    # The database decision is made as for any migration that may have changed it.
    assert "pre-deployment snapshot pre-deploy-lost-run-task is kept" in cause


def test_release_lock_waits_for_a_stopping_migrator_whatever_failed_before_it(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline("shop", task_runner=keeps_running)
    router = pipeline.emulator.seams.lambdas
    router.lose_result(pipeline.function_name("StartMigration"), times=LAMBDA_ATTEMPTS)
    # StartRollback stops the task, then every one of its results is lost too: Record and ReleaseLock
    # run with a task that is still stopping and no rollback in the state.
    router.lose_result(pipeline.function_name("StartRollback"), times=LAMBDA_ATTEMPTS)
    # A migrator slow to answer SIGTERM: it still shows DEACTIVATING for the next 9 DescribeTasks
    # (StartRollback's 7 runs see it once each; ReleaseLock's first two runs find it still stopping).
    pipeline.emulator.seams.tasks.stopping_polls = 9

    report = pipeline.run(NEW, name="rollback-lost")

    assert report.status == "FAILED"
    assert failed_attempts(pipeline, report, "ReleaseLock")[:1] == ["MigrationTaskStillRunning"]
    assert "ReleaseLock" in report.state_names
    [task] = migration_tasks(pipeline)
    assert task["lastStatus"] == "STOPPED"
    assert pipeline.locks() == [], "the lock was released in the end"
    assert "A migration task was started but its result was not seen" in pipeline.record()["cause"]


class LogReadsFail(Seam):
    """GetLogEvents answers ServiceUnavailableException, one of its documented errors (botocore's
    CloudWatch Logs model, GetLogEvents: "The service cannot complete the request"), every time."""

    def _apply(self, patches: _Patches) -> None:
        from moto.core.exceptions import JsonRESTError
        from moto.logs.models import LogsBackend

        def get_log_events(backend: Any, *args: Any, **kwargs: Any) -> Any:
            raise JsonRESTError("ServiceUnavailableException", "The service cannot complete the request.")

        patches.set(LogsBackend, "get_log_events", get_log_events)


def test_a_failed_log_read_loses_evidence_and_does_not_fail_a_migration_that_exited_0(
    make_pipeline: PipelineFactory,
) -> None:
    pipeline = make_pipeline("shop", extra_seams=[LogReadsFail()])

    report = pipeline.run(NEW, name="logs-unreadable")

    assert report.status == "SUCCEEDED", report.cause
    record = pipeline.record()
    assert record["outcome"] == "Succeeded"
    assert any("could not be read (ServiceUnavailableException)" in line for line in record["migration"]["log_tail"])


# Defect 11 -----------------------------------------------------------------------------------------
def test_a_spot_interruption_of_a_migrator_that_exits_0_is_a_failed_migration(make_pipeline: PipelineFactory) -> None:
    def interrupted(task_definition: dict[str, Any], overrides: list[dict[str, Any]], started_by: str) -> TaskOutcome:
        return TaskOutcome.interrupted(0, ["Applying migration `20240101_add_orders`", "Received SIGTERM, exiting"])

    pipeline = make_pipeline("shop", task_runner=interrupted)
    before = {s: pipeline.world.service(s)["taskDefinition"] for s in pipeline.world.spec.services}

    report = pipeline.run(NEW, name="spot")

    assert (report.status, report.error) == ("FAILED", "MigrationFailed")
    assert "SpotInterruption" in (report.cause or "") and "may not have finished" in (report.cause or "")
    assert "StartRollout" not in report.state_names
    assert {s: pipeline.world.service(s)["taskDefinition"] for s in pipeline.world.spec.services} == before


# Defect 12: GetLogEvents' empty first page ------------------------------------------------------------
def test_an_empty_first_log_page_is_followed_to_the_failed_migrations_output(make_pipeline: PipelineFactory) -> None:
    def fails(task_definition: dict[str, Any], overrides: list[dict[str, Any]], started_by: str) -> TaskOutcome:
        return TaskOutcome.exited(1, ['ERROR: relation "orders" already exists', "Error: P3018"])

    pages = LogsEmptyFirstPage()
    pipeline = make_pipeline("shop", task_runner=fails, extra_seams=[pages])

    report = pipeline.run(NEW, name="empty-page")

    assert (report.status, report.error) == ("FAILED", "MigrationFailed")
    assert pages.empty_pages == 1
    assert 'relation "orders" already exists' in (report.cause or "")
    assert "no log output was found" not in (report.cause or "")


# Defect 5 ------------------------------------------------------------------------------------------
def test_a_database_in_its_backup_window_is_snapshotted_once_the_backup_ends(make_pipeline: PipelineFactory) -> None:
    busy = DatabaseBackingUp(calls=2)
    pipeline = make_pipeline("shop", extra_seams=[busy])

    report = pipeline.run(NEW, name="backup-window")

    assert report.status == "SUCCEEDED", report.cause
    assert busy.refused == 2
    assert report.state_names.count("CheckSnapshot") >= 2
    snapshots = pipeline.client("rds").describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    assert [s["DBSnapshotIdentifier"] for s in snapshots] == ["pre-deploy-backup-window"]


def test_a_database_busy_past_the_snapshot_timeout_fails_before_anything_is_touched(
    make_pipeline: PipelineFactory,
) -> None:
    busy = DatabaseBackingUp(calls=10_000, status="modifying")
    pipeline = make_pipeline("shop", extra_seams=[busy], parameters={"SnapshotTimeoutSeconds": "600"})

    report = pipeline.run(NEW, name="always-busy")

    assert (report.status, report.error) == ("FAILED", "SnapshotTimedOut")
    assert "still refuses to snapshot" in (report.cause or "") and "modifying" in (report.cause or "")
    assert "StartMigration" not in report.state_names
    assert migration_tasks(pipeline) == []


# Defect 9 ------------------------------------------------------------------------------------------
def test_an_rds_managed_secret_with_only_username_and_password_deploys(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline("shop", rds_managed_secret=True)
    secret = pipeline.client("secretsmanager").get_secret_value(SecretId=pipeline.world.secret_arn)["SecretString"]
    assert set(json.loads(secret)) == {"username", "password"}

    report = pipeline.run(NEW, name="managed-secret")

    assert report.status == "SUCCEEDED", report.cause
    assert pipeline.query("SELECT count(*) FROM _prisma_migrations WHERE finished_at IS NOT NULL")[0][0] > 0


# Defects 1 and 4 -------------------------------------------------------------------------------------
def test_an_aurora_serverless_push_rolled_back_with_restore_gets_a_restored_cluster_with_its_writer(
    make_pipeline: PipelineFactory,
) -> None:
    """Started as EventBridge starts it (a 73-character execution name), on an Aurora Serverless v2
    cluster; the rollout fails and DbRollbackPolicy=restore restores the snapshot beside the database.
    The restored cluster shows `creating` first: its writer is created by CheckRollback once it is
    available, as RestoreDBClusterFromSnapshot's documentation requires."""
    box: dict[str, Pipeline] = {}

    def only_initial_completes(service: str, task_definition_arn: str) -> str:
        return "COMPLETED" if task_definition_arn == box["p"].world.task_definition_arns[service] else "FAILED"

    pipeline = box["p"] = make_pipeline(
        "shop",
        db_kind="cluster",
        db_identifier="acme-aurora",
        aurora_writer_class="db.serverless",
        rollout_policy=only_initial_completes,
        parameters={"DbRollbackPolicy": "restore"},
    )

    report = pipeline.deliver(pipeline.world.ecr_push_event("v1.1.0"))

    assert (report.status, report.error) == ("FAILED", "RolloutFailed")
    record = pipeline.record()
    assert record["outcome"] == "RolledBack"
    database = record["rollback"]["database"]
    rds = pipeline.client("rds")
    [snapshot] = rds.describe_db_cluster_snapshots(DBClusterIdentifier="acme-aurora", SnapshotType="manual")[
        "DBClusterSnapshots"
    ]
    assert snapshot["DBClusterSnapshotIdentifier"] == record["snapshot_id"] == database["snapshot_id"]
    assert len(record["snapshot_id"]) <= 63
    [restored] = rds.describe_db_clusters(DBClusterIdentifier=database["restored_identifier"])["DBClusters"]
    assert restored["EngineVersion"] == "16.4" and restored["ServerlessV2ScalingConfiguration"]
    [member] = restored["DBClusterMembers"]
    assert member["DBInstanceIdentifier"] == database["restored_writer"]
    [writer] = rds.describe_db_instances(DBInstanceIdentifier=database["restored_writer"])["DBInstances"]
    assert writer["DBInstanceClass"] == "db.serverless"
    assert "CheckRollback" in report.state_names
    # What a person would run instead (DbRollbackPolicy=keep) restores the same version, capacity and writer.
    command = database["restore_command"]
    assert "--engine aurora-postgresql --engine-version 16.4" in command
    assert "MinCapacity=0.5,MaxCapacity=4.0" in command
    assert f"create-db-instance --db-instance-identifier {database['restored_writer']}" in command
    assert "--db-instance-class db.serverless" in command
