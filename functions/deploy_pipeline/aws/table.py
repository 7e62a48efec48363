"""The deployments table: locks, deployment records and schema baselines, in one DynamoDB table.

Keys (pk / sk):
- `LOCK#<cluster>/<service>` / `LOCK`: one per service being deployed; `expires_at` is the TTL.
- `DEPLOYMENTS#<cluster>` / `<started_at>#<deployment_id>`: the record of every execution.
- `SERVICE#<cluster>/<service>` / `CURRENT`: the last successful deployment of a service.
- `BASELINE#<deployment_id>` / `FINGERPRINT`: the schema fingerprint taken before the migration.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from deploy_pipeline.aws import clients


def lock_key(cluster: str, service: str) -> str:
    return f"LOCK#{cluster}/{service}"


def deployments_key(cluster: str) -> str:
    """Partition of a cluster's deployment records (sort key `<started_at>#<deployment_id>`)."""
    return f"DEPLOYMENTS#{cluster}"


def current_key(cluster: str, service: str) -> str:
    """A service's last successful deployment (sort key `CURRENT`)."""
    return f"SERVICE#{cluster}/{service}"


def baseline_key(deployment_id: str) -> str:
    """The schema fingerprint taken before a deployment's migration (sort key `FINGERPRINT`)."""
    return f"BASELINE#{deployment_id}"


@dataclass(frozen=True)
class LockHolder:
    execution: str
    digest: str
    acquired_at: str
    expires_at: int

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> LockHolder:
        """From a lock item as DynamoDB's low-level API returns it."""
        return cls(
            execution=item["execution"]["S"],
            digest=item.get("digest", {}).get("S", ""),
            acquired_at=item.get("acquired_at", {}).get("N", "0"),
            expires_at=int(item["expires_at"]["N"]),
        )


def try_acquire_locks(table: str, keys: list[str], owner: str, digest: str, now: int, ttl: int) -> bool:
    """All locks or none, in one transaction; an expired lock counts as free (TTL deletion is lazy)."""
    dynamodb = clients.dynamodb()
    items: list[Any] = [
        {
            "Put": {
                "TableName": table,
                "Item": {
                    "pk": {"S": key},
                    "sk": {"S": "LOCK"},
                    "execution": {"S": owner},
                    "digest": {"S": digest},
                    "acquired_at": {"N": str(now)},
                    "expires_at": {"N": str(now + ttl)},
                },
                "ConditionExpression": "attribute_not_exists(pk) OR expires_at < :now OR execution = :me",
                "ExpressionAttributeValues": {":now": {"N": str(now)}, ":me": {"S": owner}},
            }
        }
        for key in keys
    ]
    try:
        dynamodb.transact_write_items(TransactItems=items)
    except dynamodb.exceptions.TransactionCanceledException as exc:
        reasons = exc.response.get("CancellationReasons", [])
        if any(r.get("Code") == "ConditionalCheckFailed" for r in reasons) or not reasons:
            return False
        raise
    return True


def lock_holder(table: str, key: str) -> LockHolder | None:
    item = clients.dynamodb().get_item(TableName=table, Key={"pk": {"S": key}, "sk": {"S": "LOCK"}}).get("Item")
    return LockHolder.from_item(dict(item)) if item else None


def release_lock(table: str, key: str, owner: str) -> bool:
    """Delete the lock only if this execution holds it; False when it did not."""
    dynamodb = clients.dynamodb()
    try:
        dynamodb.delete_item(
            TableName=table,
            Key={"pk": {"S": key}, "sk": {"S": "LOCK"}},
            ConditionExpression="execution = :me",
            ExpressionAttributeValues={":me": {"S": owner}},
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def put_record(table: str, cluster: str, record: dict[str, Any], services: list[str]) -> None:
    """The deployment record, plus each service's CURRENT pointer when it succeeded."""
    dynamodb = clients.dynamodb()
    body = json.dumps(record, default=str, sort_keys=True)
    item: dict[str, Any] = {
        "pk": {"S": deployments_key(cluster)},
        "sk": {"S": f"{record['started_at']}#{record['deployment_id']}"},
        "deployment_id": {"S": record["deployment_id"]},
        "outcome": {"S": record["outcome"]},
        "record": {"S": body},
    }
    dynamodb.put_item(TableName=table, Item=item)
    if record["outcome"] in ("Succeeded", "NoOp"):
        for service in services:
            dynamodb.put_item(
                TableName=table,
                Item={
                    "pk": {"S": current_key(cluster, service)},
                    "sk": {"S": "CURRENT"},
                    "deployment_id": {"S": record["deployment_id"]},
                    "record": {"S": body},
                },
            )


def put_baseline(table: str, deployment_id: str, blob: bytes, expires_at: int) -> None:
    clients.dynamodb().put_item(
        TableName=table,
        Item={
            "pk": {"S": baseline_key(deployment_id)},
            "sk": {"S": "FINGERPRINT"},
            "data": {"B": blob},
            "expires_at": {"N": str(expires_at)},
        },
    )


def get_baseline(table: str, deployment_id: str) -> bytes | None:
    item = (
        clients.dynamodb()
        .get_item(TableName=table, Key={"pk": {"S": baseline_key(deployment_id)}, "sk": {"S": "FINGERPRINT"}})
        .get("Item")
    )
    return bytes(item["data"]["B"]) if item else None
