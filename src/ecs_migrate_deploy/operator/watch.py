"""Follow an execution until it ends: its history, polled, fed to the same tracker `rehearse` uses.

GetExecutionHistory has no "events since" parameter, so each poll reads the history (page by page)
and passes on the events with an id above the last one seen. While nothing new is printed for
`heartbeat` seconds, a line says what the execution waits for (`pending`). Ctrl-C ends the watch,
not the execution: `Interrupted` carries what is left running, for the command to say so.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from rich.console import Console
from rich.markup import escape

from ecs_migrate_deploy.console import ProgressPrinter
from ecs_migrate_deploy.operator.executions import history
from ecs_migrate_deploy.operator.pending import LiveReader, waiting_for
from ecs_migrate_deploy.operator.render import duration, print_outcome
from ecs_migrate_deploy.operator.stack import Operator
from ecs_migrate_deploy.progress import PHASES, ProgressTracker, StateLine

_MIGRATION_STATES = ("StartMigration", "CheckMigration")
T = TypeVar("T")


@dataclass
class Watcher:
    """Turns history events into what a person wants to see: state lines, the migration's log, the
    record; and keeps where the execution is (`current`, `state`) for the progress line."""

    on_state: Callable[[StateLine], None]
    on_log_line: Callable[[str], None]
    on_note: Callable[[str], None]
    record: dict[str, Any] | None = None
    current: str | None = None  # the state entered last
    state: dict[str, Any] = field(default_factory=dict)  # the newest pipeline state a state exited with
    _tracker: ProgressTracker = field(init=False)
    _log_shown: bool = field(default=False, init=False)
    _task_noted: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self._tracker = ProgressTracker(emit=self.on_state)

    def __call__(self, event: dict[str, Any]) -> None:
        self._tracker(event)
        entered = event.get("stateEnteredEventDetails") or {}
        if entered.get("name"):
            self.current = str(entered["name"])
        details = event.get("stateExitedEventDetails") or {}
        name = details.get("name")
        output = json.loads(details["output"]) if details.get("output") else None
        if not isinstance(output, dict):
            return
        if "plan" in output:
            self.state = output
        if name == "RecordOutcome":
            self.record = output.get("record")
            return
        if name not in _MIGRATION_STATES:
            return
        migration = output.get("migration") or {}
        if not self._task_noted and migration.get("log_stream"):
            self._task_noted = True
            self.on_note(f"migration log: {migration['log_group']} {migration['log_stream']}")
        if not self._log_shown and migration.get("log_tail"):
            self._log_shown = True
            for line in migration["log_tail"]:
                self.on_log_line(line)

    @property
    def where(self) -> str:
        """`rollout, in CheckRollout`: the phase and the state, for a person."""
        if self.current is None:
            return "starting"
        phase = PHASES.get(self.current)
        return f"{phase}, in {self.current}" if phase else f"in {self.current}"


def follow(
    sfn: Any,
    arn: str,
    on_event: Callable[[dict[str, Any]], None],
    interval: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    on_poll: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Feed every event to `on_event` as it appears; return DescribeExecution once it is not RUNNING.

    The status is read before the history, so when it says the execution ended, the history read
    right after it is complete. `on_poll` gets each DescribeExecution of a running execution, after
    its new events.
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
        if on_poll is not None:
            on_poll(described)
        sleep(interval)


@dataclass
class Heartbeat:
    """Due when nothing was printed for `every` seconds."""

    every: float
    clock: Callable[[], float] = time.monotonic
    last: float = field(init=False)

    def __post_init__(self) -> None:
        self.last = self.clock()

    def printed(self) -> None:
        self.last = self.clock()

    def due(self) -> bool:
        return self.clock() - self.last >= self.every

    def resetting(self, callback: Callable[[T], None]) -> Callable[[T], None]:
        """`callback`, which prints, and then counts as printed."""

        def call(value: T) -> None:
            callback(value)
            self.printed()

        return call


@dataclass(frozen=True)
class Watched:
    """How a watched execution ended: its DescribeExecution and the record RecordOutcome wrote."""

    described: dict[str, Any]
    record: dict[str, Any] | None

    @property
    def exit_code(self) -> int:
        return 0 if self.described["status"] == "SUCCEEDED" else 1

    def as_json(self) -> dict[str, Any]:
        record = self.record or {}
        failed = self.exit_code != 0  # (the record names its outcome as the error when there was none)
        return {
            "status": self.described["status"],
            "outcome": record.get("outcome"),
            "error": (record.get("error") or self.described.get("error")) if failed else None,
            "cause": record.get("cause") or self.described.get("cause"),
        }


class Interrupted(Exception):
    """Ctrl-C during a watch: the execution goes on."""

    def __init__(self, name: str, arn: str, where: str) -> None:
        super().__init__(f"stopped watching {name}")
        self.name, self.arn, self.where = name, arn, where


class Observer(Protocol):
    """Something else that reads the history as it is watched (e.g. `stop`'s WaitEnder)."""

    def event(self, event: dict[str, Any]) -> None: ...

    def poll(self) -> None: ...


def watch_and_report(
    operator: Operator, arn: str, console: Console, interval: float, heartbeat: float, also: Observer | None = None
) -> Watched:
    """Print the execution's progress until it ends, then its outcome. `also` sees every event, and
    is told after each poll of the running execution."""
    sfn = operator.client("stepfunctions")
    printer = ProgressPrinter(console)
    beat = Heartbeat(heartbeat)
    watcher = Watcher(
        on_state=beat.resetting(printer.state),
        on_log_line=beat.resetting(printer.output),
        on_note=beat.resetting(printer.note),
    )
    live = LiveReader(operator.client)

    def on_event(event: dict[str, Any]) -> None:
        watcher(event)
        if also is not None:
            also.event(event)

    def on_poll(described: dict[str, Any]) -> None:
        if also is not None:
            also.poll()
        if beat.due():
            elapsed = (datetime.now(UTC) - described["startDate"]).total_seconds()
            phase = PHASES.get(watcher.current or "", "starting")
            printer.pending(phase, duration(elapsed), waiting_for(watcher.current, watcher.state, live))
            beat.printed()

    name = arn.rsplit(":", 1)[-1]
    console.print(f"[bold]Watching[/] {escape(name)}")
    try:
        described = follow(sfn, arn, on_event, interval=interval, on_poll=on_poll)
    except KeyboardInterrupt:
        raise Interrupted(name, arn, watcher.where) from None
    print_outcome(console, described, watcher.record)
    return Watched(described, watcher.record)


def interrupted_lines(operator: Operator, interrupted: Interrupted) -> list[str]:
    """What Ctrl-C left running, and the commands that follow it again or stop it."""
    stack = operator.stack
    return [
        f"Stopped watching; the execution goes on: {interrupted.name} is still running ({interrupted.where}).",
        f"  follow it again: ecs-migrate-deploy watch {interrupted.name} --stack-name {stack.name} --region {stack.region}",
        f"  stop it:         ecs-migrate-deploy stop {interrupted.name} --reason TEXT --stack-name {stack.name} --region {stack.region}",
        "                   (it stops what it started or puts it back, releases the lock and records who stopped it)",
    ]
