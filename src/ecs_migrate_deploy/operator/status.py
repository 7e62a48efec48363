"""`status`: per service, what ECS runs, the deployment that put it there, the last one attempted,
and whether one is under way.

The current deployment is the service's CURRENT pointer (the last that succeeded); the last attempt
is the newest record naming the service, which differs when something failed or rolled back since.
What ECS runs is read from ECS (`services.describe`): a record says what the pipeline did, not what
someone did by hand since, so the two are compared (drift). "Under way" has three witnesses: the
service's lock (held from AcquireLock to ReleaseLock), the state machine's RUNNING executions (which
include ones still resolving or waiting for a lock) and ECS's own deployments in progress. A lock
taken by hand (`lock acquire`) holds the service without changing it: it is shown with its holder
and reason, and drift is still looked for. The trigger rule's state says whether pushes deploy.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ecs_migrate_deploy.operator.lock import ServiceLock, held_lock
from ecs_migrate_deploy.operator.records import Deployment, current, deployments
from ecs_migrate_deploy.operator.services import EcsService, describe, revision, short_image, with_containers
from ecs_migrate_deploy.operator.stack import Operator
from ecs_migrate_deploy.operator.trigger import shown_state


@dataclass(frozen=True)
class ServiceStatus:
    service: str
    current: Deployment | None
    last: Deployment | None
    lock: ServiceLock | None
    ecs: EcsService
    drift: list[str]


@dataclass(frozen=True)
class RunningExecution:
    name: str
    arn: str
    started_at: datetime


@dataclass(frozen=True)
class Status:
    services: list[ServiceStatus]
    running: list[RunningExecution]
    repository: str  # the stack's RepositoryName: which container's image to show
    trigger: str  # the trigger rule: "enabled", "paused", or "unknown (why)"

    def as_json(self) -> dict[str, Any]:
        return {
            "services": [
                {
                    "service": s.service,
                    "current": s.current.as_json() if s.current else None,
                    "last": s.last.as_json() if s.last else None,
                    "lock": s.lock.as_json() if s.lock else None,
                    "ecs": s.ecs.as_json(self.repository),
                    "drift": s.drift,
                }
                for s in self.services
            ],
            "running": [{"name": r.name, "arn": r.arn, "started_at": r.started_at.isoformat()} for r in self.running],
            "trigger": self.trigger,
        }


def status(operator: Operator, service: str | None = None) -> Status:
    stack = operator.stack
    names = stack.services if service is None else [stack.deployed_service(service)]
    dynamodb = operator.client("dynamodb")
    now = int(time.time())
    last = newest_per_service(deployments(dynamodb, stack.table_name, stack.cluster), names)
    ecs_client = operator.client("ecs")
    running_in_ecs = with_containers(ecs_client, describe(ecs_client, stack.cluster, names))
    services = []
    for name in names:
        recorded = current(dynamodb, stack.table_name, stack.cluster, name)
        lock = held_lock(dynamodb, stack.table_name, stack.cluster, name, now)
        ecs = running_in_ecs[name]
        services.append(
            ServiceStatus(
                service=name,
                current=recorded,
                last=last.get(name),
                lock=lock,
                ecs=ecs,
                # a deployment under way changes the service before its record is written
                drift=drift(recorded, ecs) if recorded is not None and (lock is None or lock.manual) else [],
            )
        )
    page = operator.client("stepfunctions").list_executions(
        stateMachineArn=stack.state_machine_arn, statusFilter="RUNNING", maxResults=100
    )["executions"]
    running = [RunningExecution(e["name"], e["executionArn"], e["startDate"]) for e in page]
    return Status(
        services=services,
        running=sorted(running, key=lambda r: r.started_at),
        repository=stack.repository,
        trigger=shown_state(operator),
    )


def drift(recorded: Deployment, ecs: EcsService) -> list[str]:
    """How what ECS runs differs from what the recorded deployment left running, one sentence each.

    The revision is compared when the deployment rolled out (a NoOp registered none), the image
    always: every container of the recorded image's repository must run it, by digest, exactly as
    the rollout set it (`<repository URI>@<digest>`), so a tag (which can be moved) is drift too.
    """
    if ecs.status != "ACTIVE":
        return [f"ECS reports the service {ecs.status}, deployment {recorded.deployment_id} left it running"]
    found = []
    expected = recorded.task_definitions.get(ecs.name)
    if expected and ecs.task_definition != expected:
        found.append(
            f"ECS runs task definition {revision(ecs.task_definition)}, not {revision(expected)} "
            f"that deployment {recorded.deployment_id} registered"
        )
    if recorded.image_uri:
        repository_uri = recorded.image_uri.split("@", 1)[0]
        ours = ecs.images_of(repository_uri)
        others = sorted({image for image in ours.values() if image != recorded.image_uri})
        if not ours:
            found.append(f"no container runs an image of {short_image(repository_uri)}")
        elif others:
            found.append(
                f"ECS runs {', '.join(short_image(i) for i in others)}, not {short_image(recorded.image_uri)} "
                f"that deployment {recorded.deployment_id} deployed"
            )
    return found


def newest_per_service(records: Iterable[Deployment], services: list[str]) -> dict[str, Deployment]:
    """The newest record of each service, reading (newest first) only as far as needed."""
    newest: dict[str, Deployment] = {}
    for record in records:
        for service in record.services:
            if service in services:
                newest.setdefault(service, record)
        if len(newest) == len(services):
            break
    return newest
