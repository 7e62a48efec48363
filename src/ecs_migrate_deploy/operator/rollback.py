"""`rollback`: deploy a recorded image again, through the same state machine, without migrating.

The execution input is a manual input with `options.rollback`: Resolve and Lock run as for any
deployment, then the ASL's Route sends it straight to StartRollout. No snapshot, no migration, no
verification: the database stays exactly as it is, so the older image must work with the schema
the newer migrations left behind (expand/contract migrations make that true).
"""

from __future__ import annotations

from collections.abc import Iterable

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


def rollback_target(operator: Operator, to: str) -> Deployment:
    stack = operator.stack
    dynamodb = operator.client("dynamodb")
    running = {
        deployment.image_digest
        for service in stack.services
        if (deployment := current(dynamodb, stack.table_name, stack.cluster, service)) and deployment.image_digest
    }
    return choose_target(deployments(dynamodb, stack.table_name, stack.cluster), running, to)
