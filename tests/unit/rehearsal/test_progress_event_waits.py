"""The live view says what an event-driven wait waited for and how it ended, from the history events
Step Functions writes for a waitForTaskToken state (TaskSucceeded, TaskTimedOut, TaskFailed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ecs_migrate_deploy.progress import ProgressTracker, StateLine

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _history(name: str, ending: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"type": "TaskStateEntered", "timestamp": T0, "stateEnteredEventDetails": {"name": name}},
        {**ending, "timestamp": T0 + timedelta(seconds=1)},
        {"type": "TaskStateExited", "timestamp": T0 + timedelta(seconds=1), "stateExitedEventDetails": {"name": name}},
    ]


@pytest.mark.parametrize(
    ("ending", "detail"),
    [
        ({"type": "TaskSucceeded"}, "waiting for ECS's task STOPPED event: woken by it after 42s"),
        ({"type": "TaskTimedOut"}, "waiting for ECS's task STOPPED event: none came, checked after 42s"),
        (
            {"type": "TaskFailed", "taskFailedEventDetails": {"error": "EventAlreadyArrived", "cause": "{}"}},
            "waiting for ECS's task STOPPED event: it had come already",
        ),
    ],
)
def test_an_event_wait_says_what_it_waited_for_and_how_it_ended(ending: dict[str, Any], detail: str) -> None:
    lines: list[StateLine] = []
    tracker = ProgressTracker(emit=lines.append, sleeps_for=lambda name: 42.0)

    for event in _history("WaitForMigration", ending):
        tracker(event)

    assert [(line.name, line.status, line.detail) for line in lines] == [("WaitForMigration", "waited", detail)]
