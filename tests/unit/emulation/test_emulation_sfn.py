"""The real SFN interpreter drives in-process handlers; waits and retry backoff are skipped but recorded."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import emulation_fake_handlers as fakes
import pytest

from ecs_migrate_deploy.emulation import Emulator
from tests.support.emulation import small_spec


def test_a_task_runs_its_python_handler_with_a_lambda_context(emulator: Emulator) -> None:
    report = emulator.run({"who": "ops", "nap": 0}, name="greet")

    assert report.status == "SUCCEEDED", report.cause
    greeting = report.output["greeting"]
    assert greeting["hello"] == "ops"
    assert greeting["function_name"] == "GreetFunction"
    assert greeting["invoked_function_arn"] == emulator.world.function_arns["GreetFunction"]
    assert greeting["memory_limit_in_mb"] == 256
    assert 0 < greeting["remaining_ms"] <= 30_000
    scheduled = [e for e in report.events if e["type"] == "LambdaFunctionScheduled"]
    assert scheduled[0]["lambdaFunctionScheduledEventDetails"]["resource"] == greeting["invoked_function_arn"]


def test_a_handler_exception_is_catchable_by_its_class_name(emulator: Emulator) -> None:
    report = emulator.run({"explode": "migration", "nap": 0}, name="caught")

    assert report.status == "SUCCEEDED"
    error = report.output["error"]
    assert error["Error"] == "MigrationFailed"
    cause = json.loads(error["Cause"])
    assert cause == {
        "errorType": "MigrationFailed",
        "errorMessage": "the migration task exited 3",
        "stackTrace": [],
    }
    failed = [e for e in report.events if e["type"] == "LambdaFunctionFailed"]
    assert [e["lambdaFunctionFailedEventDetails"]["error"] for e in failed] == ["MigrationFailed"]
    assert "explode_result" not in report.output


def test_an_uncaught_handler_exception_fails_the_execution_with_its_error_type(emulator: Emulator) -> None:
    report = emulator.run({"explode": "value", "nap": 0}, name="uncaught")

    assert report.status == "FAILED"
    assert report.error == "ValueError"
    assert json.loads(report.cause or "{}")["errorMessage"] == "not caught by the ASL"
    assert report.state_names == ["Greet", "Flaky", "Explode"]


def test_a_300_second_wait_is_skipped_but_recorded(emulator: Emulator) -> None:
    started = time.perf_counter()
    report = emulator.run({"nap": 300}, name="nap")
    elapsed = time.perf_counter() - started

    assert report.status == "SUCCEEDED"
    assert elapsed < 60  # not slept: a fifth of the wait, with room for a loaded machine
    assert [(s.kind, s.state, s.seconds, s.skipped) for s in report.sleeps] == [("wait", "Nap", 300.0, True)]
    (nap,) = report.visits("Nap")
    assert nap.type == "Wait"
    assert nap.slept_seconds == 300
    assert report.emulated_wait_seconds == 300
    assert report.emulated_seconds >= 300
    assert report.state_names == ["Greet", "Flaky", "Explode", "Nap", "Done"]


def test_retry_backoff_is_skipped_but_recorded_per_state(emulator: Emulator) -> None:
    fakes.CALLS.clear()
    report = emulator.run({"nap": 0, "flaky": 2, "key": "retry-test"}, name="retry")

    assert report.status == "SUCCEEDED", report.cause
    assert report.output["flaky_result"] == {"attempts": 3}
    retries = [(s.state, s.seconds) for s in report.sleeps if s.kind == "retry"]
    assert retries == [("Flaky", 30.0), ("Flaky", 60.0)]
    assert report.visits("Flaky")[0].slept_seconds == 90
    failures = [e for e in report.events if e["type"] == "LambdaFunctionFailed"]
    assert len(failures) == 2


def test_sleeps_are_recorded_per_execution(emulator: Emulator) -> None:
    first = emulator.run({"nap": 120}, name="one")
    second = emulator.run({"nap": 7}, name="two")

    assert [s.seconds for s in first.sleeps] == [120.0]
    assert [s.seconds for s in second.sleeps] == [7.0]


def test_on_event_sees_every_history_event_once_in_order() -> None:
    seen: list[dict[str, Any]] = []
    with Emulator(small_spec(), on_event=seen.append) as emu:
        report = emu.run({"nap": 1}, name="live")

    assert [e["id"] for e in seen] == [e["id"] for e in report.events]
    assert [e["id"] for e in seen] == sorted({e["id"] for e in seen})
    assert seen[0]["type"] == "ExecutionStarted"
    assert seen[-1]["type"] == "ExecutionSucceeded"


def test_wait_times_out_on_a_stuck_execution_and_stops_it() -> None:
    with Emulator(small_spec(), skip_waits=False) as emu:
        arn = emu.start({"nap": 3600}, name="stuck")
        with pytest.raises(TimeoutError, match="still running"):
            emu.wait(arn, timeout=1)
        status = emu.client("stepfunctions").describe_execution(executionArn=arn)["status"]

    assert status == "ABORTED"


def test_the_emulator_restores_moto_and_the_environment_on_exit() -> None:
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.ecs.models import EC2ContainerServiceBackend
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    originals = (
        LambdaSimpleBackend.invoke,
        WaitFunction._wait_interval,
        vars(retrier_decl)["time"],
        EC2ContainerServiceBackend.run_task,
        EC2ContainerServiceBackend.describe_services,
    )
    environment = dict(os.environ)

    with Emulator(small_spec(), extra_env={"POWERTOOLS_LOG_LEVEL": "WARNING"}):
        assert LambdaSimpleBackend.invoke is not originals[0]
        assert vars(retrier_decl)["time"] is not time
        assert os.environ["CLUSTER_NAME"] == "acme"
        assert os.environ["POWERTOOLS_TRACE_DISABLED"] == "1"
        assert os.environ["POWERTOOLS_LOG_LEVEL"] == "WARNING"
        assert os.environ["AWS_DEFAULT_REGION"] == "us-east-1"

    assert (
        LambdaSimpleBackend.invoke,
        WaitFunction._wait_interval,
        vars(retrier_decl)["time"],
        EC2ContainerServiceBackend.run_task,
        EC2ContainerServiceBackend.describe_services,
    ) == originals
    assert vars(retrier_decl)["time"] is time
    assert dict(os.environ) == environment


def test_an_explicit_route_wins_over_the_configured_handler() -> None:
    def stand_in(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"routed": context.function_name, "saw": event.get("who")}

    with Emulator(small_spec(), routes={"GreetFunction": stand_in}) as emu:
        report = emu.run({"who": "route", "nap": 0}, name="routed")
        invocations = [(i.function_name, i.error_type) for i in emu.seams.lambdas.invocations]

    assert report.output["greeting"] == {"routed": "GreetFunction", "saw": "route"}
    assert invocations == [("GreetFunction", None), ("FlakyFunction", None), ("ExplodeFunction", None)]


LOOP_ASL: dict[str, Any] = {
    "StartAt": "Poll",
    "States": {
        "Poll": {
            "Type": "Task",
            "Resource": "${PollFunctionArn}",
            "ResultPath": "$.poll",
            "Retry": [{"ErrorEquals": ["TransientAwsError"], "IntervalSeconds": 7, "MaxAttempts": 2}],
            "Next": "Done?",
        },
        "Done?": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.poll.done", "BooleanEquals": True, "Next": "Finished"}],
            "Default": "Poll",
        },
        "Finished": {"Type": "Succeed"},
    },
}


def test_a_retry_is_attributed_to_the_visit_it_happened_in() -> None:
    spec = small_spec(asl=LOOP_ASL, functions={"PollFunction": "emulation_fake_handlers.poll"})
    with Emulator(spec) as emu:
        report = emu.run({"key": "loop"}, name="loop")

    assert report.status == "SUCCEEDED", report.cause
    assert report.state_names == ["Poll", "Done?", "Poll", "Done?", "Finished"]
    assert [visit.slept_seconds for visit in report.visits("Poll")] == [0.0, 7.0]
    assert report.output["poll"] == {"calls": 3, "done": True}
