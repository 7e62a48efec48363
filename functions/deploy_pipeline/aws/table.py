"""The deployments table: locks, deployment records and schema baselines, in one DynamoDB table.

Keys (pk / sk):
- `LOCK#<cluster>/<service>` / `LOCK`: one per service being deployed; `expires_at` is the TTL.
- `DEPLOYMENTS#<cluster>` / `<started_at>#<deployment_id>`: the record of every execution.
- `SERVICE#<cluster>/<service>` / `CURRENT`: the last successful deployment of a service.
- `BASELINE#<deployment_id>` / `FINGERPRINT`: the schema fingerprint taken before the migration.
- `SUCCEEDED#<image digest>` / `<cluster>#<deployment_id>`: one per Succeeded deployment of an image,
  so another stack (RequireSucceededIn: prod reading dev's table) finds one with a Query on its digest.
- `WAKE#<resource>` / `WAKE`: a waiting state's task token, or the mark of an event that came first
  (aws/wakeups.py).
- `STOP#<execution name>` / `STOP`: an operator's request that an execution stop (aws/stop_requests.py).
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

from deploy_pipeline.aws import clients
from deploy_pipeline.errors import TransientAwsError


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
    execution: str  # an execution's name, or `manual:<caller ARN>` (`ecs-migrate-deploy lock acquire`)
    digest: str
    acquired_at: str
    expires_at: int
    reason: str = ""  # a manual lock's reason

    @property
    def manual(self) -> bool:
        return self.execution.startswith("manual:")

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> LockHolder:
        """From a lock item as DynamoDB's low-level API returns it."""
        return cls(
            execution=item["execution"]["S"],
            digest=item.get("digest", {}).get("S", ""),
            acquired_at=item.get("acquired_at", {}).get("N", "0"),
            expires_at=int(item["expires_at"]["N"]),
            reason=item.get("reason", {}).get("S", ""),
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
        codes = {r.get("Code") for r in exc.response.get("CancellationReasons", [])}
        # ConditionalCheckFailed: another execution holds a lock. TransactionConflict: another
        # transaction is writing the same lock item right now (botocore's DynamoDB model: "There is an
        # ongoing TransactWriteItems operation that conflicts with a concurrent ... request") — a
        # competing acquire or release: held, for now. Either way: wait and try again.
        if codes & {"ConditionalCheckFailed", "TransactionConflict"} or not codes - {"None", None}:
            return False
        if codes & {"ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}:
            raise TransientAwsError(
                f"acquiring the locks was throttled ({', '.join(sorted(map(str, codes)))})"
            ) from None
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
    """The deployment record, plus each service's CURRENT pointer when it succeeded.

    A NoOp moves the pointer only forward in request time: an older request that found its image
    already running must not make a newer deployment look older than it is (see `current_requests`).
    Writing the same record twice (a retried Record) is harmless: same keys, same body.
    """
    dynamodb = clients.dynamodb()
    body = json.dumps(record, default=str, sort_keys=True)
    item: dict[str, Any] = {
        **_record_key(cluster, record),
        "deployment_id": {"S": record["deployment_id"]},
        "outcome": {"S": record["outcome"]},
        "record": {"S": body},
    }
    dynamodb.put_item(TableName=table, Item=item)
    if record["outcome"] not in ("Succeeded", "NoOp"):
        return
    if record["outcome"] == "Succeeded" and record.get("image_digest"):
        dynamodb.put_item(
            TableName=table,
            Item={
                "pk": {"S": succeeded_key(str(record["image_digest"]))},
                "sk": {"S": f"{cluster}#{record['deployment_id']}"},
                "deployment_id": {"S": record["deployment_id"]},
                "cluster": {"S": cluster},
                "image_tag": {"S": str(record.get("image_tag") or "")},
                "finished_at": {"S": str(record["finished_at"])},
            },
        )
    requested_at = str(record.get("requested_at") or record["started_at"])
    for service in services:
        current: dict[str, Any] = {
            "TableName": table,
            "Item": {
                "pk": {"S": current_key(cluster, service)},
                "sk": {"S": "CURRENT"},
                "deployment_id": {"S": record["deployment_id"]},
                "requested_at": {"S": requested_at},
                "record": {"S": body},
            },
        }
        if record["outcome"] == "NoOp":
            current["ConditionExpression"] = "attribute_not_exists(requested_at) OR requested_at <= :mine"
            current["ExpressionAttributeValues"] = {":mine": {"S": requested_at}}
        try:
            dynamodb.put_item(**current)
        except dynamodb.exceptions.ConditionalCheckFailedException:
            continue  # a newer request is the current one


def succeeded_key(digest: str) -> str:
    """The Succeeded deployments of one image digest, in any cluster of the stack (sort key `<cluster>#<id>`)."""
    return f"SUCCEEDED#{digest}"


def succeeded_deployment(table: str, digest: str) -> dict[str, str] | None:
    """A Succeeded deployment of `digest` recorded in `table` (deployment id, cluster, when), or None."""
    page = clients.dynamodb().query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": succeeded_key(digest)}},
        Limit=1,
    )
    items = page.get("Items") or []
    if not items:
        return None
    return {key: value["S"] for key, value in items[0].items() if "S" in value}


def _record_key(cluster: str, record: dict[str, Any]) -> dict[str, Any]:
    return {"pk": {"S": deployments_key(cluster)}, "sk": {"S": f"{record['started_at']}#{record['deployment_id']}"}}


def record_steps_done(table: str, cluster: str, record: dict[str, Any]) -> set[str] | None:
    """The outcome steps already done for this record (None: no record yet), so a retried Record
    neither rewrites the record nor notifies twice."""
    item = clients.dynamodb().get_item(TableName=table, Key=_record_key(cluster, record)).get("Item")
    if item is None:
        return None
    return set(item.get("steps_done", {}).get("SS", [])) | {"record"}


def mark_record_step(table: str, cluster: str, record: dict[str, Any], step: str) -> None:
    """Note on the record's item that `step` is done; never creates an item without the record (when
    writing the record itself failed, UpdateItem would otherwise make one of the step marks alone)."""
    dynamodb = clients.dynamodb()
    with contextlib.suppress(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.update_item(
            TableName=table,
            Key=_record_key(cluster, record),
            UpdateExpression="ADD steps_done :step",
            ConditionExpression="attribute_exists(#record)",
            ExpressionAttributeNames={"#record": "record"},
            ExpressionAttributeValues={":step": {"SS": [step]}},
        )


@dataclass(frozen=True)
class CurrentDeployment:
    """A service's last successful deployment, as far as ordering requests needs it."""

    deployment_id: str
    execution_arn: str
    requested_at: str
    image: str


def current_requests(table: str, cluster: str, services: list[str]) -> dict[str, CurrentDeployment]:
    """Service -> its CURRENT deployment (services never deployed by this stack are absent)."""
    dynamodb = clients.dynamodb()
    found: dict[str, CurrentDeployment] = {}
    for service in services:
        item = dynamodb.get_item(
            TableName=table, Key={"pk": {"S": current_key(cluster, service)}, "sk": {"S": "CURRENT"}}
        ).get("Item")
        if not item:
            continue
        record = json.loads(item["record"]["S"])
        found[service] = CurrentDeployment(
            deployment_id=str(record.get("deployment_id", "")),
            execution_arn=str(record.get("execution_arn", "")),
            requested_at=str(item.get("requested_at", {}).get("S") or record.get("requested_at") or ""),
            image=str(record.get("image_tag") or record.get("image_digest") or ""),
        )
    return found


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
