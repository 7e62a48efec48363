"""Live view of an execution from its Step Functions history: one line per state, as it finishes.

Shared by `rehearse` (emulated) and `watch` (real AWS): both feed history events in order.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Phase of each state, for the time-per-phase summary.
PHASES = {
    "Start": "resolve",
    "Resolve": "resolve",
    "IsNoOp": "resolve",
    "AcquireLock": "lock",
    "LockAcquired": "lock",
    "WaitForLock": "lock",
    "Route": "lock",
    "StartSnapshot": "snapshot",
    "WaitForSnapshot": "snapshot",
    "CheckSnapshot": "snapshot",
    "SnapshotAvailable": "snapshot",
    "CaptureBaseline": "migration",
    "StartMigration": "migration",
    "WaitForMigration": "migration",
    "CheckMigration": "migration",
    "MigrationDone": "migration",
    "Verify": "verify",
    "StartRollout": "rollout",
    "WaitForRollout": "rollout",
    "CheckRollout": "rollout",
    "RolloutDone": "rollout",
    "StartRollback": "rollback",
    "RollbackDone": "rollback",
    "WaitForRollback": "rollback",
    "CheckRollback": "rollback",
    "RecordOutcome": "record",
    "ReleaseLock": "record",
}
_QUIET_TYPES = {"Choice", "Pass", "Succeed", "Fail"}


def _short(digest: str) -> str:
    return digest[:19] + "…" if len(digest) > 20 else digest


def summarize(state: str, output: Any) -> str:
    """One line saying what a state found or did, from its output."""
    if not isinstance(output, dict):
        return ""
    if state == "Resolve" and isinstance(output.get("plan"), dict):
        plan = output["plan"]
        image = plan["image"]
        services = ", ".join(s["name"] for s in plan["services"])
        noop = " (no-op: already deployed)" if plan.get("noop") else ""
        return f"{image['repository']}:{image.get('tag') or '-'} = {_short(image['digest'])} → {services}{noop}"
    part = {
        "AcquireLock": "lock",
        "StartSnapshot": "snapshot",
        "CheckSnapshot": "snapshot",
        "CaptureBaseline": "baseline",
        "StartMigration": "migration",
        "CheckMigration": "migration",
        "Verify": "verification",
        "StartRollout": "rollout",
        "CheckRollout": "rollout",
        "StartRollback": "rollback",
        "CheckRollback": "rollback",
        "RecordOutcome": "record",
    }.get(state)
    value = output.get(part) if part else None
    if not isinstance(value, dict):
        return ""
    if part == "lock":
        return (
            "held" if value.get("acquired") else f"held by {value.get('held_by')}; waiting {value.get('wait_seconds')}s"
        )
    if part == "snapshot":
        return f"{value.get('snapshot_id')} {value.get('status')}"
    if part == "baseline":
        return f"schema fingerprint: {value.get('objects')} objects"
    if part == "migration":
        code = value.get("exit_code")
        return f"task {str(value.get('task_arn', '')).rsplit('/', 1)[-1][:8]} {value.get('last_status')}" + (
            f", exit {code}" if code is not None else ""
        )
    if part == "verification":
        checks = value.get("checks", [])
        counts = value.get("schema_counts") or {}
        changed = sum(n for per_kind in counts.values() for n in per_kind.values())
        return (
            f"{value.get('tool')}: {sum(1 for c in checks if c.get('passed'))}/{len(checks)} checks passed, "
            f"latest {value.get('latest_applied')}, {changed} schema objects changed"
        )
    if part in ("rollout", "rollback"):
        services = value.get("services", [])
        stopped = [t for t in value.get("migration_tasks", []) if t.get("stop_requested")]
        said = [f"{s['name']} {s.get('rollout_state')}" for s in services]
        said += [f"migration task {str(t.get('task_arn', '')).rsplit('/', 1)[-1][:8]} stopped" for t in stopped]
        return ", ".join(said) or "nothing to do"
    if part == "record":
        return str(value.get("outcome"))
    return ""


# The event-driven waits (statemachine: waitForTaskToken states) and the AWS event each waits for.
EVENT_WAITS = {
    "WaitForLock": "the lock's release",
    "WaitForSnapshot": "RDS's snapshot event",
    "WaitForMigration": "ECS's task STOPPED event",
    "WaitForRollout": "ECS's deployment event",
    "WaitForRollback": "ECS's deployment event",
}


def _event_wait_detail(name: str, ended: str, emulated: float) -> str:
    """How an event-driven wait ended: woken by its event, the event came first, or none came."""
    waited = f" after {emulated:.0f}s" if emulated else ""
    if ended == "TaskSucceeded":
        how = f"woken by it{waited}"
    elif ended == "EventAlreadyArrived":
        how = "it had come already"
    elif ended == "DeploymentStopped":
        return f"ended by the stop request{waited}"
    else:
        how = f"none came, checked{waited}"
    return f"waiting for {EVENT_WAITS[name]}: {how}"


@dataclass
class StateLine:
    name: str
    state_type: str
    status: str  # "ok" | "failed" | "waited"
    seconds: float
    detail: str


@dataclass
class ProgressTracker:
    """Turns history events into StateLines and tells `emit` about each as it completes."""

    emit: Callable[[StateLine], None] | None = None
    sleeps_for: Callable[[str], float] | None = None
    lines: list[StateLine] = field(default_factory=list)
    _entered: dict[str, tuple[datetime, str]] = field(default_factory=dict)
    _failure: dict[str, str] = field(default_factory=dict)
    _ended: dict[str, str] = field(default_factory=dict)  # event wait -> how its task ended

    def __call__(self, event: dict[str, Any]) -> None:
        kind = str(event.get("type", ""))
        if kind.endswith("StateEntered"):
            details = event.get("stateEnteredEventDetails", {})
            self._entered[details.get("name", "")] = (event["timestamp"], kind[: -len("StateEntered")])
        elif kind in ("TaskFailed", "LambdaFunctionFailed"):
            details = event.get("taskFailedEventDetails") or event.get("lambdaFunctionFailedEventDetails") or {}
            current = next(reversed(self._entered), "")
            if current in EVENT_WAITS:
                self._ended[current] = str(details.get("error"))
            else:
                self._failure[current] = f"{details.get('error')}: {_cause_message(details.get('cause'))}"
        elif kind in ("TaskSucceeded", "TaskTimedOut"):
            current = next(reversed(self._entered), "")
            if current in EVENT_WAITS:
                self._ended[current] = kind
        elif kind.endswith("StateExited"):
            details = event.get("stateExitedEventDetails", {})
            name = details.get("name", "")
            started, state_type = self._entered.pop(name, (event["timestamp"], "Task"))
            seconds = (event["timestamp"] - started).total_seconds()
            failure = self._failure.pop(name, None)
            if state_type == "Wait":
                emulated = self.sleeps_for(name) if self.sleeps_for else 0.0
                line = StateLine(name, state_type, "waited", seconds, f"wait {emulated:.0f}s" if emulated else "")
            elif name in EVENT_WAITS:
                emulated = self.sleeps_for(name) if self.sleeps_for else 0.0
                detail = _event_wait_detail(name, self._ended.pop(name, "TaskTimedOut"), emulated)
                line = StateLine(name, state_type, "waited", seconds, detail)
            elif failure:
                line = StateLine(name, state_type, "failed", seconds, failure)
            else:
                output = _parse(details.get("output"))
                line = StateLine(name, state_type, "ok", seconds, summarize(name, output))
            self.lines.append(line)
            if self.emit and not (state_type in _QUIET_TYPES and not line.detail):
                self.emit(line)

    def phase_seconds(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for line in self.lines:
            phase = PHASES.get(line.name, "other")
            totals[phase] = totals.get(phase, 0.0) + line.seconds
        return totals


def _parse(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else text
    except json.JSONDecodeError:
        return None


def _cause_message(cause: Any) -> str:
    parsed = _parse(cause)
    if isinstance(parsed, dict) and parsed.get("errorMessage"):
        return str(parsed["errorMessage"]).splitlines()[0]
    return str(cause or "").splitlines()[0] if cause else ""
