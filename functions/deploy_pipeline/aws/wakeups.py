"""Wake-ups: an event-driven wait's task token, and the AWS event that ends it, meet in the table.

One item per awaited resource (`WAKE#<task ARN | ECS deployment id | snapshot id | lock key>` /
`WAKE`). Either side may come first, so each writes, then reads what the other wrote, in one atomic
UpdateItem:
- the waiting state stores its token and takes away any mark (ReturnValues ALL_OLD): a mark there
  means the event came first, and the wait ends at once;
- the event sets its mark and reads the item back (ALL_NEW): a token there is sent SendTaskSuccess,
  and only once that wait is woken are the token and the mark taken away (if it is still the same
  token).
Whichever writes second sees the other's write, so no event is lost between a check and its wait. The
token an event finds may be stale: the previous wait's, which timed out, while the next one has not
registered yet. SendTaskSuccess then fails with TaskTimedOut ("the task associated with the token has
already been closed"; InvalidToken and TaskDoesNotExist likewise), and the mark stays for the next
wait to find: taking it away with the stale token would lose the event. A duplicate or late event
changes nothing.
"""

from __future__ import annotations

import contextlib
import json

from deploy_pipeline.aws import clients

# SendTaskSuccess's and SendTaskFailure's errors for a wait that has already ended (timed out, woken, or its execution
# finished): StepFunctions API Reference, SendTaskSuccess "Errors".
ENDED_WAIT_ERRORS = frozenset({"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"})


def _key(resource: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"WAKE#{resource}"}, "sk": {"S": "WAKE"}}


def register(table: str, resource: str, token: str, expires_at: int) -> bool:
    """Store `token` as the one waiting for `resource`; True when the event had come first (its mark
    is taken away, so it wakes this wait only)."""
    response = clients.dynamodb().update_item(
        TableName=table,
        Key=_key(resource),
        UpdateExpression="SET #token = :token, expires_at = :expires REMOVE seen_at",
        ExpressionAttributeNames={"#token": "token"},
        ExpressionAttributeValues={":token": {"S": token}, ":expires": {"N": str(expires_at)}},
        ReturnValues="ALL_OLD",
    )
    return "seen_at" in response.get("Attributes", {})


def mark_seen(table: str, resource: str, seen_at: str, expires_at: int) -> str | None:
    """Mark that `resource`'s event arrived; the token waiting for it, if any (left in the item)."""
    response = clients.dynamodb().update_item(
        TableName=table,
        Key=_key(resource),
        UpdateExpression="SET seen_at = :seen, expires_at = :expires",
        ExpressionAttributeValues={":seen": {"S": seen_at}, ":expires": {"N": str(expires_at)}},
        ReturnValues="ALL_NEW",
    )
    token: str | None = response.get("Attributes", {}).get("token", {}).get("S")
    return token


def consume(table: str, resource: str, token: str) -> None:
    """The wait holding `token` was woken: neither its token nor the mark is needed again. When the
    condition fails, a newer wait registered meanwhile: it has taken the mark and woken itself."""
    dynamodb = clients.dynamodb()
    with contextlib.suppress(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.update_item(
            TableName=table,
            Key=_key(resource),
            UpdateExpression="REMOVE #token, seen_at",
            ConditionExpression="#token = :token",
            ExpressionAttributeNames={"#token": "token"},
            ExpressionAttributeValues={":token": {"S": token}},
        )


def wake(token: str, resource: str) -> bool:
    """SendTaskSuccess to the wait holding `token`; False when that wait had already ended."""
    from botocore.exceptions import ClientError

    try:
        clients.stepfunctions().send_task_success(taskToken=token, output=json.dumps({"woken_by": resource}))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ENDED_WAIT_ERRORS:
            return False
        raise
    return True
