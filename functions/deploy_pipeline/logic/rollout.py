"""Roll the services onto the new image and watch each PRIMARY deployment until it completes."""

from __future__ import annotations

from deploy_pipeline.aws import ecs
from deploy_pipeline.errors import RolloutFailed, RolloutTimedOut
from deploy_pipeline.logic.polling import FIRST_WAIT_SECONDS, elapsed_seconds, next_wait, now
from deploy_pipeline.models.state import PipelineState, RolloutResult, ServiceRollout
from deploy_pipeline.settings import Settings


def start(state: PipelineState, settings: Settings) -> RolloutResult:
    plan = state.plan
    rollouts: list[ServiceRollout] = []
    for target in plan.services:
        revision = ecs.register_revision(
            target.task_definition_arn, plan.image.repository_uri, plan.image.uri, plan.deployment_id
        )
        deployment_id = ecs.update_service(plan.cluster, target.name, revision)
        rollouts.append(
            ServiceRollout(
                name=target.name,
                task_definition_arn=revision,
                previous_task_definition_arn=target.task_definition_arn,
                deployment_id=deployment_id,
            )
        )
    return RolloutResult(services=rollouts, started_at=now(), wait_seconds=FIRST_WAIT_SECONDS["rollout"])


def watch(
    cluster: str, rollouts: list[ServiceRollout], *, what: str
) -> tuple[list[ServiceRollout], list[ServiceRollout]]:
    """Refresh each service's PRIMARY deployment; returns (all, failed)."""
    infos = {s.name: s for s in ecs.describe_services(cluster, [r.name for r in rollouts])}
    refreshed: list[ServiceRollout] = []
    failed: list[ServiceRollout] = []
    for rollout in rollouts:
        primary = infos[rollout.name].primary_deployment() or {}
        state = str(primary.get("rolloutState", "IN_PROGRESS"))
        reason = primary.get("rolloutStateReason")
        if primary.get("taskDefinition") != rollout.task_definition_arn:
            state = "FAILED"
            reason = (
                f"the service's primary deployment runs {primary.get('taskDefinition')}, not the {what} revision "
                f"{rollout.task_definition_arn} (another deployment, or ECS rolled it back)"
            )
        updated = rollout.model_copy(update={"rollout_state": state, "reason": reason})
        refreshed.append(updated)
        if state == "FAILED":
            failed.append(updated)
    return refreshed, failed


def check(state: PipelineState, settings: Settings) -> RolloutResult:
    current = state.rollout
    if current is None:
        raise RolloutFailed("CheckRollout ran without a rollout in the state")
    services, failed = watch(state.plan.cluster, current.services, what="new")
    if failed:
        raise RolloutFailed(
            "rollout failed: " + "; ".join(f"{s.name}: {s.reason or 'deployment FAILED'}" for s in failed)
        )
    result = current.model_copy(update={"services": services, "polls": current.polls + 1})
    if all(s.rollout_state == "COMPLETED" for s in services):
        return result.model_copy(update={"done": True, "wait_seconds": 0})
    spent = int(elapsed_seconds(current.started_at))
    if spent >= settings.rollout_timeout_seconds:
        pending = ", ".join(s.name for s in services if s.rollout_state != "COMPLETED")
        raise RolloutTimedOut(
            f"the rollout of {pending} did not complete within RolloutTimeoutSeconds={settings.rollout_timeout_seconds}"
        )
    return result.model_copy(update={"wait_seconds": next_wait(current.started_at, settings.rollout_timeout_seconds)})
