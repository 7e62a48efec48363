"""Stop requests: `ecs-migrate-deploy stop` asks a running execution to stop, the execution obeys.

One item per execution (`STOP#<execution name>` / `STOP`), written once by the operator (a second
request finds the first and reports it) and read by the phase functions before they start or check
anything: the execution then stops the way a failed phase does, through its own rollback path, so
what it started is stopped or put back, the lock released and the record written by the pipeline
itself. The item expires (TTL) a week after the request; an execution never runs that long.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deploy_pipeline.aws import clients

KEEP_SECONDS = 7 * 24 * 3600


def stop_key(execution: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"STOP#{execution}"}, "sk": {"S": "STOP"}}


@dataclass(frozen=True)
class StopRequest:
    by: str  # the caller's ARN (STS GetCallerIdentity)
    reason: str
    requested_at: str  # ISO 8601, UTC

    def describe(self) -> str:
        return f"stopped by {self.by} at {self.requested_at} (reason: {self.reason})"

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> StopRequest:
        return cls(by=item["by"]["S"], reason=item["reason"]["S"], requested_at=item["requested_at"]["S"])


def stop_request(table: str, execution: str, dynamodb: Any = None) -> StopRequest | None:
    """The stop asked of `execution`, if any (a strongly consistent read: a request just made counts).
    `dynamodb`: the operator's client (its own session and region); the Lambda's by default."""
    client = dynamodb or clients.dynamodb()
    item = client.get_item(TableName=table, Key=stop_key(execution), ConsistentRead=True).get("Item")
    return StopRequest.from_item(dict(item)) if item else None


def request_stop(dynamodb: Any, table: str, execution: str, request: StopRequest, now: int) -> StopRequest:
    """Ask `execution` to stop (the operator's call, with its client); the request that stands: an
    earlier one wins, as it may already be obeyed."""
    try:
        dynamodb.put_item(
            TableName=table,
            Item={
                **stop_key(execution),
                "by": {"S": request.by},
                "reason": {"S": request.reason},
                "requested_at": {"S": request.requested_at},
                "expires_at": {"N": str(now + KEEP_SECONDS)},
            },
            ConditionExpression="attribute_not_exists(pk)",
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return stop_request(table, execution, dynamodb) or request
    return request
