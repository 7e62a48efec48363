"""ECS: the migration task (RunTask -> a `TaskRunner` decides how it ends; see `EcsTasks`)."""

from __future__ import annotations

import contextlib
import copy
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ecs_migrate_deploy.emulation.seams.base import Seam, _now, _Patches

if TYPE_CHECKING:
    from moto.ecs.models import EC2ContainerServiceBackend, Task


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
