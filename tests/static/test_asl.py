"""statemachine/*.asl.json: valid ASL (asl-validator), and the conventions of this pipeline."""

from __future__ import annotations

import inspect
import json
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


@pytest.mark.parametrize("path", ASL_PATHS, ids=lambda p: p.name)
def test_asl_validator_accepts_the_definition(path: Path) -> None:
    result = run([tool("asl-validator", node=True), "--json-path", str(path)])
    assert result.returncode == 0, f"asl-validator rejected {path.relative_to(ROOT)}:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("path", ASL_PATHS, ids=lambda p: p.name)
def test_every_task_retries_transient_errors_and_catches(path: Path) -> None:
    problems = []
    for name, state in _states(path):
        if state.get("Type") != "Task":
            continue
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
        for handler in [*state.get("Retry", []), *state.get("Catch", [])]:
            for error in handler.get("ErrorEquals", []):
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
    for name, state in _states(path):
        if state.get("Type") != "Task":
            continue
        retried = {error for retrier in state.get("Retry", []) for error in retrier["ErrorEquals"]}
        assert {"Lambda.Unknown", "Sandbox.Timedout", "States.Timeout"} <= retried, name
        function = state["Resource"].removeprefix("${").removesuffix("Arn}")
        assert state["TimeoutSeconds"] > timeouts[function], name
