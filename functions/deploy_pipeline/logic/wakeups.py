"""Event-driven waits: a phase's wait ends when AWS reports the end it waits for, not at the next poll.

After each check that is not done, the ASL waits in a waitForTaskToken state whose timeout is the
interval the check chose (logic/polling.py). AwaitEvent stores the state's task token under the
resources whose events end the wait; NoticeFunction, the target of the template's rules for those
events, wakes it (aws/wakeups.py). Either way the same check runs next, so an event only shortens a
wait: what the phase has reached is always read from AWS by the check, a lost event delays the check
to the fallback timeout (today's polling), and a duplicate, late or foreign event changes nothing.

The events (AWS documentation, EventBridge events of each service; all "best effort"):
- "ECS Task State Change", lastStatus STOPPED: the migration task, by `detail.taskArn`;
- "ECS Deployment State Change", SERVICE_DEPLOYMENT_COMPLETED / _FAILED: a rollout or rollback,
  by `detail.deploymentId`;
- "RDS DB Snapshot Event" / "RDS DB Cluster Snapshot Event": the pre-deploy snapshot, by
  `detail.SourceIdentifier`.
A deployment waiting for another's lock waits for no AWS event: the execution that releases the lock
announces it itself (ReleaseLock, logic/lock.py), by the lock's key.
"""

from __future__ import annotations

from datetime import timedelta

from deploy_pipeline.aws import wakeups
from deploy_pipeline.errors import EventAlreadyArrived
from deploy_pipeline.logic.polling import now
from deploy_pipeline.models.state import AwaitInput, AwaitResult, AwsEvent, NoticeResult, PipelineState, WaitFor
from deploy_pipeline.observability import logger
from deploy_pipeline.settings import Settings

WAKE_TTL = timedelta(days=1)  # longer than any wait (MAX_WAIT_SECONDS), so a mark outlives its phase


def awaited_resources(wait_for: WaitFor, state: PipelineState) -> list[str]:
    """The resources whose events end a wait for `wait_for`, from what the phase's last result holds."""
    if wait_for == "lock":
        return list(state.lock.keys) if state.lock else []
    if wait_for == "snapshot":
        return [state.snapshot.snapshot_id] if state.snapshot else []
    if wait_for == "migration":
        return [state.migration.task_arn] if state.migration else []
    if wait_for == "rollout":
        return [s.deployment_id for s in (state.rollout.services if state.rollout else []) if s.deployment_id]
    rollback = state.rollback
    if rollback is None:
        return []
    deployments = [s.deployment_id for s in rollback.services if s.deployment_id]
    return deployments + [t.task_arn for t in rollback.migration_tasks if t.last_status != "STOPPED"]


def await_event(request: AwaitInput, settings: Settings) -> AwaitResult:
    """Register the wait under each awaited resource; EventAlreadyArrived when one's event came first
    (the ASL's Catch then runs the check at once)."""
    resources = awaited_resources(request.wait_for, request.state)
    expires_at = int((now() + WAKE_TTL).timestamp())
    arrived = [r for r in resources if wakeups.register(settings.table_name, r, request.token, expires_at)]
    if arrived:
        raise EventAlreadyArrived(f"the event for {', '.join(arrived)} arrived before the wait: checking now")
    return AwaitResult(wait_for=request.wait_for, resources=resources)


def event_resource(event: AwsEvent) -> str | None:
    """The resource an event is about, named as awaited_resources names it (None: not one we await)."""
    detail = event.detail
    if event.detail_type == "ECS Task State Change" and detail.get("lastStatus") == "STOPPED":
        return _text(detail.get("taskArn"))
    if event.detail_type == "ECS Deployment State Change":
        return _text(detail.get("deploymentId"))
    if event.detail_type in ("RDS DB Snapshot Event", "RDS DB Cluster Snapshot Event"):
        return _text(detail.get("SourceIdentifier"))
    return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def notice(event: AwsEvent, settings: Settings) -> NoticeResult:
    """Mark the event's resource as seen, and wake the wait holding a token for it, if one does."""
    resource = event_resource(event)
    if resource is None:
        logger.info("event about nothing awaited", extra={"detail_type": event.detail_type, "event_id": event.id})
        return NoticeResult(resource=None)
    woken = announce(resource, settings)
    logger.info("event noticed", extra={"resource": resource, "woken": woken, "event_id": event.id})
    return NoticeResult(resource=resource, woken=woken)


def announce(resource: str, settings: Settings) -> bool:
    """`resource` reached what its waits wait for: mark it, and wake the wait holding a token for it
    (True), if one does; a wait that registers later finds the mark and ends at once."""
    expires_at = int((now() + WAKE_TTL).timestamp())
    token = wakeups.mark_seen(settings.table_name, resource, now().isoformat(), expires_at)
    if token is None or not wakeups.wake(token, resource):
        return False  # the mark stays: a stale token (the previous wait's) must not take it away
    wakeups.consume(settings.table_name, resource, token)
    return True
