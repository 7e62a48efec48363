"""Step Functions: Wait states, Retry backoff and task-token waits in emulated time, recorded.

Both seams patch moto's Step Functions interpreter (`moto/stepfunctions/parser/asl/...`):
`SleepRecorder` makes Wait states and Retry backoff instant, `EventDrivenWaits` turns a task-token
wait into ticks of the emulated clock, each letting AWS's state-change events
(`aws_events.AwsEventSource`) happen.
"""

from __future__ import annotations

import sys
import threading
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from ecs_migrate_deploy.emulation.aws_events import AwsEventSource, EventDelivery
from ecs_migrate_deploy.emulation.seams.base import Seam, _now, _Patches

if TYPE_CHECKING:
    from ecs_migrate_deploy.emulation.world import World


@dataclass(frozen=True)
class RecordedSleep:
    """A sleep the SFN interpreter asked for: `kind` wait = a Wait state, retry = Retry backoff, event =
    a tick of a task-token wait."""

    kind: Literal["wait", "retry", "event"]  # event: a tick of an event-driven wait (EventDrivenWaits)
    state: str | None
    seconds: float
    execution_arn: str | None
    skipped: bool
    at: datetime = field(default_factory=lambda: _now())


def _context_of(env: Any) -> tuple[str | None, str | None]:
    """(state name, execution ARN) from the interpreter's Environment, if it has them."""
    try:
        data = env.states.context_object.context_object_data
        state = data.get("State", {}).get("Name")
        execution = data.get("Execution", {}).get("Id")
        return state, execution
    except AttributeError:
        return None, None


class SleepRecorder(Seam):
    """Makes Wait states and Retry backoff instant, recording what they asked for.

    Patches:
    - `moto/stepfunctions/parser/asl/component/state/wait/wait_function/wait_function.py`
      `WaitFunction._wait_interval(env, wait_seconds)`;
    - the `time` name inside `moto/stepfunctions/parser/asl/component/common/retry/retrier_decl.py`
      (its `RetrierDecl._eval_body` calls `time.sleep(interval)`): replaced by a proxy whose `sleep`
      records, so the global `time.sleep` stays untouched for everyone else.
    The recorded seconds let a test or a benchmark compute the timeline AWS would have taken.
    """

    def __init__(self, *, skip_waits: bool = True, skip_retries: bool = True) -> None:
        super().__init__()
        self.skip_waits = skip_waits
        self.skip_retries = skip_retries
        self.records: list[RecordedSleep] = []
        self._lock = threading.Lock()

    def _record(self, record: RecordedSleep) -> None:
        with self._lock:
            self.records.append(record)

    def for_execution(self, execution_arn: str) -> list[RecordedSleep]:
        with self._lock:
            return [r for r in self.records if r.execution_arn == execution_arn]

    def _apply(self, patches: _Patches) -> None:
        from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
        from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
            WaitFunction,
        )

        recorder = self
        original_wait = WaitFunction._wait_interval

        def _wait_interval(function: Any, env: Any, wait_seconds: int) -> None:
            state, execution = _context_of(env)
            recorder._record(RecordedSleep("wait", state, float(wait_seconds), execution, recorder.skip_waits))
            if not recorder.skip_waits:
                original_wait(function, env, wait_seconds)

        real_time = vars(retrier_decl)["time"]

        def sleep(seconds: float) -> None:
            # The caller is RetrierDecl._eval_body, whose local `env` names the state and execution.
            caller = sys._getframe(1)
            state, execution = _context_of(caller.f_locals.get("env"))
            recorder._record(RecordedSleep("retry", state, float(seconds), execution, recorder.skip_retries))
            if not recorder.skip_retries:
                real_time.sleep(seconds)

        proxy = types.ModuleType("time", "time, with sleep recorded by ecs_migrate_deploy.emulation")
        proxy.__dict__.update({k: v for k, v in vars(real_time).items() if not k.startswith("__")})
        proxy.sleep = sleep  # type: ignore[attr-defined]

        patches.set(WaitFunction, "_wait_interval", _wait_interval)
        patches.set(retrier_decl, "time", proxy)


class EventDrivenWaits(Seam):
    """A task-token wait in emulated time: ticks of the clock until woken or timed out.

    Replaces the interpreter's real-time wait for a task token
    (`StateTaskServiceCallback._wait_for_task_token_timeout`) with ticks of the emulated clock: each
    tick moves the pipeline's clock on by `tick_seconds` (recorded like a skipped Wait), lets the
    event source act, and ends the wait as soon as SendTaskSuccess has reached its token; after the
    state's TimeoutSecondsPath, the wait times out as on AWS. The real time a tick takes is left out
    of the emulated clock (`real_seconds_in_ticks`).

    A wait that has ended, woken or timed out, closes its token: SendTaskSuccess and SendTaskFailure
    on it then fail with TaskTimedOut, as AWS documents ("The task token has either expired or the task
    associated with the token has already been closed", Step Functions API Reference, SendTaskSuccess,
    Errors). moto keeps accepting them (its callback endpoint is never told its consumer is gone), which
    hid a lost wake-up: a wake sent to the previous wait's token looked delivered. Told, moto would
    answer TaskDoesNotExist rather than TaskTimedOut (`moto/stepfunctions/parser/models.py`,
    `send_task_success` / `send_task_failure`: its isinstance test is on the wrapping
    CallbackNotifyConsumerError), and raise either without the message its base class requires (a
    TypeError). Only this seam closes tokens, so both names raise the documented TaskTimedOut here.
    """

    def __init__(self, recorder: SleepRecorder, delivery: EventDelivery | None = None) -> None:
        super().__init__()
        self.recorder = recorder
        self.delivery = delivery or EventDelivery()
        self.source: AwsEventSource | None = None
        # Real time spent looking and delivering inside ticks: the emulated clock leaves it out, so a
        # tick lasts exactly `tick_seconds` however long the emulation takes to act.
        self.real_seconds_in_ticks = 0.0

    def attach(self, world: World, clock: Callable[[], datetime]) -> AwsEventSource:
        """Start emitting the world's events (once it is built)."""
        self.source = AwsEventSource(world, self.delivery, clock)
        return self.source

    def _apply(self, patches: _Patches) -> None:
        from moto.stepfunctions.parser import models as parser_models
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
            StateTaskServiceCallback,
        )
        from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackConsumerTimeout

        closed = _closed_token_error()
        for name in ("TaskTimedOut", "TaskDoesNotExist"):
            patches.set(parser_models, name, closed)
        seam = self
        original = StateTaskServiceCallback._wait_for_task_token_timeout

        def wait(service: Any, timeout_seconds: int, callback_endpoint: Any) -> Any:
            # The caller, `_eval_wait_for_task_token`, holds the Environment (state and execution names).
            env = sys._getframe(1).f_locals.get("env")
            try:
                return until_woken_or_timed_out(service, timeout_seconds, callback_endpoint, env)
            finally:
                callback_endpoint.report(CallbackConsumerTimeout())  # the token is closed

        def until_woken_or_timed_out(service: Any, timeout_seconds: int, callback_endpoint: Any, env: Any) -> Any:
            if seam.source is None or not seam.recorder.skip_waits:
                return original(service, timeout_seconds, callback_endpoint)
            state, execution = _context_of(env)
            waited = 0.0
            # A stopped execution (StopExecution, or the emulator's teardown) stops waiting at once.
            while waited < timeout_seconds and (env is None or env.is_running()):
                outcome = callback_endpoint.get_outcome()
                if outcome is not None:
                    return outcome
                step = min(seam.delivery.tick_seconds, timeout_seconds - waited)
                seam.recorder._record(RecordedSleep("event", state, step, execution, True))
                waited += step
                began = time.perf_counter()
                seam.source.tick()
                seam.real_seconds_in_ticks += time.perf_counter() - began
            return callback_endpoint.get_outcome()

        patches.set(StateTaskServiceCallback, "_wait_for_task_token_timeout", wait)


def _closed_token_error() -> type[Exception]:
    """SendTaskSuccess/SendTaskFailure on a closed token, as the API Reference names it."""
    from moto.core.exceptions import AWSError

    class ClosedTokenError(AWSError):
        TYPE = "TaskTimedOut"

        def __init__(self, message: str = "the task associated with the token has already been closed") -> None:
            super().__init__(message)

    return ClosedTokenError
