"""statemachine/*.asl.json: valid ASL (asl-validator), and the conventions of this pipeline."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from deploy_pipeline import errors
from static_support import ASL_PATHS, ROOT, run, tool

# Every Task must retry these (Lambda's own transient failures, and ours).
MUST_RETRY = ("Lambda.ServiceException", "Lambda.TooManyRequestsException", "TransientAwsError")


def test_there_is_a_definition() -> None:
    assert ASL_PATHS, "no statemachine/*.asl.json"


def _definition(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _machines(definition: dict[str, Any], where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """The top-level machine and every nested one (Parallel branches, Map iterators/processors)."""
    yield where or "top level", definition
    for name, state in definition.get("States", {}).items():
        for index, branch in enumerate(state.get("Branches", [])):
            yield from _machines(branch, f"{where}{name}.Branches[{index}]/")
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                yield from _machines(state[key], f"{where}{name}.{key}/")


def _states(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    for where, machine in _machines(_definition(path)):
        for name, state in machine.get("States", {}).items():
            yield (f"{where}{name}" if where != "top level" else name), state


def _is_event_wait(state: dict[str, Any]) -> bool:
    """An event-driven wait (logic/wakeups.py): a waitForTaskToken Task whose every outcome is the check."""
    return str(state.get("Resource", "")).endswith(".waitForTaskToken")


def _phase_tasks(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """The Task states that run a phase's Lambda (every Task but the event-driven waits)."""
    return ((name, state) for name, state in _states(path) if state.get("Type") == "Task" and not _is_event_wait(state))


# Each event-driven wait, and the check it always leads to (woken, timed out, or failed to register).
EVENT_WAITS = {
    "WaitForLock": ("AcquireLock", "lock"),
    "WaitForSnapshot": ("CheckSnapshot", "snapshot"),
    "WaitForMigration": ("CheckMigration", "migration"),
    "WaitForRollout": ("CheckRollout", "rollout"),
    "WaitForRollback": ("CheckRollback", "rollback"),
}


def test_every_event_wait_ends_in_its_check_within_the_interval_the_check_chose() -> None:
    states = _definition(ROOT / "statemachine" / "deploy.asl.json")["States"]
    waits = {name: state for name, state in states.items() if _is_event_wait(state)}
    assert set(waits) == set(EVENT_WAITS)
    for name, state in waits.items():
        check, phase = EVENT_WAITS[name]
        assert state["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken", name
        assert state["Parameters"]["FunctionName"] == "${AwaitEventFunctionArn}", name
        assert state["Parameters"]["Payload"] == {
            "token.$": "$$.Task.Token",
            "wait_for": phase,
            "execution.$": "$.execution",
            "state.$": "$",
        }, name
        # The fallback: the interval the last check chose, after which the check runs as if woken.
        assert state["TimeoutSecondsPath"] == f"$.{phase}.wait_seconds" and "TimeoutSeconds" not in state, name
        # Woken, timed out, or unable to register: the state is left as it was, and the check runs.
        assert state["ResultPath"] is None and state["Next"] == check, name
        assert state["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": check}], name
        assert "Retry" not in state, name
        # and a check that is not done yet comes back to this wait
        assert states[states[check]["Next"]]["Default"] == name, name


@pytest.mark.parametrize("path", ASL_PATHS, ids=lambda p: p.name)
def test_asl_validator_accepts_the_definition(path: Path) -> None:
    result = run([tool("asl-validator", node=True), "--json-path", str(path)])
    assert result.returncode == 0, f"asl-validator rejected {path.relative_to(ROOT)}:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("path", ASL_PATHS, ids=lambda p: p.name)
def test_every_task_retries_transient_errors_and_catches(path: Path) -> None:
    problems = []
    for name, state in _phase_tasks(path):
        retried = {error for retrier in state.get("Retry", []) for error in retrier.get("ErrorEquals", [])}
        missing = [e for e in MUST_RETRY if e not in retried and "States.ALL" not in retried]
        if missing:
            problems.append(f"{name}: no Retry for {missing}")
        if not state.get("Catch"):
            problems.append(f"{name}: no Catch")
    assert not problems, "\n".join(problems)


def _targets(state: dict[str, Any]) -> Iterator[str]:
    if "Next" in state:
        yield state["Next"]
    if "Default" in state:
        yield state["Default"]
    for choice in state.get("Choices", []):
        if "Next" in choice:
            yield choice["Next"]
    for catcher in state.get("Catch", []):
        if "Next" in catcher:
            yield catcher["Next"]


@pytest.mark.parametrize("path", ASL_PATHS, ids=lambda p: p.name)
def test_every_state_is_reachable_from_start_at(path: Path) -> None:
    for where, machine in _machines(_definition(path)):
        states = machine["States"]
        seen: set[str] = set()
        todo = [machine["StartAt"]]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            assert name in states, f"{where}: transition to a state that does not exist: {name}"
            seen.add(name)
            todo.extend(_targets(states[name]))
        unreachable = sorted(set(states) - seen)
        assert not unreachable, f"{where}: unreachable from {machine['StartAt']}: {unreachable}"


@pytest.mark.parametrize("path", ASL_PATHS, ids=lambda p: p.name)
def test_every_wait_takes_its_interval_from_the_state(path: Path) -> None:
    for name, state in _states(path):
        if state.get("Type") == "Wait":
            assert "SecondsPath" in state, f"{name}: Wait must use SecondsPath (the check Lambda chooses the interval)"
            fixed = sorted({"Seconds", "Timestamp", "TimestampPath"} & set(state))
            assert not fixed, f"{name}: {fixed} beside SecondsPath"


@pytest.mark.parametrize("path", ASL_PATHS, ids=lambda p: p.name)
def test_named_errors_are_error_classes_of_the_code(path: Path) -> None:
    """Retry/Catch match errorType by class name: a typo would silently never match."""
    classes = {name for name, obj in inspect.getmembers(errors, inspect.isclass) if issubclass(obj, Exception)}
    unknown = set()
    for name, state in _states(path):
        named = [
            e for handler in [*state.get("Retry", []), *state.get("Catch", [])] for e in handler.get("ErrorEquals", [])
        ]
        named += _expected_errors(state)
        for error in named:
            if error.startswith(("States.", "Lambda.", "Sandbox.")):  # AWS's own error names
                continue
            if error not in classes:
                unknown.add(f"{name}: {error}")
    assert not unknown, f"errors the ASL names that deploy_pipeline.errors does not define: {sorted(unknown)}"


@pytest.mark.parametrize("path", ASL_PATHS, ids=lambda p: p.name)
def test_a_timed_out_invocation_is_retried_and_never_overlaps_a_running_one(path: Path) -> None:
    """Every Lambda may run to its side effect and still fail: an unhandled timeout ("Lambda.Unknown",
    which AWS documents as covering function timeouts), the runtime's "Sandbox.Timedout", or the Task's
    own "States.Timeout". Each is retried, and the Task's timeout is longer than the function's, so a
    retry never starts while the timed-out invocation still runs."""
    from static_support import functions, global_function

    timeouts = {name: int(props.get("Timeout") or global_function()["Timeout"]) for name, props in functions().items()}
    for name, state in _phase_tasks(path):
        retried = {error for retrier in state.get("Retry", []) for error in retrier["ErrorEquals"]}
        assert {"Lambda.Unknown", "Sandbox.Timedout", "States.Timeout"} <= retried, name
        function = state["Resource"].removeprefix("${").removesuffix("Arn}")
        assert state["TimeoutSeconds"] > timeouts[function], name


def _expected_errors(state: dict[str, Any]) -> list[str]:
    """The error names a state's Comment lists as expected ("Expected errors: A, B (…)")."""
    found = re.search(r"Expected errors: ([A-Za-z, ]+) \(", state.get("Comment", ""))
    return [name.strip() for name in found.group(1).split(",")] if found else []


@pytest.mark.parametrize("path", ASL_PATHS, ids=lambda p: p.name)
def test_a_named_catcher_routes_differently_from_the_catchers_after_it(path: Path) -> None:
    """A catcher naming errors with the same Next and ResultPath as the catch-all after it tells the
    reader those errors are handled differently when they are not: the names go in the Comment."""
    for name, state in _states(path):
        routes = [(catcher.get("Next"), catcher.get("ResultPath")) for catcher in state.get("Catch", [])]
        assert len(routes) == len(set(routes)), f"{name}: catchers with the same Next and ResultPath: {routes}"


# Retriers beyond the transient ones every Task shares, with why.
EXTRA_RETRIERS = {
    # The lock is never released while a migration task still stops: wait for it (about 5 minutes).
    "ReleaseLock": {"MigrationTaskStillRunning"},
}


@pytest.mark.parametrize("path", ASL_PATHS, ids=lambda p: p.name)
def test_every_task_retries_transient_errors_the_same_way(path: Path) -> None:
    tasks = dict(_phase_tasks(path))
    shared = [
        retrier
        for retrier in next(iter(tasks.values()))["Retry"]
        if retrier["ErrorEquals"] != ["MigrationTaskStillRunning"]
    ]
    for name, state in tasks.items():
        retriers = state["Retry"]
        assert retriers[: len(shared)] == shared, f"{name}: its transient retriers differ from the others'"
        extra = {error for retrier in retriers[len(shared) :] for error in retrier["ErrorEquals"]}
        assert extra == EXTRA_RETRIERS.get(name, set()), f"{name}: retriers beyond the shared ones: {sorted(extra)}"


# Where each Task's failure goes: before anything changed, straight to the record; once the migration
# may have started, through the rollback; a failed rollback is recorded as such; the record and the
# lock release never stop the execution.
CATCH_ROUTES = {
    "Resolve": ("RecordOutcome", "$.error"),
    "AcquireLock": ("RecordOutcome", "$.error"),
    "StartSnapshot": ("RecordOutcome", "$.error"),
    "CheckSnapshot": ("RecordOutcome", "$.error"),
    "CaptureBaseline": ("RecordOutcome", "$.error"),
    "StartMigration": ("StartRollback", "$.error"),
    "CheckMigration": ("StartRollback", "$.error"),
    "Verify": ("StartRollback", "$.error"),
    "StartRollout": ("StartRollback", "$.error"),
    "CheckRollout": ("StartRollback", "$.error"),
    "StartRollback": ("RecordOutcome", "$.rollback_error"),
    "CheckRollback": ("RecordOutcome", "$.rollback_error"),
    "RecordOutcome": ("ReleaseLock", "$.record_error"),
    "ReleaseLock": ("Finish", "$.release_error"),
}


def test_every_failure_goes_where_the_design_says() -> None:
    states = _definition(ROOT / "statemachine" / "deploy.asl.json")["States"]
    routes = {
        name: (state["Catch"][0]["Next"], state["Catch"][0]["ResultPath"])
        for name, state in states.items()
        if state.get("Type") == "Task"
    }
    assert routes == {**CATCH_ROUTES, **{wait: (check, None) for wait, (check, _) in EVENT_WAITS.items()}}
