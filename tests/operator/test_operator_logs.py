"""`logs`: the migration task's whole CloudWatch log stream, found through the execution's history."""

from __future__ import annotations

from typing import Any

from ecs_migrate_deploy.emulation.seams.ecs_tasks import TaskOutcome
from tests.support.operator_stack import OPERATOR_MARKS, StackFactory

pytestmark = OPERATOR_MARKS

LINES = [f"migration step {i:03d}: ok" for i in range(120)]


def chatty_migration(task_definition: dict[str, Any], overrides: list[dict[str, Any]], started_by: str) -> TaskOutcome:
    return TaskOutcome.exited(0, LINES)


def test_logs_prints_the_whole_stream_not_just_the_tail(make_stack: StackFactory) -> None:
    stack = make_stack(task_runner=chatty_migration, parameters={"VerifyTool": "none"})
    report = stack.run({"image_tag": "v1.1.0"}, name="chatty")
    assert report.succeeded
    (check,) = [v for v in report.visits("CheckMigration") if v.output and v.output["migration"]["done"]]
    tail = check.output["migration"]["log_tail"]
    stack.run({"image_tag": "v1.0.0", "options": {"dry_run": True}}, name="dry")

    by_name = stack.cli("logs", "chatty")
    by_arn = stack.cli("logs", report.arn)
    no_migration = stack.cli("logs", "--latest")

    assert by_name.code == by_arn.code == 0, by_name.stderr
    assert by_name.stdout.splitlines() == LINES == by_arn.stdout.splitlines()
    assert tail == LINES[-len(tail) :] and len(tail) < len(LINES)  # what the execution itself keeps
    group, stream = check.output["migration"]["log_group"], check.output["migration"]["log_stream"]
    assert by_name.stderr == f"# {group} {stream}\n"
    assert no_migration.code == 2
    assert "this execution ran no migration" in no_migration.stderr
