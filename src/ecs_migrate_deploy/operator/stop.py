"""`stop`: ask a running deployment to stop, and let the pipeline stop it the safe way.

StopExecution would end the state machine where it stands: a migration task or an ECS rollout it
started goes on, the services stay locked until the lock expires, and no record says what happened.
Instead the command writes a stop request for the execution (`deploy_pipeline.aws.stop_requests`),
which every phase that starts or checks work reads first: the phase fails with DeploymentStopped and
the state machine goes the way it goes for any failed phase. Before the migration nothing was
changed and the deployment ends there; from the migration on, StartRollback stops a running
migration task and puts the services back on their previous task definitions; the record (and the
notification) name who stopped it and why, and ReleaseLock frees the services.

A phase reads the request when it runs, so an execution waiting for an AWS event (a snapshot, the
migration task, a rollout) would notice it only when its wait ends. The command ends such a wait at
once: it takes the waiting state's task token from the execution's history (the `token` AwaitEvent
is given) and sends SendTaskFailure, which leads to the phase's check like any other end of a wait.
A rollback's wait is never ended: a rollback under way is how a stopped deployment ends cleanly.

Running it again is harmless: the first request stands (its author and reason are kept), and an
execution that has already ended is reported as such.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from deploy_pipeline.aws.stop_requests import StopRequest, request_stop
from deploy_pipeline.aws.wakeups import ENDED_WAIT_ERRORS

from ecs_migrate_deploy.operator import OperatorError
from ecs_migrate_deploy.operator.executions import execution_arn
from ecs_migrate_deploy.operator.stack import Operator, caller_arn

# The waits whose phase obeys a stop (AwaitEvent's `wait_for`); a rollback's wait is left alone.
STOPPABLE_WAITS = frozenset({"lock", "snapshot", "migration", "rollout"})
_TASK_ENDS = ("TaskSucceeded", "TaskFailed", "TaskTimedOut", "TaskSubmitFailed", "TaskStartFailed")


@dataclass(frozen=True)
class StopAsked:
    name: str
    arn: str
    request: StopRequest
    earlier: bool  # someone had asked already: theirs stands

    def as_json(self) -> dict[str, Any]:
        return {
            "execution": {"name": self.name, "arn": self.arn},
            "stop": {**vars(self.request), "already_requested": self.earlier},
        }


def running_execution(operator: Operator, execution: str | None, latest: bool) -> str | None:
    """The execution to stop: as given, or (`--latest`) the newest running one; None when `--latest`
    finds none running (nothing to stop is not an error: the wanted state holds)."""
    if not latest:
        return execution_arn(operator, execution, latest=False)
    if execution is not None:
        raise OperatorError("give an execution (name or ARN) or --latest, not both")
    running = operator.client("stepfunctions").list_executions(
        stateMachineArn=operator.stack.state_machine_arn, statusFilter="RUNNING", maxResults=100
    )["executions"]
    return str(max(running, key=lambda e: e["startDate"])["executionArn"]) if running else None


def ask_to_stop(operator: Operator, arn: str, reason: str, now: datetime | None = None) -> StopAsked:
    """Write the stop request (the first one stands) for the execution at `arn`."""
    moment = now or datetime.now(UTC)
    mine = StopRequest(
        by=caller_arn(operator), reason=reason.strip(), requested_at=moment.isoformat(timespec="seconds")
    )
    name = arn.rsplit(":", 1)[-1]
    standing = request_stop(operator.client("dynamodb"), operator.stack.table_name, name, mine, int(moment.timestamp()))
    return StopAsked(name=name, arn=arn, request=standing, earlier=standing != mine)


class WaitEnder:
    """Ends the execution's current wait for an AWS event, once, so its phase reads the stop request
    now. Fed the execution's history events in order (oldest first, as `watch` reads them)."""

    def __init__(self, operator: Operator, request: StopRequest) -> None:
        self.sfn = operator.client("stepfunctions")
        self.cause = f"stop requested: {request.describe()}"
        self.open: tuple[str, str] | None = None  # (token, what it waits for) of the wait under way
        self.ended: list[str] = []  # what each wait this ended waited for

    def event(self, event: dict[str, Any]) -> None:
        kind = event.get("type", "")
        if kind == "TaskScheduled":
            self.open = _waiting_token(event)
        elif kind in _TASK_ENDS:
            self.open = None

    def poll(self) -> None:
        """After a poll's events: end the open wait, if its phase obeys a stop."""
        if self.open is None:
            return
        token, wait_for = self.open
        self.open = None
        if wait_for not in STOPPABLE_WAITS:
            return
        try:
            self.sfn.send_task_failure(taskToken=token, error="DeploymentStopped", cause=self.cause[:32768])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ENDED_WAIT_ERRORS:
                raise
            return
        self.ended.append(wait_for)


def _waiting_token(event: dict[str, Any]) -> tuple[str, str] | None:
    """(task token, wait_for) of a scheduled `waitForTaskToken` task (AwaitEvent's payload), else None."""
    details = event.get("taskScheduledEventDetails") or {}
    if not str(details.get("resource", "")).endswith(".waitForTaskToken"):
        return None
    with contextlib.suppress(ValueError, TypeError, AttributeError):
        payload = json.loads(details.get("parameters") or "{}").get("Payload") or {}
        token, wait_for = payload.get("token"), payload.get("wait_for")
        if isinstance(token, str) and isinstance(wait_for, str):
            return token, wait_for
    return None


def ended_status(operator: Operator, arn: str) -> str | None:
    """The execution's status if it is no longer running, else None."""
    status = str(operator.client("stepfunctions").describe_execution(executionArn=arn)["status"])
    return None if status == "RUNNING" else status
