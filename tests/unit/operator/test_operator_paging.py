"""What moto cannot show the operator commands: paged answers (moto returns every history event and
log event at once) and AWS's naming rules. The end-to-end behaviour is in tests/operator."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from deploy_pipeline.logic.identifiers import safe_deployment_id

from ecs_migrate_deploy.operator.executions import MAX_NAME, execution_name, history
from ecs_migrate_deploy.operator.records import deployments
from ecs_migrate_deploy.operator.watch import follow


def event(event_id: int) -> dict[str, Any]:
    return {"id": event_id, "type": "PassStateEntered", "timestamp": datetime(2026, 1, 1, tzinfo=UTC)}


class PagedHistory:
    """GetExecutionHistory as AWS pages it (two events a page); the history grows between polls."""

    def __init__(self, polls: list[tuple[str, int]]) -> None:
        self.polls = polls  # (status, events so far) per DescribeExecution
        self.seen = 0
        self.tokens: list[str | None] = []

    def describe_execution(self, executionArn: str) -> dict[str, Any]:
        status, self.seen = self.polls.pop(0)
        return {"executionArn": executionArn, "status": status}

    def get_execution_history(self, executionArn: str, maxResults: int, nextToken: str | None = None) -> dict[str, Any]:
        self.tokens.append(nextToken)
        start = int(nextToken or 0)
        page: dict[str, Any] = {"events": [event(i) for i in range(start + 1, min(start + 2, self.seen) + 1)]}
        if start + 2 < self.seen:
            page["nextToken"] = str(start + 2)
        return page


def test_history_follows_next_token_to_the_last_page() -> None:
    sfn = PagedHistory([])
    sfn.seen = 5
    assert [e["id"] for e in history(sfn, "arn")] == [1, 2, 3, 4, 5]
    assert sfn.tokens == [None, "2", "4"]


def test_follow_passes_each_event_once_and_stops_when_the_execution_ended() -> None:
    sfn = PagedHistory([("RUNNING", 3), ("RUNNING", 3), ("SUCCEEDED", 6)])
    passed: list[int] = []
    sleeps: list[float] = []

    described = follow(sfn, "arn", lambda e: passed.append(e["id"]), interval=1.5, sleep=sleeps.append)

    assert passed == [1, 2, 3, 4, 5, 6]
    assert sleeps == [1.5, 1.5]
    assert described["status"] == "SUCCEEDED"


class PagedTable:
    """Query as DynamoDB pages it: one item a page, LastEvaluatedKey until the last."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.items = [{"record": {"S": json.dumps(r)}} for r in records]
        self.calls: list[dict[str, Any]] = []

    def query(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        index = int(kwargs.get("ExclusiveStartKey", {}).get("i", 0))
        page: dict[str, Any] = {"Items": self.items[index : index + 1]}
        if index + 1 < len(self.items):
            page["LastEvaluatedKey"] = {"i": index + 1}
        return page


def record(deployment_id: str, *services: str) -> dict[str, Any]:
    return {
        "deployment_id": deployment_id,
        "outcome": "Succeeded",
        "started_at": "2026-01-01T00:00:00+00:00",
        "services": [{"name": s, "previous_task_definition": "td"} for s in services],
    }


def test_deployments_read_every_page_newest_first_and_filter_by_service() -> None:
    table = PagedTable([record("d3", "web"), record("d2", "worker"), record("d1", "web", "worker")])

    assert [d.deployment_id for d in deployments(table, "t", "c")] == ["d3", "d2", "d1"]
    assert [d.deployment_id for d in deployments(table, "t", "c", service="worker")] == ["d2", "d1"]
    first = table.calls[0]
    assert (first["ScanIndexForward"], first["ExpressionAttributeValues"]) == (False, {":pk": {"S": "DEPLOYMENTS#c"}})


def test_execution_names_keep_to_the_step_functions_rules() -> None:
    now = datetime(2026, 11, 25, 8, 30, 5, tzinfo=UTC)
    assert execution_name("manual", "v1.2.3", now) == "manual-v1-2-3-20261125083005"
    assert execution_name("rollback", "sha256:" + "ab" * 32, now) == "rollback-sha256-abababababab-20261125083005"
    longest = execution_name("rollback", "Release_" + "x" * 120, now)
    assert (
        len(longest) == MAX_NAME and longest.startswith("rollback-release-xxx") and longest.endswith("-20261125083005")
    )
    for name in (longest, execution_name("manual", "V2__hotfix.-1", now)):
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name) and len(name) <= MAX_NAME
        assert safe_deployment_id(name) == name  # the execution name is the deployment id, unchanged
