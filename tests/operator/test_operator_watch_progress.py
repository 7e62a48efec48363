"""`watch` during a long wait: a progress line at least every `--heartbeat` seconds, with what ECS
reports; and Ctrl-C, which ends the watch, not the deployment, and says how to stop that.

The rollout is held: CheckRollout's Lambda waits until the test lets it go (`HeldRollout`), and until
then ECS reports the new revision's deployment IN_PROGRESS with none of its tasks running, as it
does while new tasks start and pass their health checks.
"""

from __future__ import annotations

import re
import signal
import threading
from typing import Any

from ecs_migrate_deploy.emulation.seams.awslambda import resolve_handler
from ecs_migrate_deploy.emulation.seams.ecs_tasks import TaskOutcome
from tests.support.operator_stack import CI, OPERATOR_MARKS, REGION, STACK_NAME, OperatorStack, Running, StackFactory

pytestmark = OPERATOR_MARKS


def quick_migration(task_definition: dict[str, Any], overrides: list[dict[str, Any]], started_by: str) -> TaskOutcome:
    return TaskOutcome.exited(0, ["No pending migrations to apply."])


class HeldRollout:
    """CheckRollout's Lambda, held until `release`; ECS's rollout of a new revision IN_PROGRESS until then."""

    def __init__(self) -> None:
        self.released = threading.Event()
        self.checking = threading.Event()
        self.initial: dict[str, str] = {}

    def check(self, event: dict[str, Any], context: Any) -> Any:
        self.checking.set()
        self.released.wait(timeout=60)
        return resolve_handler("deploy_pipeline.handlers.rollout.check")(event, context)

    def policy(self, service: str, task_definition_arn: str) -> str:
        done = self.released.is_set() or task_definition_arn == self.initial.get(service)
        return "COMPLETED" if done else "IN_PROGRESS"


def held_stack(make_stack: StackFactory) -> tuple[OperatorStack, HeldRollout]:
    held = HeldRollout()
    stack = make_stack(
        task_runner=quick_migration,
        parameters={"VerifyTool": "none"},
        rollout_policy=held.policy,
        routes={"CheckRolloutFunction": held.check},
    )
    held.initial.update(stack.world.task_definition_arns)
    return stack, held


def test_start_watch_prints_what_it_waits_for_during_a_long_rollout(make_stack: StackFactory) -> None:
    stack, held = held_stack(make_stack)

    watcher = Running(stack.spawn("start", "--tag", "v1.1.0", "--watch", "--interval", "0.2", "--heartbeat", "1",
                                  env=CI))  # fmt: skip
    try:
        assert held.checking.wait(timeout=60)
        first, _ = watcher.wait_for(" … rollout ", timeout=30, count=2)  # again while nothing else happens
    finally:
        held.released.set()
    result = watcher.finish(timeout=60)

    assert result.code == 0, result.stdout + result.stderr
    assert re.fullmatch(
        r" … rollout +(\d+m )?\d+s  waiting for web → web:2, worker → worker:2; "
        r"ECS: web 0/2 running \(IN_PROGRESS\), worker 0/2 running \(IN_PROGRESS\)\n",
        first,
    ), first
    lines = result.stdout.splitlines()
    waits = [i for i, line in enumerate(lines) if line.startswith(" … rollout ")]
    assert len(waits) >= 2
    assert lines.index(next(line for line in lines if " ✓ StartRollout " in line)) < waits[0]
    assert waits[-1] < lines.index(next(line for line in lines if " ✓ CheckRollout " in line))
    assert "\nSucceeded  (SUCCEEDED)\n" in result.stdout


def test_ctrl_c_leaves_the_deployment_running_and_says_how_to_stop_it(make_stack: StackFactory) -> None:
    stack, held = held_stack(make_stack)
    arn = stack.emulator.start({"image_tag": "v1.1.0"}, name="long-rollout")
    try:
        assert held.checking.wait(timeout=60)
        watcher = Running(stack.spawn("watch", "long-rollout", "--interval", "0.2", "--heartbeat", "0.5", env=CI))
        watcher.wait_for(" … rollout ", timeout=30)  # every event read so far is shown: it waits in CheckRollout
        watcher.process.send_signal(signal.SIGINT)
        result = watcher.finish(timeout=30)
        status = stack.client("stepfunctions").describe_execution(executionArn=arn)["status"]
    finally:
        held.released.set()
    report = stack.emulator.wait(arn, timeout=60)

    assert result.code == 130, result.stdout + result.stderr
    assert result.stderr == (
        "Stopped watching; the execution goes on: long-rollout is still running (rollout, in CheckRollout).\n"
        f"  follow it again: ecs-migrate-deploy watch long-rollout --stack-name {STACK_NAME} --region {REGION}\n"
        f"  stop it:         ecs-migrate-deploy stop long-rollout --reason TEXT --stack-name {STACK_NAME} --region {REGION}\n"
        "                   (it stops what it started or puts it back, releases the lock and records who stopped it)\n"
    )
    assert "Traceback" not in result.stdout + result.stderr
    assert status == "RUNNING"
    assert report.status == "SUCCEEDED"  # it went on without the watch
