"""The migration as a one-off ECS task from the NEW image, run once, watched, stopped at its timeout."""

from __future__ import annotations

import re

from deploy_pipeline.aws import ecs, task_logs
from deploy_pipeline.errors import MigrationFailed, MigrationTimedOut
from deploy_pipeline.logic import migration_tasks
from deploy_pipeline.logic.polling import FIRST_WAIT_SECONDS, elapsed_seconds, next_wait, now
from deploy_pipeline.models.state import MigrationResult, PipelineState
from deploy_pipeline.settings import Settings

# Prisma names the failed migration as "Migration name: X" (native engine) or migration_name="X" (WASM).
FINISHED_STOP_CODE = "EssentialContainerExited"
"""The only stopCode of a task whose migrator ended by itself. Any other (SpotInterruption,
TerminationNotice, UserInitiated, ServiceSchedulerInitiated, ...) means ECS stopped it: the container's
exit code is then how it answered SIGTERM, not whether the migration finished (botocore's ECS model,
TaskStopCode; Developer Guide, "Amazon ECS stopped task error codes")."""
_PRISMA_MIGRATION_NAME = re.compile(r"Migration name: (\S+)|migration_name=\"([^\"]+)\"")


def start(state: PipelineState, settings: Settings) -> MigrationResult:
    """Run it once: a retry (its result lost after RunTask) reuses the revision and, through RunTask's
    clientToken, gets the task the first run started."""
    plan = state.plan
    target = plan.services[0]
    task_definition_arn = ecs.register_revision(
        target.task_definition_arn, plan.image.repository_uri, plan.image.uri, plan.deployment_id
    )
    service = ecs.describe_services(plan.cluster, [target.name])[0]
    task_arn = ecs.run_migration_task(
        service,
        plan.cluster,
        task_definition_arn,
        plan.migration_container,
        plan.migration_command,
        migration_tasks.started_by(plan),
        migration_tasks.client_token(plan.deployment_id),
    )
    definition, _ = ecs.describe_task_definition(task_definition_arn)
    location = task_logs.awslogs_location(definition, plan.migration_container, task_arn)
    return MigrationResult(
        task_arn=task_arn,
        task_definition_arn=task_definition_arn,
        started_at=now(),
        wait_seconds=FIRST_WAIT_SECONDS["migration"],
        log_group=location[0] if location else None,
        log_stream=location[1] if location else None,
    )


def check(state: PipelineState, settings: Settings) -> MigrationResult:
    current = state.migration
    if current is None:
        raise MigrationFailed("CheckMigration ran without a migration task in the state")
    plan = state.plan
    status = ecs.task_status(plan.cluster, current.task_arn, plan.migration_container)
    result = current.model_copy(
        update={
            "last_status": status.last_status,
            "exit_code": status.exit_code,
            "stopped_reason": status.stopped_reason,
            "polls": current.polls + 1,
        }
    )
    if status.last_status == "STOPPED":
        result.log_tail = _tail(result)
        if status.exit_code == 0 and status.stop_code == FINISHED_STOP_CODE:
            return result.model_copy(update={"done": True, "wait_seconds": 0})
        raise MigrationFailed(_failure_text(result, status, plan.migration_command))
    spent = int(elapsed_seconds(current.started_at))
    if spent >= settings.migration_timeout_seconds:
        reason = f"ecs-migrate-deploy: migration exceeded its {settings.migration_timeout_seconds}s timeout"
        ecs.stop_task(plan.cluster, current.task_arn, reason)
        tail = _tail(result)
        raise MigrationTimedOut(
            f"the migration task ran {spent}s, past MigrationTimeoutSeconds={settings.migration_timeout_seconds}, "
            f"and was stopped (task {current.task_arn}); the database may be partly migrated."
            + _log_text(tail)
            + _prisma_hint(plan.migration_command, tail)
        )
    return result.model_copy(update={"wait_seconds": next_wait(current.started_at, settings.migration_timeout_seconds)})


def _tail(result: MigrationResult) -> list[str]:
    if not (result.log_group and result.log_stream):
        return []
    return task_logs.tail(result.log_group, result.log_stream)


def _failure_text(result: MigrationResult, status: ecs.TaskStatus, command: list[str]) -> str:
    exit_code = status.exit_code
    if exit_code is None:
        text = (
            f"the migration task stopped before the migration ran: {result.stopped_reason or 'no reason given'}"
            + (f" (stopCode {status.stop_code})" if status.stop_code else "")
            + (f"; container: {status.container_reason}" if status.container_reason else "")
            + f"; task {result.task_arn}"
        )
        return text + _log_text(result.log_tail)
    if exit_code == 0:
        return (
            f"the migration container exited 0 but ECS stopped the task ({status.stop_code or 'no stopCode'}: "
            f"{result.stopped_reason or 'no reason given'}), so the migration may not have finished: a migrator "
            f"that exits 0 on SIGTERM looks successful when it was interrupted; task {result.task_arn}"
            + _log_text(result.log_tail)
        )
    error = (
        task_logs.first_database_error(result.log_group, result.log_stream)
        if result.log_group and result.log_stream
        else None
    ) or task_logs.database_error(result.log_tail)
    return (
        f"the migration task exited with code {exit_code}"
        + (f" ({result.stopped_reason})" if result.stopped_reason else "")
        + f"; task {result.task_arn}"
        + (f"\nDatabase error: {error}" if error else "")
        + _log_text(result.log_tail)
        + _prisma_hint(command, result.log_tail)
    )


def _log_text(tail: list[str]) -> str:
    if not tail:
        return "; no log output was found"
    return "\nLast log lines:\n" + "\n".join(tail[-20:])


def _prisma_hint(command: list[str], tail: list[str]) -> str:
    if not any("prisma" in part for part in command):
        return ""
    names = [m.group(1) or m.group(2) for line in tail for m in _PRISMA_MIGRATION_NAME.finditer(line)]
    name = names[-1] if names else "<failed migration name>"
    return (
        "\nPrisma records the failed migration in _prisma_migrations and refuses further deploys (P3009) until it is"
        f" resolved: fix the database, then run `npx prisma migrate resolve --rolled-back {name}` and push a fixed image."
    )
