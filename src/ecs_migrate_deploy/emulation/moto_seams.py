"""Every patch into moto's internals, in one place, because each one is pinned to moto 5.2.5.

moto emulates the AWS APIs well but stops short of what a deployment pipeline needs to see:
Lambda invocations that run our handlers, Wait states that do not really wait, a migration task
whose exit code and log lines we choose, ECS rollouts that complete or fail, snapshots that are
slow or fail. Each seam below replaces one moto method (or one module reference) and names the moto
file it patches, so an upgrade of moto means re-reading exactly these functions.

Every seam is reversible: `install()` / `uninstall()` or `with seam:`; `MotoSeams` bundles them.
Patches are class-level, so they act on every moto backend (all accounts and regions) while installed.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import importlib
import json
import os
import sys
import threading
import time
import types
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, Self

if TYPE_CHECKING:
    from moto.ecs.models import EC2ContainerServiceBackend, Service, Task

    from ecs_migrate_deploy.emulation.aws_events import EventDelivery

MOTO_VERSION = "5.2.5"
"""The moto release these seams were written against (pyproject pins it exactly)."""

Handler = Callable[[dict[str, Any], Any], Any]

"""A Lambda handler as the Python runtime calls it: `handler(event, context)`."""


# --------------------------------------------------------------------------------------------------
# Patch bookkeeping
# --------------------------------------------------------------------------------------------------


class _Patches:
    """Attribute replacements that can be undone exactly, in reverse order.

    An attribute that was inherited (not in the owner's own __dict__) is deleted on restore
    rather than re-set, so the class looks exactly as before.
    """

    def __init__(self) -> None:
        self._undo: list[tuple[object, str, bool, Any]] = []

    def set(self, owner: object, name: str, value: Any) -> None:
        own = name in vars(owner)
        self._undo.append((owner, name, own, vars(owner).get(name)))
        setattr(owner, name, value)

    def restore(self) -> None:
        while self._undo:
            owner, name, own, original = self._undo.pop()
            if own:
                setattr(owner, name, original)
            else:
                delattr(owner, name)

    def __bool__(self) -> bool:
        return bool(self._undo)


class Seam:
    """Base of every seam: a reversible set of patches, usable as a context manager."""

    def __init__(self) -> None:
        self._patches = _Patches()

    @property
    def installed(self) -> bool:
        return bool(self._patches)

    def install(self) -> Self:
        if self.installed:
            raise RuntimeError(f"{type(self).__name__} is already installed")
        self._apply(self._patches)
        return self

    def uninstall(self) -> None:
        self._patches.restore()
        self._reset()

    def _apply(self, patches: _Patches) -> None:
        raise NotImplementedError

    def _reset(self) -> None:
        """Forget per-world bookkeeping (called on uninstall)."""

    def __enter__(self) -> Self:
        return self.install()

    def __exit__(self, *exc: object) -> None:
        self.uninstall()


def _now() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------------------------------
# Lambda: route invocations to in-process Python handlers
# --------------------------------------------------------------------------------------------------


@dataclass
class LambdaContext:
    """The attributes of the Python runtime's context object that handlers (and Powertools) read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 128
    timeout_seconds: float = 3.0
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"
        self.log_stream_name = self.log_stream_name or f"{_now():%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class Invocation:
    """One routed Lambda invocation, kept so tests and the live view can see what ran."""

    function_name: str
    request_id: str
    event: Any
    result: Any
    error_type: str | None
    error_message: str | None
    duration_ms: float


def _drop_unflushed_metrics() -> None:
    """What `log_metrics`'s flush does at the end of every invocation, when metrics are disabled.

    Powertools' `flush_metrics` serializes and clears the buffer only when metrics are enabled; with
    POWERTOOLS_METRICS_DISABLED (set in rehearsals and tests) the values stay, pile up across the
    invocations of a warm container, and at the 100th value of one metric Powertools flushes by
    itself, which fails on a Metrics object created before its namespace was set ("Must contain a
    metric namespace"). Each emulated invocation ends with the buffer a real flush would leave: empty.
    """
    with contextlib.suppress(ImportError):
        from aws_lambda_powertools.metrics.functions import is_metrics_disabled
        from deploy_pipeline.observability import metrics

        if is_metrics_disabled():
            metrics.clear_metrics()


def resolve_handler(dotted: str) -> Handler:
    """`package.module.func` -> the function, imported on first use (handlers may not import yet)."""
    module_name, _, attr = dotted.rpartition(".")
    if not module_name:
        raise ValueError(f"handler {dotted!r} is not of the form 'module.function'")
    handler = getattr(importlib.import_module(module_name), attr)
    if not callable(handler):
        raise TypeError(f"handler {dotted!r} is not callable")
    return handler  # type: ignore[no-any-return]


class LambdaRouter(Seam):
    """Runs `LambdaSimpleBackend.invoke` invocations through in-process Python handlers.

    Patches `moto/awslambda_simple/models.py` `LambdaSimpleBackend.invoke` (used when
    `config={"lambda": {"use_docker": False}}`), which Step Functions' Task states reach through the
    Lambda API. `routes` maps a function name to a handler or a dotted path; an unrouted function
    falls back to its configured `Handler` (as created from the template). Exceptions become an
    Unhandled function error with `errorType` = the exception's class name, which is what the ASL's
    Retry/Catch match, exactly as the Python runtime reports it.

    Invocations are serialized with a lock: the SFN interpreter runs in a background thread, our
    handlers share module-level state (cached clients and settings), and real Lambda runs each
    invocation in its own process. The function's configured environment is overlaid on os.environ
    for the duration of a call, as each real function has its own environment.

    Every AWS API call a handler makes is kept in `api_calls` as (function, IAM action): moto does
    not enforce IAM, so this is what a test compares with the function's role in the template.
    """

    def __init__(
        self,
        routes: Mapping[str, str | Handler] | None = None,
        *,
        fallback_to_configured_handler: bool = True,
        enforce_timeouts: bool = False,
    ) -> None:
        super().__init__()
        self._routes: dict[str, str | Handler] = dict(routes or {})
        self._resolved: dict[str, Handler] = {}
        self.fallback_to_configured_handler = fallback_to_configured_handler
        self.enforce_timeouts = enforce_timeouts
        self.invocations: list[Invocation] = []
        self._lock = threading.RLock()
        self._calls: dict[str, int] = {}
        self._lost: dict[str, tuple[range, str]] = {}
        self._task_timeouts: dict[str, int] = {}  # function name -> Task timeouts to raise after invoking
        self.lost_results: list[Invocation] = []
        self.api_calls: set[tuple[str, str]] = set()
        self._current = threading.local()  # the function whose handler this thread is running

    def lose_result(
        self, function_name: str, error: str = "Lambda.Unknown", occurrence: int = 1, times: int = 1
    ) -> None:
        """At-least-once delivery: the `occurrence`-th invocation of `function_name` runs to its end, so
        its side effects happen, and then fails with `error` instead of returning its result.

        This is what AWS documents for a function that times out after doing its work: Step Functions'
        "Handle Lambda service exceptions" page says "Unhandled errors in Lambda are reported as
        Lambda.Unknown in the error output. These include out-of-memory errors and function timeouts";
        a Task whose own TimeoutSeconds elapses fails with "States.Timeout" (the ASL spec's predefined
        error) while the invocation may still finish. The ASL's Retry then runs the function again.
        `times` > 1 loses that many invocations in a row from `occurrence` on (enough of them exhausts
        the Retry, and the Catch takes over).
        """
        with self._lock:
            self._lost[function_name] = (range(occurrence, occurrence + times), error)

    def route(self, function_name: str, handler: str | Handler) -> None:
        with self._lock:
            self._routes[function_name] = handler
            self._resolved.pop(function_name, None)

    def _handler_for(self, function_name: str, configured: str | None) -> Handler:
        if function_name in self._resolved:
            return self._resolved[function_name]
        target = self._routes.get(function_name)
        if target is None and self.fallback_to_configured_handler:
            target = configured
        if target is None:
            raise LookupError(f"no in-process handler routed for Lambda function {function_name!r}")
        handler = resolve_handler(target) if isinstance(target, str) else target
        self._resolved[function_name] = handler
        return handler

    def _apply(self, patches: _Patches) -> None:
        from moto.awslambda_simple.models import LambdaSimpleBackend

        router = self

        def invoke(
            backend: Any,
            function_name: str,
            qualifier: str | None,
            body: Any,
            headers: Any,
            response_headers: Any,
        ) -> bytes:
            # function_name may be a name or an ARN (SFN passes the ARN); moto resolves both.
            fn = backend.get_function(function_name, qualifier)
            return router._invoke(fn, body, response_headers)

        patches.set(LambdaSimpleBackend, "invoke", invoke)

        from botocore.client import BaseClient

        original_call = BaseClient._make_api_call  # type: ignore[attr-defined]

        def make_api_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            function = getattr(router._current, "function", None)
            if function is not None:
                prefix = client.meta.service_model.signing_name
                router.api_calls.update(
                    (function, action) for action in iam_actions(prefix, operation_name, api_params)
                )
            return original_call(client, operation_name, api_params)

        patches.set(BaseClient, "_make_api_call", make_api_call)

        # A Task's own timeout ("States.Timeout") cannot be reported by the function (moto, like AWS,
        # refuses error names starting with "States."): it is raised by the interpreter, after the
        # invocation did its work, as `_evaluate_with_timeout` does when TimeoutSeconds elapses
        # (moto/stepfunctions/parser/asl/component/state/exec/state_task/state_task_lambda.py
        # `StateTaskLambda._eval_execution`; its `_from_error` maps TimeoutError to States.Timeout).
        from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import EvalTimeoutError
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import StateTaskLambda

        original = StateTaskLambda._eval_execution

        def eval_execution(state: Any, env: Any) -> None:
            failure: Exception | None = None
            try:
                original(state, env)
            except Exception as exc:  # the invocation's own error, lost if the Task timed out
                failure = exc
            function_name = str(state.resource.resource_arn).rsplit(":", 1)[-1]
            with router._lock:
                due = router._task_timeouts.get(function_name, 0)
                if due:
                    router._task_timeouts[function_name] = due - 1
            if due:
                raise EvalTimeoutError()
            if failure is not None:
                raise failure

        patches.set(StateTaskLambda, "_eval_execution", eval_execution)

    def _invoke(self, fn: Any, body: Any, response_headers: dict[str, str]) -> bytes:
        event = json.loads(body) if body else {}
        with self._lock:
            context = LambdaContext(
                function_name=fn.function_name,
                invoked_function_arn=fn.function_arn,
                memory_limit_in_mb=int(fn.memory_size or 128),
                timeout_seconds=float(fn.timeout or 3),
            )
            started = time.perf_counter()
            result: Any = None
            error: BaseException | None = None
            try:
                handler = self._handler_for(fn.function_name, fn.handler)
                self._current.function = fn.function_name
                with _environment_overlay(dict(fn.environment_vars or {})):
                    try:
                        result = handler(event, context)
                    finally:
                        _drop_unflushed_metrics()
                payload = json.dumps(result)
            except Exception as exc:
                error = exc
            finally:
                self._current.function = None
            elapsed = time.perf_counter() - started
            calls = self._calls[fn.function_name] = self._calls.get(fn.function_name, 0) + 1
            if error is None and self.enforce_timeouts and elapsed > context.timeout_seconds:
                error = _SandboxTimedout(f"Task timed out after {context.timeout_seconds:.2f} seconds")
            lost = self._lost.get(fn.function_name)
            # The work is done either way: what is lost is its result, a value or an error.
            if lost is not None and calls in lost[0] and lost[1] == "States.Timeout":
                self._task_timeouts[fn.function_name] = self._task_timeouts.get(fn.function_name, 0) + 1
                self.lost_results.append(
                    Invocation(fn.function_name, context.aws_request_id, event, result, "States.Timeout", None, 0.0)
                )
            elif lost is not None and calls in lost[0]:
                error = _ResultLost(
                    lost[1], f"emulated: the invocation did its work, then its result was lost ({lost[1]})"
                )
            if error is not None:
                error_type = (
                    "Sandbox.Timedout"
                    if isinstance(error, _SandboxTimedout)
                    else error.error_type
                    if isinstance(error, _ResultLost)
                    else type(error).__name__
                )
                response_headers["x-amz-function-error"] = "Unhandled"
                payload = json.dumps({"errorType": error_type, "errorMessage": str(error), "stackTrace": []})
                result = None
            self.invocations.append(
                Invocation(
                    function_name=fn.function_name,
                    request_id=context.aws_request_id,
                    event=event,
                    result=result,
                    error_type=None if error is None else json.loads(payload)["errorType"],
                    error_message=None if error is None else str(error),
                    duration_ms=elapsed * 1000,
                )
            )
            if isinstance(error, _ResultLost):
                self.lost_results.append(self.invocations[-1])
        return payload.encode("utf-8")

    def _reset(self) -> None:
        self._resolved.clear()
        self._calls.clear()
        self._lost.clear()
        self._task_timeouts.clear()


_TRANSACTION_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def iam_actions(prefix: str, operation: str, params: Mapping[str, Any]) -> set[str]:
    """The IAM actions one API call needs: `<prefix>:<Operation>`, except DynamoDB's transactions,
    which IAM authorises item by item ("TransactWriteItems ... requires permissions for each of the
    actions it performs: PutItem, UpdateItem, DeleteItem, ConditionCheckItem", DynamoDB Developer
    Guide, "Using IAM with DynamoDB transactions")."""
    if prefix == "dynamodb" and operation == "TransactWriteItems":
        return {
            f"dynamodb:{_TRANSACTION_ITEM_ACTIONS[kind]}" for item in params.get("TransactItems", []) for kind in item
        }
    if prefix == "dynamodb" and operation == "TransactGetItems":
        return {"dynamodb:GetItem"}
    return {f"{prefix}:{operation}"}


class _SandboxTimedout(Exception):
    pass


class _ResultLost(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


@contextmanager
def _environment_overlay(values: Mapping[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update({key: str(value) for key, value in values.items()})
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


# --------------------------------------------------------------------------------------------------
# Step Functions: skip (and record) Wait states and Retry backoff sleeps
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedSleep:
    """A sleep the SFN interpreter asked for: `kind` wait = a Wait state, retry = Retry backoff, event =
    a tick of a task-token wait."""

    kind: Literal["wait", "retry", "event"]  # event: a tick of an event-driven wait (aws_events.py)
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


# --------------------------------------------------------------------------------------------------
# ECS: the migration task (RunTask -> a TaskRunner decides how it ends)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskOutcome:
    """How an emulated ECS task ends.

    `exit_code` None means the task stopped without running its container (then `stop_code` is
    usually "TaskFailedToStart" and `stopped_reason` e.g. "CannotPullContainerError: ...").
    `running_polls` is how many DescribeTasks calls report RUNNING before it reports STOPPED;
    `still_running`, if given, is asked after those, and the task stays RUNNING while it says True
    (e.g. until the pipeline's emulated clock has passed the task's planned end, for a timeline).
    """

    exit_code: int | None
    stopped_reason: str = "Essential container in task exited"
    output_lines: Sequence[str] = ()
    stop_code: str | None = "EssentialContainerExited"
    container_reason: str | None = None
    running_polls: int = 0
    still_running: Callable[[], bool] | None = None

    @classmethod
    def exited(cls, exit_code: int, output_lines: Sequence[str] = (), *, running_polls: int = 0) -> TaskOutcome:
        return cls(exit_code=exit_code, output_lines=tuple(output_lines), running_polls=running_polls)

    @classmethod
    def interrupted(cls, exit_code: int = 0, output_lines: Sequence[str] = ()) -> TaskOutcome:
        """A Fargate Spot task reclaimed mid-migration: ECS stops it with stopCode SpotInterruption
        ("Your Spot Task was interrupted.", Developer Guide, "Fargate Spot termination notices") and
        the migrator answers SIGTERM with `exit_code` (0 for many that exit cleanly on a signal)."""
        return cls(
            exit_code=exit_code,
            stopped_reason="Your Spot Task was interrupted.",
            output_lines=tuple(output_lines),
            stop_code="SpotInterruption",
        )

    @classmethod
    def failed_to_start(cls, reason: str) -> TaskOutcome:
        """E.g. `CannotPullContainerError: ... not found` (the reason is also the container's)."""
        return cls(exit_code=None, stopped_reason=reason, stop_code="TaskFailedToStart", container_reason=reason)


class TaskRunner(Protocol):
    """Decides (or really performs) what a RunTask does; None = the task keeps running."""

    def __call__(
        self, task_definition: dict[str, Any], container_overrides: list[dict[str, Any]], started_by: str, /
    ) -> TaskOutcome | None: ...


def succeed_task(
    task_definition: dict[str, Any], container_overrides: list[dict[str, Any]], started_by: str
) -> TaskOutcome | None:
    """The default TaskRunner: every task exits 0 with no output."""
    return TaskOutcome.exited(0)


USER_STOP_EXIT_CODE = 143
"""Exit code given to a running emulated task's container on StopTask (SIGTERM, as most processes exit)."""


@dataclass
class _ManagedTask:
    outcome: TaskOutcome | None
    container: str
    polls_left: int
    stopped: bool = False
    stop_reason: str | None = None  # StopTask was called; the task is stopping
    stopping_polls: int = 0


class EcsTasks(Seam):
    """Hooks RunTask / DescribeTasks / StopTask so a pluggable TaskRunner decides each task's fate.

    Patches in `moto/ecs/models.py` (`EC2ContainerServiceBackend`):
    - `run_task`: after moto creates the task(s), rebuilds `task.containers` (moto builds a single
      `Container` from `container_definitions[0]`; real ECS has one per definition), calls the runner
      with (task definition, containerOverrides, startedBy), writes its output lines to CloudWatch Logs
      at the stream the container's awslogs options imply, and remembers the outcome;
    - `describe_tasks`: moto advances a ManagedState one step per call and always reports exit 0;
      managed tasks instead report PROVISIONING (RunTask's answer), RUNNING for `running_polls` calls,
      then STOPPED with the chosen exitCode / reason / stoppedReason / stopCode;
    - `stop_task`: a managed task still running gets desiredStatus STOPPED at once but shows
      lastStatus DEACTIVATING for `stopping_polls` DescribeTasks calls, then STOPPED with stopCode
      UserInitiated and exit 143. StopTask is not instant on AWS: "the equivalent of docker stop is
      issued ... a default 30-second timeout, after which the SIGKILL value is sent" (botocore's ECS
      model, StopTask); moto stops the task inside the call.
    The runner runs synchronously inside RunTask (deterministic: nothing races the check loop).
    """

    def __init__(self, runner: TaskRunner | None = None, *, stopping_polls: int = 1) -> None:
        super().__init__()
        self.runner: TaskRunner = runner or succeed_task
        self.stopping_polls = stopping_polls
        self._managed: dict[str, _ManagedTask] = {}
        self._lock = threading.RLock()

    def _apply(self, patches: _Patches) -> None:
        from moto.ecs.models import EC2ContainerServiceBackend

        seam = self
        original_run = EC2ContainerServiceBackend.run_task
        original_describe = EC2ContainerServiceBackend.describe_tasks
        original_stop = EC2ContainerServiceBackend.stop_task

        def run_task(backend: EC2ContainerServiceBackend, *args: Any, **kwargs: Any) -> list[Task]:
            tasks = original_run(backend, *args, **kwargs)
            for task in tasks:
                seam._start(backend, task)
            return tasks

        def describe_tasks(backend: EC2ContainerServiceBackend, cluster_str: str, tasks: list[str]) -> list[Task]:
            found = original_describe(backend, cluster_str, tasks)
            for task in found:
                seam._poll(task)
            return found

        def stop_task(backend: EC2ContainerServiceBackend, cluster_str: str, task_str: str, reason: str) -> Task:
            with seam._lock:
                task = original_stop(backend, cluster_str, task_str, reason)
                seam._user_stop(task, reason)
                return task

        patches.set(EC2ContainerServiceBackend, "run_task", run_task)
        patches.set(EC2ContainerServiceBackend, "describe_tasks", describe_tasks)
        patches.set(EC2ContainerServiceBackend, "stop_task", stop_task)

    def _reset(self) -> None:
        self._managed.clear()

    def adopt_id(self, account: str, region: str, task_arn: str, task_id: str) -> str:
        """Give a task the id `task_id` (its container's log lines follow it); returns its new ARN.

        For replaying captured inputs (events/, tests/sam_local): they name the migration task of the
        run they came from, and a task id is random (moto: `mock_random.uuid4()`), so the task this
        world's RunTask started takes the captured one. Moves it in `EC2ContainerServiceBackend.tasks`.
        """
        from moto.ecs.models import ecs_backends

        backend = ecs_backends[account][region]
        with self._lock:
            tasks = next(tasks for tasks in backend.tasks.values() if task_arn in tasks)
            task = tasks.pop(task_arn)
            task.id = task_id
            tasks[task.task_arn] = task
            managed = self._managed.pop(task_arn, None)
            if managed is not None:
                self._managed[task.task_arn] = managed
                definitions = backend.describe_task_definition(task.task_definition_arn).container_definitions
                definition = next(d for d in definitions if d["name"] == managed.container)
                if managed.outcome is not None and managed.outcome.output_lines:
                    _write_container_logs(backend, task, definition, list(managed.outcome.output_lines))
        return task.task_arn

    @staticmethod
    def task_definition_dict(task_definition: Any) -> dict[str, Any]:
        """The moto TaskDefinition as DescribeTaskDefinition would show it (the fields a runner needs)."""
        out = {
            "taskDefinitionArn": task_definition.arn,
            "family": task_definition.family,
            "revision": task_definition.revision,
            "containerDefinitions": copy.deepcopy(task_definition.container_definitions),
            "networkMode": task_definition.network_mode,
            "cpu": getattr(task_definition, "cpu", None),
            "memory": getattr(task_definition, "memory", None),
            "taskRoleArn": getattr(task_definition, "task_role_arn", None),
            "executionRoleArn": getattr(task_definition, "execution_role_arn", None),
            "requiresCompatibilities": getattr(task_definition, "requires_compatibilities", None),
        }
        return {key: value for key, value in out.items() if value is not None}

    def _start(self, backend: EC2ContainerServiceBackend, task: Task) -> None:
        task_definition = backend.describe_task_definition(task.task_definition_arn)
        definitions = task_definition.container_definitions
        containers: list[Any] = []
        for definition in definitions:
            # A copy of moto's own Container keeps every attribute its serializer reads.
            container: Any = copy.copy(task.containers[0])
            container.container_arn = f"{task_definition.arn}/{uuid.uuid4()}"
            container.name = definition.get("name")
            container.image = definition.get("image")
            container.cpu = definition.get("cpu", 0)
            container.memory = definition.get("memory")
            container.environment = definition.get("environment")
            container.command = definition.get("command")
            container.exitCode = None
            container.reason = None
            container.last_status = "PENDING"
            containers.append(container)
        task.containers = containers

        overrides = list((task.overrides or {}).get("containerOverrides") or [])
        names = [str(d.get("name")) for d in definitions]
        essential = [str(d.get("name")) for d in definitions if d.get("essential", True)]
        overridden = [str(o.get("name")) for o in overrides if o.get("name") in names]
        target = (overridden or essential or names)[0]
        with self._lock:
            outcome = self.runner(self.task_definition_dict(task_definition), overrides, task.started_by)
            definition = next(d for d in definitions if d["name"] == target)
            if outcome is not None and outcome.output_lines:
                _write_container_logs(backend, task, definition, list(outcome.output_lines))
            managed = _ManagedTask(outcome, target, outcome.running_polls if outcome else 0)
            self._managed[task.task_arn] = managed
            # Stop moto's own ManagedState from advancing: this seam decides the status.
            task.advance = lambda: None  # type: ignore[method-assign]
            task.last_status = "PROVISIONING"

    def _poll(self, task: Task) -> None:
        with self._lock:
            managed = self._managed.get(task.task_arn)
            if managed is None or managed.stopped:
                return
            if managed.stop_reason is not None:
                if managed.stopping_polls > 0:
                    managed.stopping_polls -= 1
                    return
                self._stop_now(task, managed, managed.stop_reason)
                return
            outcome = managed.outcome
            if outcome is None or managed.polls_left > 0 or (outcome.still_running and outcome.still_running()):
                managed.polls_left = max(0, managed.polls_left - 1)
                self._set_running(task)
                return
            self._set_stopped(
                task,
                managed,
                exit_code=outcome.exit_code,
                stopped_reason=outcome.stopped_reason,
                stop_code=outcome.stop_code,
                container_reason=outcome.container_reason,
                ran=outcome.exit_code is not None,
            )

    def _user_stop(self, task: Task, reason: str) -> None:
        managed = self._managed.get(task.task_arn)
        if managed is None or managed.stopped:
            return
        if managed.stop_reason is None:
            managed.stop_reason = reason or "Task stopped by user"
            managed.stopping_polls = self.stopping_polls
        if managed.stopping_polls > 0:
            # moto set lastStatus STOPPED inside StopTask; the task is only on its way there.
            task.last_status = "DEACTIVATING"
            task.stopped_reason = managed.stop_reason
            return
        self._stop_now(task, managed, managed.stop_reason)

    def _stop_now(self, task: Task, managed: _ManagedTask, reason: str) -> None:
        self._set_stopped(
            task,
            managed,
            exit_code=USER_STOP_EXIT_CODE,
            stopped_reason=reason,
            stop_code="UserInitiated",
            container_reason=None,
            ran=True,
        )

    @staticmethod
    def _set_running(task: Task) -> None:
        task.last_status = "RUNNING"
        if getattr(task, "started_at", None) is None:
            now = _now()
            task.pull_started_at = task.pull_stopped_at = task.started_at = now  # type: ignore[attr-defined]
        containers: list[Any] = task.containers
        for container in containers:
            container.last_status = "RUNNING"

    def _set_stopped(
        self,
        task: Task,
        managed: _ManagedTask,
        *,
        exit_code: int | None,
        stopped_reason: str,
        stop_code: str | None,
        container_reason: str | None,
        ran: bool,
    ) -> None:
        if ran:
            self._set_running(task)
        now = _now()
        task.last_status = "STOPPED"
        task.desired_status = "STOPPED"
        task.stopped_reason = stopped_reason
        task.stop_code = stop_code  # type: ignore[attr-defined]
        task.stopping_at = task.execution_stopped_at = task.stopped_at = now  # type: ignore[attr-defined]
        containers: list[Any] = task.containers
        for container in containers:
            container.last_status = "STOPPED"
            if container.name == managed.container:
                container.exitCode = exit_code
                container.reason = container_reason
            else:
                # Sidecars are stopped when the essential container exits; unstarted ones never ran.
                container.exitCode = USER_STOP_EXIT_CODE if ran else None
        managed.stopped = True


def _write_container_logs(
    backend: EC2ContainerServiceBackend, task: Task, definition: dict[str, Any], lines: list[str]
) -> None:
    """Put lines where the awslogs driver would: `<prefix>/<container>/<task id>` in the group."""
    from moto.logs.exceptions import ResourceAlreadyExistsException
    from moto.logs.models import logs_backends

    config = definition.get("logConfiguration") or {}
    if config.get("logDriver") != "awslogs":
        return
    options = config.get("options") or {}
    group = options.get("awslogs-group")
    if not group:
        return
    prefix = options.get("awslogs-stream-prefix")
    task_id = task.task_arn.rsplit("/", 1)[-1]
    stream = f"{prefix}/{definition['name']}/{task_id}" if prefix else task_id
    region = options.get("awslogs-region") or backend.region_name
    logs = logs_backends[backend.account_id][region]
    if group not in logs.groups:
        logs.create_log_group(group, tags={})
    with contextlib.suppress(ResourceAlreadyExistsException):
        logs.create_log_stream(group, stream)
    base = int(time.time() * 1000)
    events = [{"timestamp": base + i, "message": line} for i, line in enumerate(lines)]
    for start in range(0, len(events), 10_000):  # PutLogEvents takes at most 10,000 events
        logs.put_log_events(group, stream, events[start : start + 10_000])


# --------------------------------------------------------------------------------------------------
# ECS: service rollouts (UpdateService -> a RolloutPolicy decides how the deployment ends)
# --------------------------------------------------------------------------------------------------

RolloutState = Literal["COMPLETED", "FAILED", "IN_PROGRESS"]


class RolloutPolicy(Protocol):
    """Asked on each DescribeServices while a deployment is IN_PROGRESS."""

    def __call__(self, service_name: str, task_definition_arn: str, /) -> RolloutState: ...


def complete_rollout(service_name: str, task_definition_arn: str) -> RolloutState:
    """The default RolloutPolicy: every deployment completes at the first look."""
    return "COMPLETED"


CIRCUIT_BREAKER_REASON = "ECS deployment circuit breaker: tasks failed to start."


def _has_classic_load_balancer(service: Service) -> bool:
    """A Classic Load Balancer is named by `loadBalancerName` (ALB/NLB ones by `targetGroupArn`)."""
    return any(lb.get("loadBalancerName") for lb in service.load_balancers)


def _rolls_back_itself(service: Service) -> bool:
    configuration = getattr(service, "deployment_configuration", None) or {}
    return bool((configuration.get("deploymentCircuitBreaker") or {}).get("rollback"))


class EcsRollouts(Seam):
    """Gives UpdateService real deployments, finished by a pluggable RolloutPolicy, and keeps what
    real services and task definitions carry that moto drops.

    Patches in `moto/ecs/models.py` (`EC2ContainerServiceBackend`):
    - `update_service`: moto only swaps `taskDefinition` and leaves `deployments` untouched; here a
      changed task definition (or forceNewDeployment) makes a new PRIMARY deployment IN_PROGRESS and
      the previous PRIMARY becomes ACTIVE; the task definition is normalised to its full ARN. A
      CODE_DEPLOY or EXTERNAL service refuses a new task definition, as UpdateService's model doc
      says: "For services using the blue/green (CODE_DEPLOY) deployment controller, only the desired
      count, deployment configuration, health check grace period, task placement constraints and
      strategies, enable ECS managed tags option, and propagate tags can be updated using this API"
      (the error's wording is ours);
    - `describe_services`: each managed IN_PROGRESS PRIMARY asks the policy; COMPLETED drops the other
      deployments and sets runningCount = desiredCount; FAILED keeps the new taskDefinition with
      rolloutState FAILED and the circuit breaker's reason. With `deploymentCircuitBreaker.rollback`
      on, ECS then rolls back by itself (see `_roll_back`). Behind a Classic Load Balancer no
      deployment carries `rolloutState` (Deployment.rolloutState, botocore's ecs model: "The
      rolloutState of a service is only returned for services that use the rolling update (ECS)
      deployment type that aren't behind a Classic Load Balancer"), and a failing deployment is
      never FAILED: its tasks keep failing (failedTasks grows) until someone acts.
    Patches in `moto/ecs/responses.py` (`EC2ContainerServiceResponse`):
    - `create_service`: moto drops `deploymentConfiguration`; it is kept (as UpdateService already
      keeps it, by attribute name), so DescribeServices shows the circuit breaker's settings;
    - `register_task_definition`: moto keeps a fixed list of members and drops the others (e.g.
      `enableFaultInjection`, `trustedExecutionConfiguration`); every member of the request that the
      model's TaskDefinition output also has is kept. Tag keys with the `aws:` prefix are refused,
      as the model's doc of RegisterTaskDefinition `tags` says: "Do not use aws:, AWS:, or any upper
      or lowercase combination of such as a prefix for either keys or values as it is reserved for
      Amazon Web Services use" (the error's wording is ours).
    `settle(service)` marks a service's current deployment COMPLETED (moto leaves the deployment of
    a newly created service IN_PROGRESS forever).
    """

    def __init__(self, policy: RolloutPolicy | None = None) -> None:
        super().__init__()
        self.policy: RolloutPolicy = policy or complete_rollout
        self._managed: dict[str, RolloutState] = {}  # deployment ids this seam created -> rollout state
        self._counter = 0
        self._lock = threading.RLock()

    def _apply(self, patches: _Patches) -> None:
        from moto.ecs.exceptions import InvalidParameterException
        from moto.ecs.models import EC2ContainerServiceBackend
        from moto.ecs.responses import EC2ContainerServiceResponse

        seam = self
        original_update = EC2ContainerServiceBackend.update_service
        original_describe = EC2ContainerServiceBackend.describe_services
        original_create_response = EC2ContainerServiceResponse.create_service
        original_register_response = EC2ContainerServiceResponse.register_task_definition

        def update_service(backend: EC2ContainerServiceBackend, service_properties: dict[str, Any]) -> Service:
            cluster = service_properties.get("cluster", "default")
            name = str(service_properties.get("service", "")).split("/")[-1]
            force = bool(service_properties.get("force_new_deployment"))
            wanted = service_properties.get("task_definition")
            with seam._lock:
                current = backend._get_service(cluster, name)
                controller = current.deployment_controller.get("type", "ECS")
                if wanted and controller != "ECS":
                    raise InvalidParameterException(
                        f"Unable to update task definition on services with a {controller} deployment controller."
                    )
                previous = current.task_definition
                service = original_update(backend, service_properties)
                if wanted:
                    service.task_definition = backend.describe_task_definition(wanted).arn
                if service.task_definition != previous or force:
                    seam._new_deployment(service)
                elif service_properties.get("desired_count") is not None:
                    deployments: list[dict[str, Any]] = service.deployments
                    for deployment in deployments:
                        if deployment.get("status") == "PRIMARY":
                            deployment.update(desiredCount=service.desired_count, updatedAt=_now())
                            if seam._managed.get(deployment["id"], "COMPLETED") == "COMPLETED":
                                deployment["runningCount"] = service.desired_count
                return service

        def describe_services(
            backend: EC2ContainerServiceBackend, cluster_str: str, service_names_or_arns: list[str]
        ) -> tuple[list[Service], list[dict[str, str]]]:
            services, failures = original_describe(backend, cluster_str, service_names_or_arns)
            for service in services:
                seam._progress(service)
            return services, failures

        def create_service(response: EC2ContainerServiceResponse) -> Any:
            result: Any = original_create_response(response)
            configuration = response._get_param("deploymentConfiguration")
            if configuration:
                result.result["service"].deployment_configuration = configuration
            return result

        def register_task_definition(response: EC2ContainerServiceResponse) -> Any:
            reserved = [t["key"] for t in response._get_param("tags") or [] if str(t["key"]).lower().startswith("aws:")]
            if reserved:
                raise InvalidParameterException(f"Tag keys with the aws: prefix are reserved for AWS use: {reserved}")
            result: Any = original_register_response(response)
            task_definition = result.result["taskDefinition"]
            for member in _task_definition_members():
                value = response._get_param(member)
                attribute = _xform_name(member)
                if value is not None and getattr(task_definition, attribute, None) is None:
                    setattr(task_definition, attribute, value)
            return result

        patches.set(EC2ContainerServiceBackend, "update_service", update_service)
        patches.set(EC2ContainerServiceBackend, "describe_services", describe_services)
        patches.set(EC2ContainerServiceResponse, "create_service", create_service)
        patches.set(EC2ContainerServiceResponse, "register_task_definition", register_task_definition)

    def _reset(self) -> None:
        self._managed.clear()

    def _deployment_id(self) -> str:
        self._counter += 1
        return f"ecs-svc/{int(time.time() * 1000) % 10**10:010d}{self._counter:09d}"

    def _new_deployment(self, service: Service) -> None:
        now = _now()
        for deployment in service.deployments:
            if deployment.get("status") == "PRIMARY":
                deployment["status"] = "ACTIVE"
                deployment["updatedAt"] = now
        template = service.deployments[0] if service.deployments else {}
        deployment_id = self._deployment_id()
        primary = {
            "id": deployment_id,
            "status": "PRIMARY",
            "taskDefinition": service.task_definition,
            "desiredCount": service.desired_count,
            "pendingCount": service.desired_count,
            "runningCount": 0,
            "failedTasks": 0,
            "createdAt": now,
            "updatedAt": now,
            "launchType": service.launch_type,
            "platformVersion": template.get("platformVersion"),
            "platformFamily": template.get("platformFamily"),
            "networkConfiguration": service.network_configuration or template.get("networkConfiguration"),
        }
        if not _has_classic_load_balancer(service):
            primary.update(rolloutState="IN_PROGRESS", rolloutStateReason="ECS deployment in progress.")
        service.deployments = [primary, *(d for d in service.deployments if d.get("status") == "ACTIVE")]
        self._managed[deployment_id] = "IN_PROGRESS"

    def _progress(self, service: Service) -> None:
        with self._lock:
            deployments: list[dict[str, Any]] = service.deployments
            primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
            if primary is None or self._managed.get(primary["id"]) != "IN_PROGRESS":
                return
            state = self.policy(service.name, primary["taskDefinition"])
            now = _now()
            classic = _has_classic_load_balancer(service)
            if state == "COMPLETED":
                self._managed[primary["id"]] = "COMPLETED"
                primary.update(runningCount=primary["desiredCount"], pendingCount=0, updatedAt=now)
                if not classic:
                    primary.update(
                        rolloutState="COMPLETED", rolloutStateReason=f"ECS deployment {primary['id']} completed."
                    )
                service.deployments = [primary]
                service.running_count = primary["desiredCount"]
                service.pending_count = 0
                _service_event(service, f"(service {service.name}) has reached a steady state.")
            elif state == "FAILED":
                primary.update(
                    runningCount=0,
                    pendingCount=0,
                    failedTasks=int(primary.get("failedTasks", 0)) + max(1, int(primary["desiredCount"])),
                    updatedAt=now,
                )
                if classic:
                    # No circuit breaker behind a Classic Load Balancer: ECS keeps launching tasks that fail.
                    return
                self._managed[primary["id"]] = "FAILED"
                primary.update(rolloutState="FAILED", rolloutStateReason=CIRCUIT_BREAKER_REASON)
                _service_event(
                    service,
                    f"(service {service.name}) (deployment {primary['id']}) deployment failed: tasks failed to start.",
                )
                if _rolls_back_itself(service):
                    self._roll_back(service, primary)

    def _roll_back(self, service: Service, failed: dict[str, Any]) -> None:
        """ECS's own rollback, as the Developer Guide's "Deployment circuit breaker" page describes it:
        "When the deployment circuit breaker determines that a deployment failed, it looks for the most
        recent deployment that is in a COMPLETED state. This is the deployment that it uses as the
        roll-back deployment. When the rollback starts, the deployment changes from a COMPLETED to
        IN_PROGRESS. [...] When the deployment circuit breaker does not find a deployment that is in a
        COMPLETED state, the circuit breaker does not launch new tasks and the deployment is stalled."

        So the last COMPLETED deployment (same id, same createdAt) becomes PRIMARY again, IN_PROGRESS
        until the policy completes it, and the service's taskDefinition follows it; the failed one stays
        ACTIVE with rolloutState FAILED while its tasks drain (Deployment.status in botocore's model
        has only PRIMARY, ACTIVE and INACTIVE). The rolloutStateReason and event wordings are ours.
        """
        deployments: list[dict[str, Any]] = service.deployments
        completed = next(
            (
                d
                for d in deployments
                if d.get("status") == "ACTIVE" and self._managed.get(d["id"], "COMPLETED") == "COMPLETED"
            ),
            None,
        )
        if completed is None:
            return  # stalled
        failed["status"] = "ACTIVE"
        completed.update(
            status="PRIMARY",
            rolloutState="IN_PROGRESS",
            rolloutStateReason="ECS deployment circuit breaker: rolling back to the last COMPLETED deployment.",
            updatedAt=_now(),
        )
        self._managed[completed["id"]] = "IN_PROGRESS"
        service.task_definition = completed["taskDefinition"]
        service.deployments = [completed, *(d for d in service.deployments if d is not completed)]
        _service_event(service, f"(service {service.name}) rolling back to deployment {completed['id']}.")

    def settle(self, service: Service) -> None:
        """Mark the service steady on its current task definition (a world's starting point)."""
        settle_service(service)


@functools.cache
def _task_definition_members() -> list[str]:
    """RegisterTaskDefinition's members that DescribeTaskDefinition returns too (botocore's model)."""
    from botocore.session import get_session

    ecs = get_session().get_service_model("ecs")
    request: Any = ecs.operation_model("RegisterTaskDefinition").input_shape
    described: Any = ecs.shape_for("TaskDefinition")
    return sorted(set(request.members) & set(described.members))


def _xform_name(member: str) -> str:
    from botocore import xform_name

    return str(xform_name(member))


def settle_service(service: Service) -> None:
    """Mark a moto service steady on its current task definition (moto leaves it IN_PROGRESS).

    Behind a Classic Load Balancer the deployment carries no rolloutState (see `EcsRollouts`)."""
    now = _now()
    classic = _has_classic_load_balancer(service)
    for deployment in service.deployments:
        if deployment.get("status") == "PRIMARY":
            deployment.update(runningCount=service.desired_count, pendingCount=0, updatedAt=now)
            if classic:
                deployment.pop("rolloutState", None)
                deployment.pop("rolloutStateReason", None)
            else:
                deployment.update(
                    rolloutState="COMPLETED", rolloutStateReason=f"ECS deployment {deployment['id']} completed."
                )
    service.deployments = [d for d in service.deployments if d.get("status") == "PRIMARY"]
    service.running_count = service.desired_count
    service.pending_count = 0


def settle_services(account: str, region: str, cluster: str, names: Sequence[str]) -> None:
    """`settle_service` for services by name (patches nothing; reads moto's ECS backend directly)."""
    from moto.ecs.models import ecs_backends

    backend = ecs_backends[account][region]
    for name in names:
        settle_service(backend._get_service(cluster, name))


def set_system_tags(account: str, region: str, arn: str, tags: Mapping[str, str]) -> None:
    """Put `aws:`-prefixed tags on a task definition as AWS itself does: CloudFormation "automatically
    creates the following stack-level tags with the aws: prefix: aws:cloudformation:logical-id,
    aws:cloudformation:stack-id, aws:cloudformation:stack-name" (CloudFormation resource tagging),
    which no one can set through the API (see `EcsRollouts`)."""
    from moto.ecs.models import ecs_backends

    task_definition = ecs_backends[account][region].describe_task_definition(arn)
    task_definition.tags = [*task_definition.tags, *({"key": k, "value": v} for k, v in tags.items())]


def _service_event(service: Service, message: str) -> None:
    # Real ECS lists the newest event first.
    service.events.insert(0, {"id": str(uuid.uuid4()), "createdAt": _now(), "message": message})


# --------------------------------------------------------------------------------------------------
# RDS: snapshot status control
# --------------------------------------------------------------------------------------------------

SnapshotKind = Literal["instance", "cluster"]


class SnapshotPolicy(Protocol):
    """The status a manual snapshot shows: asked at creation and on each describe until terminal.

    Raising (a moto RDS error such as `moto.rds.exceptions.SnapshotQuotaExceededFault`) at
    creation makes the Create*Snapshot call fail and leaves no snapshot behind.
    """

    def __call__(self, kind: SnapshotKind, snapshot_id: str, /) -> str: ...


_TERMINAL_SNAPSHOT_STATES = frozenset({"available", "failed", "incompatible-restore", "deleted"})


class RdsSnapshots(Seam):
    """Lets tests decide how manual RDS snapshots progress (moto makes them `available` at once).

    Patches in `moto/rds/models.py` (`RDSBackend`): `create_db_snapshot`,
    `create_db_cluster_snapshot` (manual snapshots only; moto's automated cluster snapshots are left
    alone), `describe_db_snapshots`, `describe_db_cluster_snapshots`.
    """

    def __init__(self, policy: SnapshotPolicy) -> None:
        super().__init__()
        self.policy = policy
        self._managed: dict[tuple[str, str], Any] = {}
        self._lock = threading.RLock()

    def _apply(self, patches: _Patches) -> None:
        from moto.rds.models import RDSBackend

        seam = self
        original_create = RDSBackend.create_db_snapshot
        original_create_cluster = RDSBackend.create_db_cluster_snapshot
        original_describe = RDSBackend.describe_db_snapshots
        original_describe_cluster = RDSBackend.describe_db_cluster_snapshots

        def create_db_snapshot(backend: Any, *args: Any, **kwargs: Any) -> Any:
            snapshot = original_create(backend, *args, **kwargs)
            if snapshot.snapshot_type == "manual":
                seam._created("instance", snapshot, snapshot.db_snapshot_identifier, backend.database_snapshots)
            return snapshot

        def create_db_cluster_snapshot(backend: Any, *args: Any, **kwargs: Any) -> Any:
            snapshot = original_create_cluster(backend, *args, **kwargs)
            if snapshot.snapshot_type == "manual":
                seam._created("cluster", snapshot, snapshot.db_cluster_snapshot_identifier, backend.cluster_snapshots)
            return snapshot

        def describe_db_snapshots(backend: Any, *args: Any, **kwargs: Any) -> Any:
            snapshots = original_describe(backend, *args, **kwargs)
            for snapshot in snapshots:
                seam._refresh("instance", snapshot, getattr(snapshot, "db_snapshot_identifier", ""))
            return snapshots

        def describe_db_cluster_snapshots(backend: Any, *args: Any, **kwargs: Any) -> Any:
            snapshots = original_describe_cluster(backend, *args, **kwargs)
            for snapshot in snapshots:
                seam._refresh("cluster", snapshot, getattr(snapshot, "db_cluster_snapshot_identifier", ""))
            return snapshots

        patches.set(RDSBackend, "create_db_snapshot", create_db_snapshot)
        patches.set(RDSBackend, "create_db_cluster_snapshot", create_db_cluster_snapshot)
        patches.set(RDSBackend, "describe_db_snapshots", describe_db_snapshots)
        patches.set(RDSBackend, "describe_db_cluster_snapshots", describe_db_cluster_snapshots)

    def _reset(self) -> None:
        self._managed.clear()

    def _created(self, kind: SnapshotKind, snapshot: Any, snapshot_id: str, store: dict[str, Any]) -> None:
        with self._lock:
            try:
                status = self.policy(kind, snapshot_id)
            except Exception:
                store.pop(snapshot_id, None)
                raise
            self._managed[(kind, snapshot_id)] = snapshot
            self._set(snapshot, status)

    def _refresh(self, kind: SnapshotKind, snapshot: Any, snapshot_id: str) -> None:
        with self._lock:
            tracked = self._managed.get((kind, snapshot_id))
            if tracked is None or id(tracked) != id(snapshot) or snapshot.status in _TERMINAL_SNAPSHOT_STATES:
                return
            self._set(snapshot, self.policy(kind, snapshot_id))

    @staticmethod
    def _set(snapshot: Any, status: str) -> None:
        snapshot.status = status
        snapshot.percent_progress = 100 if status == "available" else 0


# --------------------------------------------------------------------------------------------------
# All of them
# --------------------------------------------------------------------------------------------------


class MotoSeams(Seam):
    """The seams an emulated deployment needs, installed and removed together."""

    def __init__(
        self,
        *,
        routes: Mapping[str, str | Handler] | None = None,
        task_runner: TaskRunner | None = None,
        rollout_policy: RolloutPolicy | None = None,
        snapshot_policy: SnapshotPolicy | None = None,
        skip_waits: bool = True,
        skip_retry_sleeps: bool = True,
        enforce_lambda_timeouts: bool = False,
        extra: Sequence[Seam] = (),
        event_delivery: EventDelivery | None = None,
    ) -> None:
        """`extra`: more seams installed with these (the documented AWS limits and behaviours moto does
        not have, `documented_limits.SnsSubjectRules`, `documented_behaviour.RunTaskIdempotency` and
        `documented_behaviour.EcrBlobDownloads` (`ecr_blobs`), are always among them)."""
        super().__init__()
        from ecs_migrate_deploy.emulation.aws_events import EventDrivenWaits
        from ecs_migrate_deploy.emulation.documented_behaviour import EcrBlobDownloads, RunTaskIdempotency
        from ecs_migrate_deploy.emulation.documented_limits import (
            RdsClusterRestoreAsDocumented,
            RdsIdentifierRules,
            SnsSubjectRules,
        )

        self.ecr_blobs = EcrBlobDownloads()
        self.extra: list[Seam] = [SnsSubjectRules(), RunTaskIdempotency(), self.ecr_blobs, *extra]
        self.extra += [RdsIdentifierRules(), RdsClusterRestoreAsDocumented()]  # RDS identifiers, Aurora restores
        self.lambdas = LambdaRouter(routes, enforce_timeouts=enforce_lambda_timeouts)
        self.sleeps = SleepRecorder(skip_waits=skip_waits, skip_retries=skip_retry_sleeps)
        self.tasks = EcsTasks(task_runner)
        self.rollouts = EcsRollouts(rollout_policy)
        self.snapshots = RdsSnapshots(snapshot_policy) if snapshot_policy else None
        self.events = EventDrivenWaits(self.sleeps, event_delivery)
        self._installed: list[Seam] = []

    @property
    def installed(self) -> bool:
        return bool(self._installed)

    def install(self) -> Self:
        if self._installed:
            raise RuntimeError("MotoSeams is already installed")
        seams: list[Seam] = [self.lambdas, self.sleeps, self.tasks, self.rollouts, self.events]
        if self.snapshots is not None:
            seams.append(self.snapshots)
        seams += self.extra
        try:
            for seam in seams:
                seam.install()
                self._installed.append(seam)
        except BaseException:
            self.uninstall()
            raise
        return self

    def uninstall(self) -> None:
        while self._installed:
            self._installed.pop().uninstall()
