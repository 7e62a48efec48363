"""`status`: per service, the deployment it runs, the last one attempted, and whether one is under way.

The current deployment is the service's CURRENT pointer (the last that succeeded); the last attempt
is the newest record naming the service, which differs when something failed or rolled back since.
"Under way" has two witnesses: the service's lock (held from AcquireLock to ReleaseLock) and the
state machine's RUNNING executions (which include ones still resolving or waiting for a lock).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from deploy_pipeline.aws.table import LockHolder

from ecs_migrate_deploy.operator import OperatorError
from ecs_migrate_deploy.operator.records import Deployment, active_lock, current, deployments
from ecs_migrate_deploy.operator.stack import Operator


@dataclass(frozen=True)
class ServiceStatus:
    service: str
    current: Deployment | None
    last: Deployment | None
    lock: LockHolder | None


@dataclass(frozen=True)
class RunningExecution:
    name: str
    arn: str
    started_at: datetime


@dataclass(frozen=True)
class Status:
    services: list[ServiceStatus]
    running: list[RunningExecution]

    def as_json(self) -> dict[str, Any]:
        return {
            "services": [
                {
                    "service": s.service,
                    "current": s.current.as_json() if s.current else None,
                    "last": s.last.as_json() if s.last else None,
                    "lock": vars(s.lock) if s.lock else None,
                }
                for s in self.services
            ],
            "running": [{"name": r.name, "arn": r.arn, "started_at": r.started_at.isoformat()} for r in self.running],
        }


def status(operator: Operator, service: str | None = None) -> Status:
    stack = operator.stack
    names = stack.services
    if service is not None:
        if service not in names:
            raise OperatorError(f"stack {stack.name!r} deploys {', '.join(names)}, not {service!r}")
        names = [service]
    dynamodb = operator.client("dynamodb")
    now = int(time.time())
    last = newest_per_service(deployments(dynamodb, stack.table_name, stack.cluster), names)
    services = [
        ServiceStatus(
            service=name,
            current=current(dynamodb, stack.table_name, stack.cluster, name),
            last=last.get(name),
            lock=active_lock(dynamodb, stack.table_name, stack.cluster, name, now),
        )
        for name in names
    ]
    page = operator.client("stepfunctions").list_executions(
        stateMachineArn=stack.state_machine_arn, statusFilter="RUNNING", maxResults=100
    )["executions"]
    running = [RunningExecution(e["name"], e["executionArn"], e["startDate"]) for e in page]
    return Status(services=services, running=sorted(running, key=lambda r: r.started_at))


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
