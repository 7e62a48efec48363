"""The migration tasks a deployment started, found by `startedBy` and stopped before its lock is released.

The state may not know them: RunTask can succeed and the Lambda's result still be lost (a timeout
after the call), and any error after RunTask leaves `state.migration` without the task's end. So
every task is looked up in ECS by the deployment's `startedBy`, never taken from the state alone:
a migrator still running when the lock is released would race the next deployment's migrator on
the same database.

StopTask is not instant: ECS sends SIGTERM and the task reaches STOPPED after the container exits
or its stop timeout (30 s by default, at most 120 s) ends in SIGKILL (ECS API Reference, StopTask).
Callers therefore report tasks still stopping and look again; none of them sleeps.
"""

from __future__ import annotations

from deploy_pipeline.aws import ecs
from deploy_pipeline.logic.identifiers import derived_identifier
from deploy_pipeline.models.state import DeploymentPlan, MigrationTaskSeen

STARTED_BY_MAX_LENGTH = 128
"""RunTask's startedBy: "Up to 128 letters (uppercase and lowercase), numbers, hyphens (-), forward slash (/), and underscores (_)"."""
CLIENT_TOKEN_MAX_LENGTH = 64
"""RunTask's clientToken: "Up to 64 characters are allowed" (botocore's ECS model)."""


def started_by(plan: DeploymentPlan) -> str:
    return plan.deployment_id[:STARTED_BY_MAX_LENGTH]


def client_token(deployment_id: str) -> str:
    """One per deployment (the deployment id, hashed down when longer than RunTask allows)."""
    return derived_identifier("", deployment_id, CLIENT_TOKEN_MAX_LENGTH)


def stop_all(plan: DeploymentPlan, reason: str) -> list[MigrationTaskSeen]:
    """Every task this deployment started, each one not yet stopping asked to stop; as seen before that."""
    arns = ecs.started_task_arns(plan.cluster, started_by(plan))
    seen: list[MigrationTaskSeen] = []
    for status in ecs.task_statuses(plan.cluster, arns, plan.migration_container):
        asked = not status.stopped and status.desired_status != "STOPPED"
        if asked:
            ecs.stop_task(plan.cluster, status.task_arn, reason)
        seen.append(_seen(status, stop_requested=asked))
    return seen


def refresh(plan: DeploymentPlan, tasks: list[MigrationTaskSeen]) -> list[MigrationTaskSeen]:
    """The same tasks as ECS shows them now; one ECS no longer returns has long stopped."""
    pending = [t.task_arn for t in tasks if not t.stopped]
    if not pending:
        return tasks
    current = {s.task_arn: s for s in ecs.task_statuses(plan.cluster, pending, plan.migration_container)}
    refreshed: list[MigrationTaskSeen] = []
    for task in tasks:
        status = current.get(task.task_arn)
        if task.stopped:
            refreshed.append(task)
        elif status is None:
            refreshed.append(task.model_copy(update={"last_status": "STOPPED"}))
        else:
            refreshed.append(_seen(status, stop_requested=task.stop_requested))
    return refreshed


def still_running(tasks: list[MigrationTaskSeen]) -> list[str]:
    return [t.task_arn for t in tasks if not t.stopped]


def _seen(status: ecs.TaskStatus, *, stop_requested: bool) -> MigrationTaskSeen:
    return MigrationTaskSeen(
        task_arn=status.task_arn,
        last_status=status.last_status,
        exit_code=status.exit_code,
        stop_code=status.stop_code,
        stop_requested=stop_requested,
    )
