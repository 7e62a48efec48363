"""`watch --image-digest`: what CI runs right after its push, to fail the job when the deployment does.

The executions here are started as the stack's EventBridge rule starts them (`Emulator.deliver`: the
ECR push event as the input, a name chosen by AWS), except where a manual start is the point. The CLI
runs with CI=true (or NO_COLOR) and FORCE_COLOR=1: without the CI handling rich would write escape
sequences to the pipe.
"""

from __future__ import annotations

import time
from typing import Any

from ecs_migrate_deploy.emulation.seams.ecs_tasks import TaskOutcome
from tests.support.operator_stack import CI, OPERATOR_MARKS, OperatorStack, Running, StackFactory

pytestmark = OPERATOR_MARKS

NO_COLOR = {"NO_COLOR": "1", "FORCE_COLOR": "1"}


def quick_migration(task_definition: dict[str, Any], overrides: list[dict[str, Any]], started_by: str) -> TaskOutcome:
    return TaskOutcome.exited(0, ["No pending migrations to apply."])


def failing_migration(task_definition: dict[str, Any], overrides: list[dict[str, Any]], started_by: str) -> TaskOutcome:
    return TaskOutcome.exited(1, ["Applying migration `20250401000000_bad`", 'ERROR: column "sku" does not exist'])


def push(stack: OperatorStack, tag: str) -> str:
    arn = stack.emulator.deliver(stack.world.ecr_push_event(tag))
    assert arn is not None, "the trigger rule did not match the push"
    return arn


def test_watch_image_digest_waits_for_the_push_and_follows_it_to_success(make_stack: StackFactory) -> None:
    stack = make_stack()  # the example project's real migrations and verification
    digest = stack.world.digests["v1.1.0"]

    watcher = Running(stack.spawn("watch", "--image-digest", digest, "--wait-start", "60", "--interval", "0.2", env=CI))
    watcher.wait_for("waiting up to 60s", timeout=30)  # it looked once and found nothing
    assert stack.executions() == []
    push(stack, "v1.1.0")
    result = watcher.finish(timeout=120)

    assert result.code == 0, result.stdout + result.stderr
    (execution,) = stack.executions()
    name = execution["name"]  # `<event id>_<uuid>`, as EventBridge names it
    lines = result.stdout.splitlines()
    assert lines[0] == f"No execution of {digest[:19]} yet; waiting up to 60s for it to start"
    assert lines[1].startswith(f"Found {name}: ECR push of tag v1.1.0, started ")
    assert f"Watching {name}" in lines
    assert " ✓ CheckMigration " in result.stdout and " ✓ Verify " in result.stdout
    assert "\nSucceeded  (SUCCEEDED)\n" in result.stdout
    assert f"Deployed acme/app:v1.1.0 ({digest}) to web, worker." in result.stdout
    assert "\x1b" not in result.stdout + result.stderr
    assert result.stderr == ""


def test_watch_image_digest_exits_1_with_the_cause_when_the_deployment_fails(make_stack: StackFactory) -> None:
    stack = make_stack(task_runner=failing_migration)
    digest = stack.world.digests["v1.1.0"]
    push(stack, "v1.1.0")  # started before the watch: found at the first look, however far it got

    result = stack.cli("watch", "--image-digest", digest, "--interval", "0.2", env=NO_COLOR)

    assert result.code == 1, result.stdout + result.stderr
    (execution,) = stack.executions()
    out = result.stdout
    assert out.startswith(f"Found {execution['name']}: ECR push of tag v1.1.0, started ")
    assert "waiting up to" not in out  # found at the first look
    assert " ✗ CheckMigration " in out and "MigrationFailed: the migration task exited with code 1" in out
    assert "\nFailed  (FAILED)\n" in out
    assert 'ERROR: column "sku" does not exist' in out  # the recorded cause, with the migrator's last lines
    assert "\x1b" not in out + result.stderr
    assert execution["status"] == "FAILED"


def test_watch_image_digest_exits_1_when_the_rollout_is_rolled_back(make_stack: StackFactory) -> None:
    box: dict[str, OperatorStack] = {}

    def only_the_initial_revision_completes(service: str, task_definition_arn: str) -> str:
        return "COMPLETED" if task_definition_arn == box["stack"].world.task_definition_arns[service] else "FAILED"

    stack = box["stack"] = make_stack(
        task_runner=quick_migration,
        parameters={"VerifyTool": "none"},
        rollout_policy=only_the_initial_revision_completes,
    )
    digest = stack.world.digests["v1.1.0"]
    push(stack, "v1.1.0")

    result = stack.cli("watch", "--image-digest", digest, "--interval", "0.2", env=CI)

    assert result.code == 1, result.stdout + result.stderr
    assert "\nRolledBack  (FAILED)\n" in result.stdout
    assert "  RolloutFailed\n" in result.stdout
    assert "\x1b" not in result.stdout + result.stderr
    assert set(stack.images().values()) == {f"{stack.world.repository_uri}:v1.0.0"}


def test_watch_image_digest_takes_the_newest_execution_of_the_digest(make_stack: StackFactory) -> None:
    stack = make_stack(task_runner=quick_migration, parameters={"VerifyTool": "none"})
    world = stack.world
    digest = world.digests["v1.1.0"]
    pushed = stack.emulator.wait(push(stack, "v1.1.0"), timeout=60)
    time.sleep(1.1)  # start times are compared to the second in moto's listing
    by_tag = stack.cli("start", "--tag", "v1.1.0", "--watch", "--interval", "0.2")  # the same image, by tag
    time.sleep(1.1)
    other = stack.emulator.wait(push(stack, "v1.0.0"), timeout=60)  # newer, another image: not a match

    result = stack.cli("watch", "--image-digest", digest, "--interval", "0.2", env=CI)

    assert (pushed.status, other.status) == ("SUCCEEDED", "SUCCEEDED")
    assert by_tag.code == 0, by_tag.stdout + by_tag.stderr
    assert result.code == 0, result.stdout + result.stderr
    manual = next(e for e in stack.executions() if e["name"].startswith("manual-"))
    first = result.stdout.splitlines()[0]
    assert first.startswith(
        f"2 executions deploy {digest[:19]}: following the newest, {manual['name']} "
        "(manual start of tag v1.1.0, resolved by Resolve, started "
    ), first
    assert f"Watching {manual['name']}" in result.stdout
    assert "\nNoOp  (SUCCEEDED)\n" in result.stdout  # the push had deployed it already


def test_watch_image_digest_gives_up_after_wait_start_with_one_line(make_stack: StackFactory) -> None:
    stack = make_stack(task_runner=quick_migration, parameters={"VerifyTool": "none"})
    stack.emulator.wait(push(stack, "v1.1.0"), timeout=60)  # an execution of another image: ignored
    missing = "sha256:" + "e" * 64

    began = time.monotonic()
    result = stack.cli("watch", "--image-digest", missing, "--wait-start", "1.5", "--interval", "0.2", env=CI)
    took = time.monotonic() - began
    invalid = stack.cli("watch", "--image-digest", "sha256:abc")
    both = stack.cli("watch", "--latest", "--image-digest", missing)

    assert result.code == 1, result.stdout + result.stderr
    assert result.stdout == f"No execution of {missing[:19]} yet; waiting up to 1.5s for it to start\n"
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(
        f"error: no execution of {missing} started on stack 'emd-operator-test' within 1.5s"
    )
    assert took < 30
    assert (invalid.code, both.code) == (2, 2)
    assert "--image-digest is sha256:<64 lower-case hex digits>, not 'sha256:abc'" in invalid.stderr
    assert "give an execution (name or ARN), --latest or --image-digest: one of them" in both.stderr
