"""Start, find and read executions of the stack's state machine.

A manual start is validated by the Lambda's own model (`ManualInput`) before anything is sent, so
the CLI cannot start an execution that Resolve would reject for its shape; what the model says is
put in the command's words (`--tag`, not `image_tag`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from deploy_pipeline.models.inputs import ManualInput
from pydantic import ValidationError

from ecs_migrate_deploy.operator import OperatorError
from ecs_migrate_deploy.operator.stack import Operator, caller_arn

MAX_NAME = 80  # Step Functions: execution names are 1-80 characters

# The manual input's fields as the command line names them, and the shape each must have (the
# model's patterns, in words).
FLAGS = {
    "image_tag": (
        "--tag",
        "an image tag (letters, digits, '_', '.' and '-', at most 128, not starting with '.' or '-')",
    ),
    "image_digest": ("--digest", "sha256:<64 lower-case hex digits>"),
    "expected_migration": ("--expected-migration", "a migration name (letters, digits, '_', '.', ':' and '-')"),
}


def manual_input(
    *,
    tag: str | None = None,
    digest: str | None = None,
    skip_snapshot: bool = False,
    dry_run: bool = False,
    expected_migration: str | None = None,
    rollback: bool = False,
) -> dict[str, Any]:
    """The execution input, exactly as the Lambda will parse it (defaults left out, so it stays readable)."""
    raw: dict[str, Any] = {
        "image_tag": tag,
        "image_digest": digest,
        "options": {
            "skip_snapshot": skip_snapshot,
            "dry_run": dry_run,
            "expected_migration": expected_migration,
            "rollback": rollback,
        },
    }
    try:
        parsed = ManualInput.model_validate(raw)
    except ValidationError as exc:
        raise OperatorError(in_flags(exc)) from None
    return parsed.model_dump(mode="json", exclude_defaults=True)


def in_flags(exc: ValidationError) -> str:
    """The model's complaints about the manual input, in the command's words."""
    problems = []
    for error in exc.errors():
        field = str(error["loc"][-1]) if error["loc"] else ""
        if field in FLAGS:
            flag, shape = FLAGS[field]
            problems.append(f"{flag} is {shape}, not {error['input']!r}")
            continue
        message = str(error["msg"]).removeprefix("Value error, ")
        for name, (flag, _) in FLAGS.items():
            message = message.replace(f"'{name}'", flag)
        problems.append(message)
    return "; ".join(problems)


def execution_name(kind: str, image: str, now: datetime | None = None) -> str:
    """`<kind>-<image>-<yyyymmddHHMMSS>`: readable in the console, unique per second.

    Lower-case letters, digits and single hyphens, within 80 characters: what Step Functions allows
    and, unchanged, what the pipeline accepts as a deployment id, so the execution name is the id
    `history` shows and `rollback --to` takes (another name would get a hash appended).
    """
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S")
    label = image[:19] if image.startswith("sha256:") else image
    cleaned = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    budget = MAX_NAME - len(kind) - len(stamp) - 2
    return f"{kind}-{cleaned[:budget].strip('-') or 'image'}-{stamp}"


def console_url(region: str, execution_arn: str) -> str:
    return f"https://{region}.console.aws.amazon.com/states/home?region={region}#/v2/executions/details/{execution_arn}"


@dataclass(frozen=True)
class Started:
    name: str
    arn: str
    console_url: str
    input: dict[str, Any]


def start(operator: Operator, execution_input: dict[str, Any], name: str) -> Started:
    """Start an execution with `execution_input`, naming the caller as who started it (the record and
    `history` show it: Step Functions does not tell the execution who started it)."""
    execution_input = {**execution_input, "started_by": caller_arn(operator)}
    arn: str = operator.client("stepfunctions").start_execution(
        stateMachineArn=operator.stack.state_machine_arn, name=name, input=json.dumps(execution_input)
    )["executionArn"]
    return Started(name=name, arn=arn, console_url=console_url(operator.stack.region, arn), input=execution_input)


def execution_arn(operator: Operator, execution: str | None, latest: bool) -> str:
    """An ARN as given, a name of this state machine's execution, or (`--latest`) the newest one."""
    if latest == (execution is not None):
        raise OperatorError("give an execution (name or ARN) or --latest, not both")
    if execution is None:
        page = operator.client("stepfunctions").list_executions(
            stateMachineArn=operator.stack.state_machine_arn, maxResults=100
        )["executions"]
        if not page:
            raise OperatorError(f"the state machine of stack {operator.stack.name!r} has no executions yet")
        return str(max(page, key=lambda e: e["startDate"])["executionArn"])
    if execution.startswith("arn:"):
        return _existing(operator, execution, execution)
    prefix, _, machine = operator.stack.state_machine_arn.rpartition(":stateMachine:")
    return _existing(operator, f"{prefix}:execution:{machine}:{execution}", execution)


def _existing(operator: Operator, arn: str, given: str) -> str:
    """`arn`, once Step Functions knows it: a mistyped name is one line saying so, not an AWS error."""
    try:
        operator.client("stepfunctions").describe_execution(executionArn=arn)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("ExecutionDoesNotExist", "InvalidArn"):
            raise OperatorError(
                f"no execution {given!r} in the state machine of stack {operator.stack.name!r} "
                "(`history` lists the deployments: their ids are the execution names)"
            ) from None
        raise
    return arn


def history(sfn: Any, arn: str) -> Iterator[dict[str, Any]]:
    """Every event of the execution, oldest first, following nextToken."""
    kwargs: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**kwargs)
        yield from page["events"]
        token = page.get("nextToken")
        if not token:
            return
        kwargs["nextToken"] = token


def state_outputs(events: list[dict[str, Any]], state: str) -> Iterator[dict[str, Any]]:
    """The parsed outputs of every exit from `state`, in order."""
    for event in events:
        details = event.get("stateExitedEventDetails") or {}
        if details.get("name") == state and details.get("output"):
            output = json.loads(details["output"])
            if isinstance(output, dict):
                yield output
