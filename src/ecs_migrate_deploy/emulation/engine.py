"""Run the real state machine locally: moto + the seams + the world, behind one context manager.

`Emulator` is what the workflow tests and the `rehearse` CLI command share. It owns everything
process-global that an emulated run changes (moto's mock, the patched moto methods, os.environ,
the pipeline's cached settings and boto3 clients) and puts all of it back on exit.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from ecs_migrate_deploy.emulation.seams import MotoSeams
from ecs_migrate_deploy.emulation.seams.awslambda import Handler
from ecs_migrate_deploy.emulation.seams.base import Seam
from ecs_migrate_deploy.emulation.seams.documented_behaviour import RdsEndpoint
from ecs_migrate_deploy.emulation.seams.ecs_rollouts import RolloutPolicy
from ecs_migrate_deploy.emulation.seams.ecs_tasks import TaskRunner
from ecs_migrate_deploy.emulation.seams.rds_snapshots import SnapshotPolicy
from ecs_migrate_deploy.emulation.seams.waits import RecordedSleep
from ecs_migrate_deploy.emulation.world import World, WorldSpec, aws_client, build_world

if TYPE_CHECKING:
    from moto.core.config import DefaultConfig

    from ecs_migrate_deploy.emulation.aws_events import AwsEventSource, EventDelivery

MOTO_CONFIG: DefaultConfig = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}

EventCallback = Callable[[dict[str, Any]], None]

_SFN_LOGGER = logging.getLogger("moto.stepfunctions.parser")

_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
}
# Anything that could point boto3 at a real account or endpoint is removed for the run.
_REMOVED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")


@dataclass(frozen=True)
class StateVisit:
    """One pass through a state, from its Entered to its Exited history event."""

    name: str
    type: str
    entered_event_id: int
    entered_at: datetime
    input: Any
    exited_event_id: int | None = None
    exited_at: datetime | None = None
    output: Any = None
    slept_seconds: float = 0.0


@dataclass(frozen=True)
class ExecutionReport:
    """What an execution did: status, output, error, the raw history and the states it passed."""

    arn: str
    status: str
    output: Any
    error: str | None
    cause: str | None
    events: list[dict[str, Any]]
    states: list[StateVisit]
    sleeps: list[RecordedSleep]
    wall_seconds: float

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"

    @property
    def state_names(self) -> list[str]:
        """Names of the states entered, in order (a state appears once per visit)."""
        return [visit.name for visit in self.states]

    @property
    def emulated_wait_seconds(self) -> float:
        """Seconds Wait states and Retry backoff asked for (skipped here, spent on AWS)."""
        return sum(sleep.seconds for sleep in self.sleeps)

    @property
    def emulated_seconds(self) -> float:
        """Roughly how long the run would take on AWS: real time here plus the skipped sleeps."""
        return self.wall_seconds + sum(sleep.seconds for sleep in self.sleeps if sleep.skipped)

    def visits(self, name: str) -> list[StateVisit]:
        return [visit for visit in self.states if visit.name == name]


def _parse_json(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


_TOLERANCE = timedelta(milliseconds=2)


def derive_states(events: list[dict[str, Any]], sleeps: list[RecordedSleep]) -> list[StateVisit]:
    """Pair StateEntered/StateExited events and attach the sleeps recorded for each visit.

    A Wait record goes to the next unassigned visit of the state it names; a Retry record goes to
    the last visit of its state entered before the backoff began.
    """
    visits: list[dict[str, Any]] = []
    open_visits: dict[str, dict[str, Any]] = {}
    for event in events:
        kind = str(event["type"])
        if kind.endswith("StateEntered"):
            details = event.get("stateEnteredEventDetails", {})
            visit = {
                "name": details.get("name", "?"),
                "type": kind[: -len("StateEntered")],
                "entered_event_id": int(event["id"]),
                "entered_at": event["timestamp"],
                "input": _parse_json(details.get("input")),
            }
            visits.append(visit)
            open_visits[visit["name"]] = visit
        elif kind.endswith("StateExited"):
            details = event.get("stateExitedEventDetails", {})
            name = details.get("name", "?")
            if name in open_visits:
                visit = open_visits.pop(name)
                visit.update(
                    exited_event_id=int(event["id"]),
                    exited_at=event["timestamp"],
                    output=_parse_json(details.get("output")),
                )
    slept = [0.0] * len(visits)
    used: set[int] = set()
    for sleep in sleeps:
        candidates = [i for i, v in enumerate(visits) if v["name"] == sleep.state]
        if sleep.kind == "wait":
            index = next((i for i in candidates if i not in used and visits[i]["type"] == "Wait"), None)
            if index is not None:
                used.add(index)
        else:
            # The visit of that state that had started when the backoff began (history timestamps
            # are in milliseconds, hence the tolerance).
            started = [i for i in candidates if visits[i]["entered_at"] <= sleep.at + _TOLERANCE]
            index = started[-1] if started else (candidates[-1] if candidates else None)
        if index is not None:
            slept[index] += sleep.seconds
    return [StateVisit(**visit, slept_seconds=slept[i]) for i, visit in enumerate(visits)]


@dataclass
class Emulator:
    """Emulated AWS + the real ASL + in-process handlers, as a context manager.

    ```
    with Emulator(WorldSpec(), task_runner=my_runner) as emu:
        arn = emu.start({"image_tag": "v1.1.0"}, name="rehearsal-1")
        report = emu.wait(arn)
    ```
    `routes` maps Lambda function names (the template's logical ids) to handlers or dotted paths;
    unrouted functions run the `Handler` the template gives them. `parameters` override the
    template's Parameters for the Lambda environment; `extra_env` is set as is (e.g. Powertools
    log level). `on_event` is called from `wait`'s polling loop with each new history event.
    `quiet_moto` silences moto's SFN interpreter, which logs every failed state at ERROR on stderr
    (a caught error is normal flow here; the history has the details).
    `endpoint_url` (e.g. `http://127.0.0.1:5123`) targets a moto server running in THIS process
    (`ThreadedMotoServer`) instead of starting `mock_aws`: every boto3 client, the handlers' included,
    then talks HTTP to it, so another process (the operator CLI) sees the same emulated account. The
    seams still apply, as they patch moto's classes; the server's config (execute_state_machine,
    use_docker=False) and MOTO_PORT are the caller's to set.
    """

    spec: WorldSpec = field(default_factory=WorldSpec)
    routes: Mapping[str, str | Handler] | None = None
    task_runner: TaskRunner | None = None
    rollout_policy: RolloutPolicy | None = None
    snapshot_policy: SnapshotPolicy | None = None
    skip_waits: bool = True
    skip_retry_sleeps: bool = True
    enforce_lambda_timeouts: bool = False
    parameters: Mapping[str, str] | None = None
    extra_env: Mapping[str, str] | None = None
    on_event: EventCallback | None = None
    poll_interval: float = 0.02
    metrics_namespace: str = "ecs-migrate-deploy"
    quiet_moto: bool = True
    emulated_clock: bool = True
    endpoint_url: str | None = None
    extra_seams: Sequence[Seam] = ()
    event_delivery: EventDelivery | None = None  # how AWS's state-change events reach NoticeFunction

    def __post_init__(self) -> None:
        self.seams = MotoSeams(
            routes=self.routes,
            task_runner=self.task_runner,
            rollout_policy=self.rollout_policy,
            snapshot_policy=self.snapshot_policy,
            skip_waits=self.skip_waits,
            skip_retry_sleeps=self.skip_retry_sleeps,
            enforce_lambda_timeouts=self.enforce_lambda_timeouts,
            # The database's endpoint is the local PostgreSQL the world's secret names.
            extra=[RdsEndpoint(self.spec.db_secret.host), *self.extra_seams],
            event_delivery=self.event_delivery,
        )
        self.clock_offset = 0.0  # seconds a test moved the clock on by hand (advance_clock)
        self.events: AwsEventSource | None = None  # AWS's state-change events, once the world is built
        self._saved_clock: Callable[[], datetime] | None = None
        self._world: World | None = None
        self._mock: Any = None
        self._saved_env: dict[str, str] | None = None
        self._saved_log_level: int | None = None
        self._started: dict[str, float] = {}

    # ---- lifecycle --------------------------------------------------------------------------------

    @property
    def world(self) -> World:
        if self._world is None:
            raise RuntimeError("the Emulator is not running (use it as a context manager)")
        return self._world

    def __enter__(self) -> Self:
        from moto import mock_aws

        self._saved_env = dict(os.environ)
        if self.quiet_moto:
            self._saved_log_level = _SFN_LOGGER.level
            _SFN_LOGGER.setLevel(logging.CRITICAL)
        for name in _REMOVED:
            os.environ.pop(name, None)
        os.environ.update(_FAKE_CREDENTIALS)
        os.environ["AWS_DEFAULT_REGION"] = self.spec.region
        os.environ["AWS_REGION"] = self.spec.region
        os.environ["MOTO_ACCOUNT_ID"] = self.spec.account  # moto's ARNs then match the spec's
        try:
            if self.endpoint_url:
                os.environ["AWS_ENDPOINT_URL"] = self.endpoint_url
            else:
                self._mock = mock_aws(config=MOTO_CONFIG)
                self._mock.start()
            self.seams.install()
            # The functions are created with the overridden parameters: each invocation runs with its
            # function's own environment, as on AWS.
            spec = replace(self.spec, parameters={**self.spec.parameters, **(self.parameters or {})})
            self._world = build_world(spec)
            os.environ.update(self._world.env())
            os.environ["POWERTOOLS_TRACE_DISABLED"] = "1"
            os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", self.metrics_namespace)
            os.environ.update(dict(self.extra_env or {}))
            reset_pipeline_caches()
            if self.emulated_clock:
                self._install_clock()
            from deploy_pipeline.logic import polling

            self.events = self.seams.events.attach(self._world, polling.clock)
        except BaseException:
            self._teardown()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._teardown()

    def _install_clock(self) -> None:
        """The pipeline's clock runs ahead by every sleep skipped here, so timeouts and lock
        budgets see the time AWS would have spent (deploy_pipeline.logic.polling.clock)."""
        from deploy_pipeline.logic import polling

        self._saved_clock = polling.clock
        real = self._saved_clock
        recorder = self.seams.sleeps

        events = self.seams.events

        def emulated() -> datetime:
            skipped = sum(r.seconds for r in list(recorder.records) if r.skipped)
            return real() + timedelta(seconds=skipped + self.clock_offset - events.real_seconds_in_ticks)

        polling.clock = emulated

    def advance_clock(self, seconds: float) -> None:
        """Move the pipeline's clock on (e.g. past a lock's TTL) without waiting."""
        self.clock_offset += seconds

    def _teardown(self) -> None:
        if self._saved_clock is not None:
            from deploy_pipeline.logic import polling

            polling.clock = self._saved_clock
            self._saved_clock = None
        if self._world is not None:
            with contextlib.suppress(Exception):
                self._stop_running_executions()
        self.seams.uninstall()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        self._world = None
        if self._saved_env is not None:
            os.environ.clear()
            os.environ.update(self._saved_env)
            self._saved_env = None
        if self._saved_log_level is not None:
            _SFN_LOGGER.setLevel(self._saved_log_level)
            self._saved_log_level = None
        reset_pipeline_caches()

    def _stop_running_executions(self) -> None:
        sfn = self.client("stepfunctions")
        for arn in self._started:
            if sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
                sfn.stop_execution(executionArn=arn, error="EmulatorClosed", cause="the emulator was closed")
                _await_not_running(sfn, arn)

    # ---- use --------------------------------------------------------------------------------------

    def client(self, service: str) -> Any:
        """A boto3 client for the emulated account (valid while the emulator runs)."""
        return aws_client(service, self.spec.region)

    def start(self, input: Mapping[str, Any], name: str) -> str:
        """StartExecution of the world's state machine; `name` is required (moto needs it)."""
        arn: str = self.client("stepfunctions").start_execution(
            stateMachineArn=self.world.state_machine_arn, name=name, input=json.dumps(input)
        )["executionArn"]
        self._started[arn] = time.perf_counter()
        return arn

    def deliver(self, event: Mapping[str, Any]) -> str | None:
        """Do what EventBridge does with `event` on the default bus: if the stack's trigger rule (the
        pattern in template.yaml, with this world's parameters) matches, StartExecution with the event
        as input, named as EventBridge names it; None when the rule does not match (nothing starts).

        The name is not ours to choose on AWS: an execution started by a rule is named with the event's
        id and a fresh UUID joined by `_` (73 characters for a UUID event id), which is what every
        identifier derived from the execution name must survive. (The same naming is what LocalStack
        reproduces "as it happens in AWS", localstack/localstack#11427.) Matching uses moto's
        implementation of EventBridge's pattern rules (prefix, anything-but, ...).
        """
        from moto.events.models import EventPattern

        pattern = EventPattern.load(json.dumps(self.world.trigger_pattern()))
        if not pattern.matches_event(dict(event)):  # type: ignore[arg-type]
            return None
        return self.start(event, name=eventbridge_execution_name(event))

    def wait(self, arn: str, timeout: float = 60, on_event: EventCallback | None = None) -> ExecutionReport:
        """Poll until the execution ends; raises TimeoutError (after stopping it) past `timeout`."""
        sfn = self.client("stepfunctions")
        callback = on_event or self.on_event
        started = self._started.get(arn, time.perf_counter())
        deadline = time.monotonic() + timeout
        seen = 0
        events: list[dict[str, Any]] = []
        while True:
            described = sfn.describe_execution(executionArn=arn)
            events = _history(sfn, arn)
            if callback is not None:
                for event in events[seen:]:
                    callback(event)
            seen = len(events)
            if described["status"] != "RUNNING":
                break
            if time.monotonic() > deadline:
                sfn.stop_execution(executionArn=arn, error="EmulatorTimeout", cause=f"not done after {timeout}s")
                _await_not_running(sfn, arn)
                last = derive_states(events, [])[-3:]
                raise TimeoutError(
                    f"execution {arn} still running after {timeout}s; last states: {[v.name for v in last]}"
                )
            time.sleep(self.poll_interval)
        sleeps = self.seams.sleeps.for_execution(arn)
        return ExecutionReport(
            arn=arn,
            status=described["status"],
            output=_parse_json(described.get("output")),
            error=described.get("error"),
            cause=described.get("cause"),
            events=events,
            states=derive_states(events, sleeps),
            sleeps=sleeps,
            wall_seconds=time.perf_counter() - started,
        )

    def run(self, input: Mapping[str, Any], name: str, timeout: float = 60) -> ExecutionReport:
        """start + wait."""
        return self.wait(self.start(input, name=name), timeout=timeout)


def eventbridge_execution_name(event: Mapping[str, Any]) -> str:
    """`<event id>_<uuid4>`, the shape of an execution name that an EventBridge rule starts."""
    event_id = str(event.get("id") or uuid.uuid4())
    return f"{event_id}_{uuid.uuid4()}"[:80]


def _await_not_running(sfn: Any, arn: str, timeout: float = 5.0) -> None:
    """StopExecution is asynchronous in moto: the interpreter thread reflects ABORTED a moment later."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sfn.describe_execution(executionArn=arn)["status"] != "RUNNING":
            return
        time.sleep(0.01)


def _history(sfn: Any, arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**kwargs)
        events.extend(page["events"])
        token = page.get("nextToken")
        if not token:
            return events
        kwargs["nextToken"] = token


def reset_pipeline_caches() -> None:
    """Forget what a Lambda container keeps between invocations: cached settings and boto3 clients
    (they captured env and endpoints). Each world gets new containers. (The Powertools metrics
    buffer is emptied after every invocation instead: seams.awslambda._drop_unflushed_metrics.)"""
    with contextlib.suppress(ImportError):
        from deploy_pipeline.settings import get_settings

        get_settings.cache_clear()
    with contextlib.suppress(ImportError):
        from deploy_pipeline.aws import clients

        reset = getattr(clients, "reset_clients", None)
        if callable(reset):
            reset()
