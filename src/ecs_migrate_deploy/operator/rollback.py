"""`rollback`: deploy a recorded image again, through the same state machine, without migrating.

The execution input is a manual input with `options.rollback`: Resolve and Lock run as for any
deployment, then the ASL's Route sends it straight to StartRollout. No snapshot, no migration, no
verification: the database stays exactly as it is, so the older image must work with the schema
the newer migrations left behind (expand/contract migrations make that true).

`previous` after a rollback is the image that rollback replaced: a second `--to previous` moves
forward again. That is said before anything starts (`RollbackPlan.forward`), with the target.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ecs_migrate_deploy.operator import OperatorError
from ecs_migrate_deploy.operator.records import SUCCESS, Deployment, current, deployments
from ecs_migrate_deploy.operator.stack import Operator

PREVIOUS = "previous"


def choose_target(records: Iterable[Deployment], running_digests: set[str], to: str) -> Deployment:
    """The record to roll back to: by deployment id, or `previous` = the newest success on another image."""
    for record in records:
        if to == PREVIOUS:
            if record.outcome == SUCCESS and record.image_digest and record.image_digest not in running_digests:
                return record
            continue
        if record.deployment_id != to:
            continue
        if record.outcome != SUCCESS or not record.image_digest:
            raise OperatorError(
                f"deployment {to} ended {record.outcome}: roll back to one that succeeded (see `history`)"
            )
        if running_digests == {record.image_digest}:
            raise OperatorError(
                f"the services already run {record.image_digest} (deployment {to}): nothing to roll back"
            )
        return record
    if to == PREVIOUS:
        raise OperatorError("no earlier successful deployment of another image is recorded (see `history`)")
    raise OperatorError(f"no deployment {to!r} is recorded for this stack's cluster (see `history`)")


@dataclass(frozen=True)
class Forward:
    """The target image was deployed after the image the services run: rolling back to it moves forward."""

    running: Deployment  # the newest deployment (not a rollback) of the image the services run
    target: Deployment  # the newest deployment (not a rollback) of the target image, after `running`


@dataclass(frozen=True)
class RollbackPlan:
    target: Deployment
    current: dict[str, Deployment]  # service -> its last successful deployment (what it runs)
    forward: Forward | None

    def as_json(self) -> dict[str, Any]:
        return {
            "target": self.target.as_json(),
            "current": {service: d.deployment_id for service, d in self.current.items()},
            "moves_forward": self.forward is not None,
        }


def newest_origin(records: Iterable[Deployment], digest: str) -> Deployment | None:
    """The newest successful deployment of `digest` that is not a rollback: when the image was
    deployed forward, which a rollback to it does not change."""
    return next((r for r in records if r.outcome == SUCCESS and not r.rollback and r.image_digest == digest), None)


def moves_forward(records: Sequence[Deployment], running_digests: set[str], target: Deployment) -> Forward | None:
    """A Forward when the target image was deployed after every image the services run."""
    target_origin = newest_origin(records, str(target.image_digest))
    origins = [newest_origin(records, digest) for digest in running_digests]
    known = [origin for origin in origins if origin is not None]
    if target_origin is None or not known or len(known) != len(origins):
        return None
    newest = max(known, key=lambda origin: origin.started_at)
    return Forward(running=newest, target=target_origin) if target_origin.started_at > newest.started_at else None


def rollback_plan(operator: Operator, to: str) -> RollbackPlan:
    """The target, what runs now, and the direction. Every record of the cluster is read: the
    deployment that first brought an image can be far older than the target."""
    stack = operator.stack
    dynamodb = operator.client("dynamodb")
    current_records = {
        service: deployment
        for service in stack.services
        if (deployment := current(dynamodb, stack.table_name, stack.cluster, service)) and deployment.image_digest
    }
    running = {str(d.image_digest) for d in current_records.values()}
    records = list(deployments(dynamodb, stack.table_name, stack.cluster))
    target = choose_target(records, running, to)
    return RollbackPlan(target=target, current=current_records, forward=moves_forward(records, running, target))
