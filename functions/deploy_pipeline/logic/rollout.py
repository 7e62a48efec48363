"""Roll the services onto the new image and watch each PRIMARY deployment until it completes."""

from __future__ import annotations

from deploy_pipeline.aws import ecs
from deploy_pipeline.errors import RolloutFailed, RolloutTimedOut
from deploy_pipeline.logic.polling import FIRST_WAIT_SECONDS, elapsed_seconds, next_wait, now
from deploy_pipeline.models.state import PipelineState, RolloutResult, ServiceRollout
from deploy_pipeline.settings import Settings


def start(state: PipelineState, settings: Settings) -> RolloutResult:
    plan = state.plan
    current = {s.name: s for s in ecs.describe_services(plan.cluster, [t.name for t in plan.services])}
    rollouts: list[ServiceRollout] = []
    for target in plan.services:
        revision = ecs.register_revision(
            target.task_definition_arn, plan.image.repository_uri, plan.image.uri, plan.deployment_id
        )
        rollouts.append(
            ServiceRollout(
                name=target.name,
                task_definition_arn=revision,
                previous_task_definition_arn=target.task_definition_arn,
                deployment_id=deployment_of(current[target.name], revision)
                or ecs.update_service(plan.cluster, target.name, revision),
            )
        )
    return RolloutResult(services=rollouts, started_at=now(), wait_seconds=FIRST_WAIT_SECONDS["rollout"])


def deployment_of(service: ecs.ServiceInfo, revision: str) -> str | None:
    """The id of the service's deployment of `revision`, if one was started already (by a run of
    StartRollout whose result was lost): starting another would start the rollout over, or put a
    revision ECS has rolled back in the meantime back."""
    return next((str(d["id"]) for d in service.deployments if d.get("taskDefinition") == revision), None)


def deployment_state(service: ecs.ServiceInfo, revision: str) -> tuple[str, str | None]:
    """(COMPLETED | FAILED | IN_PROGRESS, reason) of the service's rollout to `revision`.

    rolloutState when ECS reports it. Deployment.rolloutState "is only returned for services that
    use the rolling update (ECS) deployment type that aren't behind a Classic Load Balancer"
    (botocore's ecs model); without it, the rule of `aws ecs wait services-stable` (botocore's ecs
    waiters-2.json, ServicesStable: `length(deployments) == 1 && runningCount == desiredCount`). That
    rule has no failure state: a failing deployment there stays IN_PROGRESS until the timeout.
    """
    primary = service.primary_deployment() or {}
    running = primary.get("taskDefinition")
    if running != revision:
        failed = next(
            (
                d
                for d in service.deployments
                if d.get("taskDefinition") == revision and d.get("rolloutState") == "FAILED"
            ),
            None,
        )
        if failed is not None:
            return "FAILED", (
                f"ECS's deployment circuit breaker rolled it back to {running} "
                f"({failed.get('rolloutStateReason') or 'deployment FAILED'})"
            )
        return "FAILED", f"the service's primary deployment runs {running}, not {revision} (another deployment)"
    if "rolloutState" in primary:
        return str(primary["rolloutState"]), primary.get("rolloutStateReason")
    if len(service.deployments) == 1 and service.running_count == service.desired_count:
        return "COMPLETED", f"steady: {service.running_count} of {service.desired_count} tasks running"
    return "IN_PROGRESS", (
        f"{service.running_count} of {service.desired_count} tasks running, {len(service.deployments)} deployments"
        f" ({primary.get('failedTasks', 0)} failed tasks in the new one)"
    )


def watch(cluster: str, rollouts: list[ServiceRollout]) -> tuple[list[ServiceRollout], list[ServiceRollout]]:
    """Refresh each service's deployment state; returns (all, failed)."""
    infos = {s.name: s for s in ecs.describe_services(cluster, [r.name for r in rollouts])}
    refreshed: list[ServiceRollout] = []
    failed: list[ServiceRollout] = []
    for rollout in rollouts:
        state, reason = deployment_state(infos[rollout.name], rollout.task_definition_arn)
        updated = rollout.model_copy(update={"rollout_state": state, "reason": reason})
        refreshed.append(updated)
        if state == "FAILED":
            failed.append(updated)
    return refreshed, failed


def check(state: PipelineState, settings: Settings) -> RolloutResult:
    current = state.rollout
    if current is None:
        raise RolloutFailed("CheckRollout ran without a rollout in the state")
    services, failed = watch(state.plan.cluster, current.services)
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
