"""Put every service back on the task definition recorded at Resolve; the database per policy.

The database is never cut over automatically: `keep` reports the snapshot and the restore
command, `restore` restores it to a NEW instance/cluster beside the original and reports its name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from deploy_pipeline.aws import ecs, rds
from deploy_pipeline.errors import RollbackFailed
from deploy_pipeline.logic import migration_tasks
from deploy_pipeline.logic.identifiers import restored_identifier
from deploy_pipeline.logic.polling import FIRST_WAIT_SECONDS, elapsed_seconds, next_wait, now
from deploy_pipeline.logic.rollout import watch
from deploy_pipeline.models.state import (
    DatabaseRollback,
    MigrationTaskSeen,
    PipelineState,
    RollbackResult,
    ServiceRollout,
)
from deploy_pipeline.settings import Settings

STOP_REASON = "ecs-migrate-deploy: the deployment is rolling back"


def start(state: PipelineState, settings: Settings) -> RollbackResult:
    """Stop the deployment's migrator first (whatever failed, it must not run on behind the rollback),
    then put the services back and decide about the database."""
    migrated = state.plan.database is not None and not state.plan.options.rollback
    tasks = migration_tasks.stop_all(state.plan, STOP_REASON) if migrated else []
    rolled_back = _services(state)
    database = _database(state, settings, tasks)
    return RollbackResult(
        services=rolled_back,
        database=database,
        migration_tasks=tasks,
        started_at=now(),
        done=not rolled_back and not migration_tasks.still_running(tasks) and not _restore_pending(state, database),
        wait_seconds=FIRST_WAIT_SECONDS["rollback"],
    )


def _services(state: PipelineState) -> list[ServiceRollout]:
    """Each service this execution changed, with the deployment that puts it back, to be watched.

    What to watch is read from the service's deployments, not from its task definition: a service
    already on the recorded revision was either never touched, or is being put back already, by
    this Lambda's earlier run (its result lost after UpdateService) or by ECS itself (a circuit
    breaker with `rollback: true` rolls back "to the last deployment that completed successfully").
    ECS's rollback reuses that deployment ("When the rollback starts, the deployment changes from a
    COMPLETED to IN_PROGRESS", Developer Guide, "Deployment circuit breaker"), so once it completes
    it looks untouched: a service StartRollout updated (in `state.rollout`) counts as touched anyway.
    """
    plan = state.plan
    current = {s.name: s for s in ecs.describe_services(plan.cluster, [t.name for t in plan.services])}
    rolled_out = {s.name: s.task_definition_arn for s in state.rollout.services} if state.rollout else {}
    rolled_back: list[ServiceRollout] = []
    for target in plan.services:
        service = current[target.name]
        primary = service.primary_deployment() or {}
        if primary.get("taskDefinition") == target.task_definition_arn:
            if target.name not in rolled_out and _untouched(service, primary, state.execution.started_at):
                continue
            deployment_id = primary.get("id")
        else:
            # A failure here reaches the ASL's Catch; Record then names the manual commands.
            deployment_id = ecs.update_service(plan.cluster, target.name, target.task_definition_arn)
        replaced = rolled_out.get(target.name) or next(
            (d["taskDefinition"] for d in service.deployments if d.get("taskDefinition") != target.task_definition_arn),
            service.task_definition_arn,
        )
        rolled_back.append(
            ServiceRollout(
                name=target.name,
                task_definition_arn=target.task_definition_arn,
                previous_task_definition_arn=replaced,
                deployment_id=deployment_id,
            )
        )
    return rolled_back


def _untouched(service: ecs.ServiceInfo, primary: dict[str, Any], execution_started: datetime) -> bool:
    """Alone, settled, and older than this execution (StartRollout may have failed before or after
    its UpdateService call, so its absence from the state proves nothing)."""
    created = primary.get("createdAt")
    return (
        len(service.deployments) == 1
        and primary.get("rolloutState", "COMPLETED") == "COMPLETED"
        and isinstance(created, datetime)
        and created < execution_started
    )


def check(state: PipelineState, settings: Settings) -> RollbackResult:
    current = state.rollback
    if current is None:
        raise RollbackFailed("CheckRollback ran without a rollback in the state")
    tasks = migration_tasks.refresh(state.plan, current.migration_tasks)
    services, failed = watch(state.plan.cluster, current.services)
    if failed:
        raise RollbackFailed(
            "the rollback deployment failed: "
            + "; ".join(f"{s.name}: {s.reason or 'FAILED'}" for s in failed)
            + ". Finish it by hand: "
            + " && ".join(manual_command(state.plan.cluster, s.name, s.task_definition_arn) for s in failed)
        )
    database = current.database
    if database is not None and _restore_pending(state, database):
        assert database.restored_identifier is not None
        writer = rds.ensure_cluster_writer(state.plan.migrated_database(), database.restored_identifier)
        database = database.model_copy(update={"restored_writer": writer})
    result = current.model_copy(
        update={"services": services, "migration_tasks": tasks, "database": database, "polls": current.polls + 1}
    )
    if (
        all(s.rollout_state == "COMPLETED" for s in services)
        and not migration_tasks.still_running(tasks)
        and not _restore_pending(state, database)
    ):
        return result.model_copy(update={"done": True, "wait_seconds": 0})
    if elapsed_seconds(current.started_at) >= settings.rollout_timeout_seconds:
        pending = [s for s in services if s.rollout_state != "COMPLETED"]
        if not pending and database is not None and _restore_pending(state, database):
            assert database.restored_identifier is not None
            raise RollbackFailed(
                f"the services are back, but the restored cluster {database.restored_identifier} did not become "
                f"available within RolloutTimeoutSeconds={settings.rollout_timeout_seconds}, so it has no writer "
                "yet. Once it is available: "
                + rds.writer_command(state.plan.migrated_database(), database.restored_identifier)
            )
        if not pending:
            raise RollbackFailed(
                f"the migration task(s) {', '.join(migration_tasks.still_running(tasks))} did not stop within "
                f"RolloutTimeoutSeconds={settings.rollout_timeout_seconds} of being asked to; the services are back. "
                "Stop them by hand (aws ecs stop-task) before the next deployment"
            )
        raise RollbackFailed(
            f"the rollback of {', '.join(s.name for s in pending)} did not complete within "
            f"RolloutTimeoutSeconds={settings.rollout_timeout_seconds}. Check the service events, then: "
            + " && ".join(manual_command(state.plan.cluster, s.name, s.task_definition_arn) for s in pending)
        )
    return result.model_copy(update={"wait_seconds": next_wait(current.started_at, settings.rollout_timeout_seconds)})


def _restore_pending(state: PipelineState, database: DatabaseRollback | None) -> bool:
    return database is not None and database.restore_pending(state.plan.migrated_database().kind)


def manual_command(cluster: str, service: str, task_definition_arn: str) -> str:
    return f"aws ecs update-service --cluster {cluster} --service {service} --task-definition {task_definition_arn}"


def _database(state: PipelineState, settings: Settings, tasks: list[MigrationTaskSeen]) -> DatabaseRollback | None:
    """Only a database the migration may have changed needs a decision: one a migration task was
    started against, whether or not its result reached the state. Its restore point is the snapshot,
    or the time before the migration (RestorePoint=point-in-time): reported (keep) or restored beside."""
    if state.migration is None and not tasks:
        return None
    restore_time = state.snapshot.restore_time if state.snapshot else None
    snapshot = state.snapshot.snapshot_id if state.snapshot and state.snapshot.done and not restore_time else None
    # RDS instance and cluster identifiers are at most 63 characters, and a restored cluster's writer
    # adds its suffix; a cut id keeps a hash, so a retried rollback finds its own restore and never
    # mistakes another deployment's for it.
    source = state.plan.migrated_database()
    restored = restored_identifier(state.plan.deployment_id, source.kind)
    if restore_time is not None:
        command: str | None = rds.point_in_time_command(source, restore_time, restored)
    else:
        command = rds.restore_command(source, snapshot, restored) if snapshot else None
    if settings.db_rollback_policy == "restore" and command:
        if restore_time is not None:
            rds.restore_to_point_in_time(source, restore_time, restored)
        elif snapshot:
            rds.restore_snapshot(source, snapshot, restored)
        writer = rds.ensure_cluster_writer(source, restored) if source.kind == "cluster" else None
        return DatabaseRollback(
            policy="restore",
            snapshot_id=snapshot,
            restore_time=restore_time,
            restored_identifier=restored,
            restored_writer=writer,
            restore_command=command,
        )
    return DatabaseRollback(
        policy=settings.db_rollback_policy, snapshot_id=snapshot, restore_time=restore_time, restore_command=command
    )
