"""What every operator command shares: the region it finds the stack in, `--version`, and one line
for an execution that does not exist."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from ecs_migrate_deploy.emulation.seams.ecs_tasks import TaskOutcome
from tests.support.operator_stack import OPERATOR_MARKS, REGION, STACK_NAME, StackFactory

pytestmark = OPERATOR_MARKS

ELSEWHERE = "eu-west-1"  # a region where the stack does not exist


def quick_migration(task_definition: dict[str, Any], overrides: list[dict[str, Any]], started_by: str) -> TaskOutcome:
    return TaskOutcome.exited(0, ["No pending migrations to apply."])


def test_the_region_is_the_flag_then_aws_region_then_aws_default_region(make_stack: StackFactory) -> None:
    stack = make_stack(task_runner=quick_migration, parameters={"VerifyTool": "none"})

    def history(*flags: str, **env: str) -> tuple[int, str]:
        result = stack.cli("history", "--json", "--stack-name", STACK_NAME, *flags, stack=False, env=env)
        return result.code, result.stderr

    assert history(AWS_REGION=REGION) == (0, "")
    assert history(AWS_REGION=REGION, AWS_DEFAULT_REGION=ELSEWHERE) == (0, "")
    assert history(AWS_DEFAULT_REGION=REGION) == (0, "")
    code, stderr = history("--region", ELSEWHERE, AWS_REGION=REGION)
    assert (code, stderr.splitlines()[0]) == (
        2,
        f"error: stack '{STACK_NAME}' not found in {ELSEWHERE}: "
        + ("pass --stack-name/--region, or deploy it with `sam deploy`"),
    )
    code, stderr = history()
    assert (code, stderr) == (
        2,
        "error: no AWS region: pass --region, or set AWS_REGION, AWS_DEFAULT_REGION or a region in your profile\n",
    )


def test_version_is_the_installed_distribution_s(make_stack: StackFactory) -> None:
    stack = make_stack(task_runner=quick_migration, parameters={"VerifyTool": "none"})

    result = stack.cli("--version", stack=False)

    assert (result.code, result.stdout, result.stderr) == (
        0,
        f"ecs-migrate-deploy {version('ecs-migrate-deploy')}\n",
        "",
    )


def test_an_unknown_execution_is_one_line(make_stack: StackFactory) -> None:
    stack = make_stack(task_runner=quick_migration, parameters={"VerifyTool": "none"})
    expected = (
        "error: no execution {!r} in the state machine of stack 'emd-operator-test' "
        "(`history` lists the deployments: their ids are the execution names)\n"
    )
    arn = stack.world.state_machine_arn.replace(":stateMachine:", ":execution:") + ":nope"

    by_name = stack.cli("watch", "nope")
    by_arn = stack.cli("watch", arn)
    logs = stack.cli("logs", "nope")

    for result in (by_name, by_arn, logs):
        assert result.code == 2, result.stdout + result.stderr
        assert result.stdout == ""
    assert by_name.stderr == logs.stderr == expected.format("nope")
    assert by_arn.stderr == expected.format(arn)
