"""Read what Record wrote: deployment records and each service's CURRENT pointer (locks: lock.py).

Items and keys are those of `deploy_pipeline.aws.table` (its module docstring lists them):
`DEPLOYMENTS#<cluster>` / `<started_at>#<id>` and `SERVICE#<cluster>/<service>` / `CURRENT`. Each item carries the record as the JSON Record built.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from deploy_pipeline.aws.table import current_key, deployments_key

SUCCESS = "Succeeded"


@dataclass(frozen=True)
class Deployment:
    """One deployment record, reduced to what the commands show and choose from."""

    deployment_id: str
    outcome: str
    execution_arn: str
    started_at: datetime
    finished_at: datetime | None
    duration_seconds: float | None
    image_tag: str | None
    image_digest: str | None
    image_uri: str | None
    snapshot_id: str | None
    services: tuple[str, ...]
    trigger: str | None
    started_by: str | None  # "ECR push", or the caller's ARN for a start by the CLI
    migrations_applied: dict[str, Any] | None  # count, before, after, names (none: not verified)
    lint_summary: str | None  # the image's lint-summary label, when it had one
    rollback: bool
    cause: str
    task_definitions: dict[str, str]  # service -> the revision its rollout registered (none: no rollout)

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Deployment:
        record = json.loads(item["record"]["S"])
        finished = record.get("finished_at")
        return cls(
            deployment_id=record["deployment_id"],
            outcome=record["outcome"],
            execution_arn=record.get("execution_arn", ""),
            started_at=datetime.fromisoformat(record["started_at"]),
            finished_at=datetime.fromisoformat(finished) if finished else None,
            duration_seconds=record.get("duration_seconds"),
            image_tag=record.get("image_tag"),
            image_digest=record.get("image_digest"),
            image_uri=record.get("image_uri"),
            snapshot_id=record.get("snapshot_id"),
            services=tuple(s["name"] for s in record.get("services", [])),
            trigger=record.get("trigger"),
            started_by=record.get("started_by"),
            migrations_applied=record.get("migrations_applied"),
            lint_summary=record.get("lint_summary"),
            rollback=bool((record.get("options") or {}).get("rollback")),
            cause=record.get("cause", ""),
            task_definitions=dict(record.get("new_task_definitions") or {}),
        )

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["services"] = list(self.services)
        data["started_at"] = self.started_at.isoformat()
        data["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        return data


def deployments(dynamodb: Any, table: str, cluster: str, service: str | None = None) -> Iterator[Deployment]:
    """Every record of the cluster, newest first (the sort key starts with the start time)."""
    kwargs: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": deployments_key(cluster)}},
        "ScanIndexForward": False,
    }
    while True:
        page = dynamodb.query(**kwargs)
        for item in page["Items"]:
            deployment = Deployment.from_item(item)
            if service is None or service in deployment.services:
                yield deployment
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def current(dynamodb: Any, table: str, cluster: str, service: str) -> Deployment | None:
    """The last deployment that succeeded (or found nothing to do) for the service."""
    item = dynamodb.get_item(
        TableName=table, Key={"pk": {"S": current_key(cluster, service)}, "sk": {"S": "CURRENT"}}, ConsistentRead=True
    ).get("Item")
    return Deployment.from_item(item) if item else None
