"""AWS's state-change events in the emulated account, and the event-driven waits they end.

moto emits no EventBridge events for ECS tasks, ECS deployments or RDS snapshots, and its Step
Functions interpreter waits for a task token in real time. Here:

- `AwsEventSource` looks at the emulated account on each tick of the emulated clock, as AWS's
  services see their own resources change, and emits what they document emitting when they do:
  "ECS Task State Change" when a task reaches STOPPED and "ECS Deployment State Change"
  (SERVICE_DEPLOYMENT_COMPLETED / _FAILED) when a deployment's rolloutState does (Amazon ECS
  Developer Guide, "Amazon ECS events"; a deployment ECS rolls back goes back to IN_PROGRESS and
  ends again), "RDS DB Snapshot Event" / "RDS DB Cluster Snapshot Event" when a snapshot becomes
  available (RDS-EVENT-0042 "Manual snapshot created", RDS-EVENT-0075 "Manual cluster snapshot
  created"; Amazon RDS User Guide, "Amazon RDS event categories and event messages"). Each event is
  delivered `EventDelivery.delay_seconds` later through the rules template.yaml gives NoticeFunction
  (matched by moto's EventBridge pattern matcher), or dropped, or delivered more than once: AWS
  service events are "best effort" (EventBridge User Guide, "Event delivery from AWS services") and
  targets are invoked at least once.
- The seam `seams.waits.EventDrivenWaits` replaces the interpreter's real-time wait for a task
  token with ticks of the emulated clock, each of which calls `AwsEventSource.tick`.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ecs_migrate_deploy.emulation.world import World

# EventBridge promises no figure: "Amazon EventBridge will automatically deliver the events in
# near-real-time" (Amazon EventBridge FAQs). The emulation, and the bench, assume 2 s from the
# resource's change to NoticeFunction's invocation; tests and benchmarks may set another.
DOCUMENTED_NEAR_REAL_TIME_SECONDS = 2.0
NOTICE_FUNCTION = "NoticeFunction"


@dataclass
class EventDelivery:
    """How the emulated EventBridge delivers AWS's events to NoticeFunction."""

    delay_seconds: float = DOCUMENTED_NEAR_REAL_TIME_SECONDS
    drop: Callable[[dict[str, Any]], bool] = field(default=lambda event: False)
    copies: int = 1  # delivered this many times (a target may be invoked more than once)
    tick_seconds: float = 1.0  # how often the emulated services look at their resources


@dataclass(frozen=True)
class DeliveredEvent:
    event: dict[str, Any]
    emitted_at: datetime
    delivered_at: datetime | None  # None: dropped
    matched: bool  # a NoticeFunction rule matched it


class AwsEventSource:
    """Emits AWS's state-change events for the world's resources and delivers them when due."""

    def __init__(self, world: World, delivery: EventDelivery, clock: Callable[[], datetime]) -> None:
        self.world = world
        self.delivery = delivery
        self.clock = clock
        self.patterns = world.function_event_patterns(NOTICE_FUNCTION)
        self.emitted: list[tuple[datetime, dict[str, Any]]] = []
        self.deliveries: list[DeliveredEvent] = []
        self._pending: list[tuple[datetime, dict[str, Any]]] = []
        self._seen: dict[str, str] = {}  # resource -> the state last seen
        self._lock = threading.RLock()
        self._tick_at: datetime | None = None  # the emulated time a tick happens at
        self._observe(emit=False)  # what exists when the world is built was not a change

    # ---- what changed -----------------------------------------------------------------------------

    def tick(self) -> None:
        """Look at the resources once, emit their changes, deliver what is due.

        A tick happens at one instant: the clock is read once, so the real time the looking takes
        (which the emulated clock leaves out afterwards) cannot make an event look emitted later
        than the tick it was seen on, nor delay its delivery by a tick.
        """
        with self._lock:
            self._tick_at = self.clock()
            try:
                self._observe(emit=True)
                self._deliver_due()
            finally:
                self._tick_at = None

    def _now(self) -> datetime:
        return self._tick_at or self.clock()

    def _observe(self, *, emit: bool) -> None:
        for key, state, event in [*self._tasks(), *self._deployments(), *self._snapshots()]:
            if self._seen.get(key) == state:
                continue
            self._seen[key] = state
            if emit and event is not None:
                now = self._now()
                self.emitted.append((now, event))
                self._pending.append((now + timedelta(seconds=self.delivery.delay_seconds), event))

    def _envelope(self, source: str, detail_type: str, resources: list[str], detail: dict[str, Any]) -> dict[str, Any]:
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": detail_type,
            "source": source,
            "account": self.world.account,
            "time": self._now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.world.region,
            "resources": resources,
            "detail": detail,
        }

    # The resources are read from moto's backends directly (through the same seams an API call goes
    # through, so emulated tasks and rollouts move on as they do when AWS is asked): one tick costs
    # well under a millisecond instead of the tens an API round trip through botocore takes.

    def _tasks(self) -> list[tuple[str, str, dict[str, Any] | None]]:
        from moto.ecs.models import ecs_backends

        backend = ecs_backends[self.world.account][self.world.region]
        cluster = self.world.cluster_name
        arns = [str(t.task_arn) for t in (backend.tasks.get(cluster) or {}).values()]
        unseen = [arn for arn in arns if self._seen.get(arn) != "STOPPED"]
        if not unseen:
            return []
        changes: list[tuple[str, str, dict[str, Any] | None]] = []
        for task in backend.describe_tasks(cluster, unseen):
            status, arn = str(task.last_status), str(task.task_arn)
            event = None
            if status == "STOPPED":
                detail = {
                    "clusterArn": task.cluster_arn,
                    "taskArn": arn,
                    "taskDefinitionArn": task.task_definition_arn,
                    "lastStatus": "STOPPED",
                    "desiredStatus": task.desired_status,
                    "startedBy": task.started_by or "",
                    "group": task.group,
                    "stopCode": getattr(task, "stop_code", None),
                    "stoppedReason": task.stopped_reason,
                    "containers": [
                        {"name": c.name, "exitCode": getattr(c, "exitCode", None), "lastStatus": c.last_status}
                        for c in task.containers
                    ],
                }
                event = self._envelope("aws.ecs", "ECS Task State Change", [arn], detail)
            changes.append((arn, status, event))
        return changes

    def _deployments(self) -> list[tuple[str, str, dict[str, Any] | None]]:
        from moto.ecs.models import ecs_backends

        backend = ecs_backends[self.world.account][self.world.region]
        services, _ = backend.describe_services(self.world.cluster_name, list(self.world.spec.services))
        changes: list[tuple[str, str, dict[str, Any] | None]] = []
        for service in services:
            for deployment in service.deployments:
                # No rolloutState (a service behind a Classic Load Balancer): no rollout, no event.
                state = str(deployment.get("rolloutState"))
                event = None
                if state in ("COMPLETED", "FAILED"):
                    detail = {
                        "eventType": "INFO" if state == "COMPLETED" else "ERROR",
                        "eventName": f"SERVICE_DEPLOYMENT_{state}",
                        "deploymentId": deployment["id"],
                        "updatedAt": self._now().strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                        "reason": deployment.get("rolloutStateReason") or f"ECS deployment {deployment['id']} {state}.",
                    }
                    event = self._envelope("aws.ecs", "ECS Deployment State Change", [str(service.arn)], detail)
                changes.append((str(deployment["id"]), state, event))
        return changes

    def _snapshots(self) -> list[tuple[str, str, dict[str, Any] | None]]:
        if not self.world.db_kind:
            return []
        from moto.rds.models import rds_backends

        backend = rds_backends[self.world.account][self.world.region]
        if self.world.db_kind == "instance":
            found = backend.describe_db_snapshots(self.world.db_identifier)
            named = [(s.db_snapshot_identifier, s.arn, s.status) for s in found]
            detail_type, source_type = "RDS DB Snapshot Event", "SNAPSHOT"
            event_id, message = "RDS-EVENT-0042", "Manual snapshot created"
        else:
            clustered = backend.describe_db_cluster_snapshots(self.world.db_identifier, "")
            named = [(s.db_cluster_snapshot_identifier, s.arn, s.status) for s in clustered]
            detail_type, source_type = "RDS DB Cluster Snapshot Event", "CLUSTER_SNAPSHOT"
            event_id, message = "RDS-EVENT-0075", "Manual cluster snapshot created"
        changes: list[tuple[str, str, dict[str, Any] | None]] = []
        for identifier, arn, status in named:
            event = None
            if status == "available":
                detail = {
                    "EventCategories": ["creation"],
                    "SourceType": source_type,
                    "SourceArn": arn,
                    "Date": self._now().strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                    "Message": message,
                    "SourceIdentifier": identifier,
                    "EventID": event_id,
                }
                event = self._envelope("aws.rds", detail_type, [arn], detail)
            changes.append((f"snapshot:{identifier}", str(status), event))
        return changes

    # ---- delivery ---------------------------------------------------------------------------------

    def _deliver_due(self) -> None:
        from moto.events.models import EventPattern

        now = self._now()
        due = [(at, event) for at, event in self._pending if at <= now]
        self._pending = [(at, event) for at, event in self._pending if at > now]
        for _, event in due:
            emitted_at = next(at for at, e in self.emitted if e is event)
            if self.delivery.drop(event):
                self.deliveries.append(DeliveredEvent(event, emitted_at, None, False))
                continue
            matched = any(EventPattern.load(json.dumps(p)).matches_event(event) for p in self.patterns)  # type: ignore[arg-type]
            self.deliveries.append(DeliveredEvent(event, emitted_at, now, matched))
            if matched:
                for _ in range(self.delivery.copies):
                    self._invoke_notice(event)

    def _invoke_notice(self, event: dict[str, Any]) -> None:
        """Invoke NoticeFunction as EventBridge does: its own invocation, never inside the caller's
        (a thread of its own, waited for, so a test sees its effect when this returns)."""
        payload = json.dumps(event)
        worker = threading.Thread(
            target=lambda: self.world.client("lambda").invoke(FunctionName=NOTICE_FUNCTION, Payload=payload),
            name="eventbridge-target",
        )
        worker.start()
        worker.join()

    def deliver_now(self, event: dict[str, Any]) -> None:
        """Deliver `event` at once through the rules (a test's own event, e.g. another deployment's)."""
        with self._lock:
            now = self.clock()
            self.emitted.append((now, event))
            self._pending.append((now, event))
            self._deliver_due()
