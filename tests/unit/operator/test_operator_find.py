"""`watch --image-digest` against what moto cannot show: ListExecutions in pages, an execution that is
still resolving its tag between two looks, the window's edge, and the console's CI detection. The
end-to-end behaviour is in tests/operator/test_operator_watch_digest.py."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from ecs_migrate_deploy.console import plain_output
from ecs_migrate_deploy.operator.find import DigestFinder, requested_image, resolved_digest, wait_for_executions

DIGEST = "sha256:" + "a" * 64
OTHER = "sha256:" + "b" * 64
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def push_event(digest: str, tag: str) -> str:
    return json.dumps({"source": "aws.ecr", "detail": {"image-digest": digest, "image-tag": tag}})


def resolve_exit(digest: str) -> dict[str, Any]:
    output = {"plan": {"image": {"digest": digest}}}
    return {"stateExitedEventDetails": {"name": "Resolve", "output": json.dumps(output)}}


class PagedExecutions:
    """ListExecutions two a page, newest first, as AWS lists them; inputs and histories on demand."""

    def __init__(self, executions: list[dict[str, Any]]) -> None:
        self.executions = executions  # newest first: name, minutes (ago), input, status, events
        self.pages_read: list[str | None] = []
        self.described: list[str] = []

    def list_executions(self, stateMachineArn: str, maxResults: int, nextToken: str | None = None) -> dict[str, Any]:
        self.pages_read.append(nextToken)
        start = int(nextToken or 0)
        page: dict[str, Any] = {
            "executions": [
                {"name": e["name"], "executionArn": f"arn:{e['name']}", "startDate": NOW - timedelta(minutes=e["ago"])}
                for e in self.executions[start : start + 2]
            ]
        }
        if start + 2 < len(self.executions):
            page["nextToken"] = str(start + 2)
        return page

    def _find(self, arn: str) -> dict[str, Any]:
        return next(e for e in self.executions if f"arn:{e['name']}" == arn)

    def describe_execution(self, executionArn: str) -> dict[str, Any]:
        self.described.append(executionArn)
        found = self._find(executionArn)
        return {"executionArn": executionArn, "input": found["input"], "status": found.get("status", "SUCCEEDED")}

    def get_execution_history(self, executionArn: str, maxResults: int) -> dict[str, Any]:
        return {"events": list(self._find(executionArn).get("events", []))}


def test_the_input_names_the_image_as_resolve_reads_it() -> None:
    assert requested_image(push_event(DIGEST, "v1.1.0")) == (DIGEST, "v1.1.0", "ECR push of tag v1.1.0")
    assert requested_image(json.dumps({"image_digest": DIGEST})) == (DIGEST, None, "manual start by digest")
    assert (
        requested_image(json.dumps({"image_digest": DIGEST, "options": {"rollback": True}}))[2] == "rollback by digest"
    )
    assert requested_image(json.dumps({"image_tag": "v1"})) == (None, "v1", "manual start of tag v1")
    assert requested_image("not json")[0] is None and requested_image("[1]")[0] is None
    assert resolved_digest([{"id": 1}, resolve_exit(DIGEST)]) == DIGEST
    assert resolved_digest([{"stateEnteredEventDetails": {"name": "Resolve"}}]) is None


def test_paging_stops_at_the_window_and_each_execution_is_described_once() -> None:
    sfn = PagedExecutions(
        [
            {"name": "e1", "ago": 1, "input": push_event(OTHER, "v2")},
            {"name": "e2", "ago": 2, "input": push_event(DIGEST, "v1")},
            {"name": "e3", "ago": 3, "input": json.dumps({"image_digest": DIGEST})},
            {"name": "e4", "ago": 30, "input": push_event(DIGEST, "v0")},  # before the window
            {"name": "e5", "ago": 40, "input": push_event(DIGEST, "v0")},  # never read
        ]
    )
    finder = DigestFinder(sfn, "arn:machine", DIGEST, not_before=NOW - timedelta(minutes=15))

    first = finder.matches()
    second = finder.matches()

    assert [c.name for c in first] == ["e2", "e3"] == [c.name for c in second]
    assert first[0].how == "ECR push of tag v1"
    assert sfn.pages_read == [None, "2", None, "2"]  # the page holding e4 is the last one read
    assert sfn.described == ["arn:e1", "arn:e2", "arn:e3"]  # once each, over both looks


def test_a_start_by_tag_is_matched_once_resolve_has_resolved_it() -> None:
    resolving: dict[str, Any] = {
        "name": "manual",
        "ago": 1,
        "input": json.dumps({"image_tag": "v1"}),
        "status": "RUNNING",
    }
    failed = {"name": "bad-tag", "ago": 2, "input": json.dumps({"image_tag": "nope"}), "status": "FAILED"}
    sfn = PagedExecutions([resolving, failed])
    finder = DigestFinder(sfn, "arn:machine", DIGEST, not_before=NOW - timedelta(minutes=15))

    before = finder.matches()
    resolving["events"] = [{"id": 1}, resolve_exit(DIGEST)]
    after = finder.matches()

    assert before == []
    assert [(c.name, c.how) for c in after] == [("manual", "manual start of tag v1, resolved by Resolve")]
    assert sfn.described == ["arn:manual", "arn:bad-tag", "arn:manual"]  # the failed one is settled


def test_waiting_says_so_once_and_gives_up_after_wait_start() -> None:
    sfn = PagedExecutions([{"name": "e1", "ago": 1, "input": push_event(OTHER, "v2")}])
    finder = DigestFinder(sfn, "arn:machine", DIGEST, not_before=NOW - timedelta(minutes=15))
    clock = [0.0]
    notes: list[str] = []

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    found = wait_for_executions(finder, 5, 2, lambda: notes.append("waiting"), sleep=sleep, clock=lambda: clock[0])

    assert found == []
    assert notes == ["waiting"]
    assert clock[0] == 5  # 2 + 2 + the last 1, never past the deadline
    assert len(sfn.pages_read) == 4


class Stream(io.StringIO):
    def __init__(self, terminal: bool) -> None:
        super().__init__()
        self.terminal = terminal

    def isatty(self) -> bool:
        return self.terminal


def test_plain_output_off_a_terminal_and_whenever_ci_or_no_color_is_set() -> None:
    terminal, pipe = Stream(True), Stream(False)
    assert plain_output({}, terminal) is False
    assert plain_output({"CI": "false", "NO_COLOR": ""}, terminal) is False
    assert plain_output({}, pipe) is True
    assert plain_output({"CI": "true"}, terminal) is True
    assert plain_output({"NO_COLOR": "1"}, terminal) is True
    assert plain_output({"FORCE_COLOR": "1"}, pipe) is True
