"""Follow an execution until it ends: its history, polled, fed to the same tracker `rehearse` uses.

GetExecutionHistory has no "events since" parameter, so each poll reads the history (page by page)
and passes on the events with an id above the last one seen.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape

from ecs_migrate_deploy.console import ProgressPrinter
from ecs_migrate_deploy.operator.executions import history
from ecs_migrate_deploy.operator.render import print_outcome
from ecs_migrate_deploy.progress import ProgressTracker, StateLine

_MIGRATION_STATES = ("StartMigration", "CheckMigration")


@dataclass
class Watcher:
    """Turns history events into what a person wants to see: state lines, the migration's log, the record."""

    on_state: Callable[[StateLine], None]
    on_log_line: Callable[[str], None]
    on_note: Callable[[str], None]
    record: dict[str, Any] | None = None
    _tracker: ProgressTracker = field(init=False)
    _log_shown: bool = field(default=False, init=False)
    _task_noted: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self._tracker = ProgressTracker(emit=self.on_state)

    def __call__(self, event: dict[str, Any]) -> None:
        self._tracker(event)
        details = event.get("stateExitedEventDetails") or {}
        name = details.get("name")
        if name not in (*_MIGRATION_STATES, "RecordOutcome") or not details.get("output"):
            return
        output = json.loads(details["output"])
        if name == "RecordOutcome":
            self.record = output.get("record")
            return
        migration = output.get("migration") or {}
        if not self._task_noted and migration.get("log_stream"):
            self._task_noted = True
            self.on_note(f"migration log: {migration['log_group']} {migration['log_stream']}")
        if not self._log_shown and migration.get("log_tail"):
            self._log_shown = True
            for line in migration["log_tail"]:
                self.on_log_line(line)


def follow(
    sfn: Any,
    arn: str,
    on_event: Callable[[dict[str, Any]], None],
    interval: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Feed every event to `on_event` as it appears; return DescribeExecution once it is not RUNNING.

    The status is read before the history, so when it says the execution ended, the history read
    right after it is complete.
    """
    last_id = 0
    while True:
        described: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        for event in sorted(history(sfn, arn), key=lambda e: int(e["id"])):
            if int(event["id"]) > last_id:
                last_id = int(event["id"])
                on_event(event)
        if described["status"] != "RUNNING":
            return described
        sleep(interval)


def watch_and_report(sfn: Any, arn: str, console: Console, interval: float = 2.0) -> int:
    """Print the execution's progress until it ends, then its outcome; the exit code: 0 if it succeeded."""
    printer = ProgressPrinter(console)
    watcher = Watcher(on_state=printer.state, on_log_line=printer.output, on_note=printer.note)
    console.print(f"[bold]Watching[/] {escape(arn.rsplit(':', 1)[-1])}")
    described = follow(sfn, arn, watcher, interval=interval)
    print_outcome(console, described, watcher.record)
    return 0 if described["status"] == "SUCCEEDED" else 1
