"""`lock`: hold a service's deployments by hand (an incident), read, take and give back its lock.

A manual lock is the pipeline's own lock item (`deploy_pipeline.aws.table`: `LOCK#<cluster>/<service>`
/ `LOCK`), so AcquireLock needs no change to respect it: its condition `attribute_not_exists(pk) OR
expires_at < :now OR execution = :me` fails for an unexpired item whose `execution` is not its own,
and it waits (OnLockHeld=wait, up to LockWaitSeconds) or fails at once, naming the holder. ReleaseLock
deletes only `execution = <its own name>`, so no execution ever removes a manual lock.

The holder is `manual:<caller ARN>` (STS GetCallerIdentity): a Step Functions execution name cannot
contain `:`, so it never equals an execution's name, and the prefix tells the two kinds apart. The
item also carries `reason` and `expires_at` (the table's TTL attribute): a manual lock expires like
an execution's (default 24 h, `--for`), so one forgotten after an incident stops blocking pushes by
itself instead of wedging the service until someone deletes the item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from deploy_pipeline.aws.table import lock_key

from ecs_migrate_deploy.operator import OperatorError
from ecs_migrate_deploy.operator.stack import Operator, caller_arn

MANUAL_PREFIX = "manual:"
DEFAULT_DURATION = "24h"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_MIN_SECONDS, _MAX_SECONDS = 60, 30 * 86400  # shorter is a typo; longer is a lock nobody will remember


class LockRefused(Exception):
    """Someone else holds the lock (an execution, another person): printed, exit code 1."""


@dataclass(frozen=True)
class ServiceLock:
    """A held lock item: an execution's (AcquireLock) or a person's (`lock acquire`)."""

    holder: str  # the item's `execution`: an execution name, or `manual:<ARN>`
    digest: str  # the image an execution deploys ("" for a manual lock)
    acquired_at: int
    expires_at: int
    reason: str  # "" for an execution's lock

    @property
    def manual(self) -> bool:
        return self.holder.startswith(MANUAL_PREFIX)

    @property
    def who(self) -> str:
        """The person (ARN) for a manual lock, else the execution's name."""
        return self.holder.removeprefix(MANUAL_PREFIX)

    @property
    def expires(self) -> datetime:
        return datetime.fromtimestamp(self.expires_at, UTC)

    def describe(self) -> str:
        """One line naming the holder, for refusals."""
        until = self.expires.isoformat(timespec="seconds")
        if self.manual:
            return f"{self.who} (manual lock until {until}, reason: {self.reason or '-'})"
        return f"execution {self.holder} (deploying {self.digest or 'an image'}, its lock expires {until})"

    def as_json(self) -> dict[str, Any]:
        return {
            "execution": self.holder,
            "digest": self.digest,
            "acquired_at": self.acquired_at,
            "expires_at": self.expires_at,
            "manual": self.manual,
            "holder": self.who,
            "reason": self.reason,
        }

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> ServiceLock:
        return cls(
            holder=item["execution"]["S"],
            digest=item.get("digest", {}).get("S", ""),
            acquired_at=int(item.get("acquired_at", {}).get("N", "0")),
            expires_at=int(item["expires_at"]["N"]),
            reason=item.get("reason", {}).get("S", ""),
        )


def held_lock(dynamodb: Any, table: str, cluster: str, service: str, now: int) -> ServiceLock | None:
    """The service's lock if someone holds it at `now` (epoch seconds); an expired lock is free, as
    AcquireLock's condition says (TTL deletion is lazy)."""
    item = dynamodb.get_item(
        TableName=table, Key={"pk": {"S": lock_key(cluster, service)}, "sk": {"S": "LOCK"}}, ConsistentRead=True
    ).get("Item")
    if not item or int(item["expires_at"]["N"]) <= now:
        return None
    return ServiceLock.from_item(item)


def parse_duration(text: str) -> int:
    """`--for`: `<n>s|m|h|d` -> seconds, between a minute and 30 days."""
    match = re.fullmatch(r"(\d+)([smhd])", text.strip())
    if not match:
        raise OperatorError(f"--for is a number and a unit (s, m, h, d), e.g. 90m or 24h, not {text!r}")
    seconds = int(match[1]) * _UNITS[match[2]]
    if not _MIN_SECONDS <= seconds <= _MAX_SECONDS:
        raise OperatorError(f"--for is between 1m and 30d, not {text!r}")
    return seconds


def caller_holder(operator: Operator) -> str:
    """`manual:<ARN>` of whoever runs the command (a user, or an assumed role with its session name)."""
    return MANUAL_PREFIX + caller_arn(operator)


def acquire(operator: Operator, service: str, reason: str, seconds: int, now: int) -> ServiceLock:
    """Take the service's lock for `seconds`, with AcquireLock's own condition: free, expired, or
    already ours (then the reason and expiry are renewed, so running it again is harmless)."""
    stack = operator.stack
    dynamodb = operator.client("dynamodb")
    mine = ServiceLock(
        holder=caller_holder(operator), digest="", acquired_at=now, expires_at=now + seconds, reason=reason
    )
    try:
        dynamodb.put_item(
            TableName=stack.table_name,
            Item={
                "pk": {"S": lock_key(stack.cluster, service)},
                "sk": {"S": "LOCK"},
                "execution": {"S": mine.holder},
                "acquired_at": {"N": str(mine.acquired_at)},
                "expires_at": {"N": str(mine.expires_at)},
                "reason": {"S": reason},
            },
            ConditionExpression="attribute_not_exists(pk) OR expires_at < :now OR execution = :me",
            ExpressionAttributeValues={":now": {"N": str(now)}, ":me": {"S": mine.holder}},
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        holder = held_lock(dynamodb, stack.table_name, stack.cluster, service, now)
        by = holder.describe() if holder else "someone who released it a moment ago: try again"
        raise LockRefused(f"{service} is locked by {by}") from None
    return mine


def release(operator: Operator, service: str, now: int) -> ServiceLock | None:
    """Remove the service's manual lock, whoever took it (the person may be off shift); the lock it
    removed, or None when there was none (releasing twice is harmless). An execution's lock is
    refused: deleting it would let a second deployment run beside the one under way."""
    stack = operator.stack
    dynamodb = operator.client("dynamodb")
    held = held_lock(dynamodb, stack.table_name, stack.cluster, service, now)
    if held is None:
        return None
    if not held.manual:
        raise LockRefused(
            f"{service} is locked by {held.describe()}, not by hand: `lock release` removes only manual locks; "
            "let the execution finish (or stop it, which releases its lock)"
        )
    try:
        dynamodb.delete_item(
            TableName=stack.table_name,
            Key={"pk": {"S": lock_key(stack.cluster, service)}, "sk": {"S": "LOCK"}},
            # not an execution's lock that replaced this one since it was read
            ConditionExpression="execution = :holder",
            ExpressionAttributeValues={":holder": {"S": held.holder}},
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        raise LockRefused(f"{service}'s lock changed hands while releasing it: run `lock status`") from None
    return held


def locks(operator: Operator, services: list[str], now: int) -> dict[str, ServiceLock | None]:
    """Service -> its held lock (None: free)."""
    stack = operator.stack
    dynamodb = operator.client("dynamodb")
    return {name: held_lock(dynamodb, stack.table_name, stack.cluster, name, now) for name in services}
