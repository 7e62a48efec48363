"""`start` and `watch`: the manual input as the Lambda parses it, a readable execution, a live view, the exit code."""

from __future__ import annotations

import json
import re
from typing import Any

from ecs_migrate_deploy.emulation.seams.ecs_tasks import TaskOutcome
from tests.support.operator_stack import CALLER, OPERATOR_MARKS, REGION, STACK_NAME, StackFactory

pytestmark = OPERATOR_MARKS


def test_start_watch_deploys_the_tag_and_follows_it_to_the_outcome(make_stack: StackFactory) -> None:
    stack = make_stack()
    world = stack.world

    result = stack.cli("start", "--tag", "v1.1.0", "--watch", "--interval", "0.2")

    assert result.code == 0, result.stdout + result.stderr
    (execution,) = stack.executions()
    assert re.fullmatch(r"manual-v1-1-0-\d{14}", execution["name"])
    assert json.loads(execution["input"]) == {"image_tag": "v1.1.0", "started_by": CALLER}
    assert execution["status"] == "SUCCEEDED"
    assert stack.records()[0]["started_by"] == CALLER  # `history` says who started it
    out = result.stdout
    assert f"Started {execution['name']}\n" in out
    assert f"execution  {execution['executionArn']}\n" in out
    assert (
        f"console    https://{REGION}.console.aws.amazon.com/states/home?region={REGION}#/v2/executions/details/"
        f"{execution['executionArn']}\n"
    ) in out
    # the live view: the states in order, the migration's own output once it stopped, then the outcome
    states = ["Resolve", "StartSnapshot", "StartMigration", "CheckMigration", "Verify", "CheckRollout", "RecordOutcome"]
    positions = [out.index(f" ✓ {state} ") for state in states]
    assert positions == sorted(positions), out
    # (the line both Prisma itself and the built-in Prisma-compatible runner print last)
    log_line = out.index("│ All migrations have been successfully applied.")
    assert positions[3] < log_line < positions[4]
    assert "migration log: /ecs/web ecs/app/" in out
    assert out.rstrip().endswith(f"execution {execution['executionArn']}")
    assert "\nSucceeded  (SUCCEEDED)\n" in out
    assert f"Deployed acme/app:v1.1.0 ({world.digests['v1.1.0']}) to web, worker." in out
    assert set(stack.images().values()) == {f"{world.repository_uri}@{world.digests['v1.1.0']}"}


def failing_migration(task_definition: dict[str, Any], overrides: list[dict[str, Any]], started_by: str) -> TaskOutcome:
    return TaskOutcome.exited(1, ["Applying migration `20250401000000_bad`", 'ERROR: column "sku" does not exist'])


def test_watch_exits_1_with_the_recorded_cause_when_the_deployment_fails(make_stack: StackFactory) -> None:
    stack = make_stack(task_runner=failing_migration)
    started = stack.cli("start", "--tag", "v1.1.0")
    assert started.code == 0, started.stderr
    name = stack.executions()[0]["name"]

    by_name = stack.cli("watch", name, "--interval", "0.2")
    latest = stack.cli("watch", "--latest", "--interval", "0.2")

    assert (by_name.code, latest.code) == (1, 1), by_name.stdout + by_name.stderr
    assert by_name.stdout.replace(name, "") == latest.stdout.replace(name, "")
    out = by_name.stdout
    assert " ✗ CheckMigration " in out and "MigrationFailed: the migration task exited with code 1" in out
    assert '│ ERROR: column "sku" does not exist' not in out  # a failed check has no output; the cause has the log
    assert "\nFailed  (FAILED)\n" in out
    assert "  MigrationFailed\n" in out
    assert 'ERROR: column "sku" does not exist' in out  # the recorded cause carries the log tail
    assert stack.executions()[0]["status"] == "FAILED"


def test_start_passes_the_options_and_dry_run_touches_nothing(make_stack: StackFactory) -> None:
    stack = make_stack()
    digest = stack.world.digests["v1.1.0"]

    result = stack.cli(
        "start", "--digest", digest, "--dry-run", "--expected-migration", "20250310083000_order_status",
        "--watch", "--interval", "0.2",
    )  # fmt: skip

    assert result.code == 0, result.stdout + result.stderr
    (execution,) = stack.executions()
    assert re.fullmatch(rf"manual-sha256-{digest[7:19]}-\d{{14}}", execution["name"])
    assert json.loads(execution["input"]) == {
        "image_digest": digest,
        "options": {"dry_run": True, "expected_migration": "20250310083000_order_status"},
        "started_by": CALLER,
    }
    assert "\nDryRun  (SUCCEEDED)\n" in result.stdout
    assert "StartSnapshot" not in result.stdout and "StartMigration" not in result.stdout
    assert set(stack.images().values()) == {f"{stack.world.repository_uri}:v1.0.0"}


def test_start_refuses_invalid_input_before_calling_aws(make_stack: StackFactory) -> None:
    stack = make_stack()

    both = stack.cli("start", "--tag", "v1.1.0", "--digest", "sha256:" + "a" * 64)
    neither = stack.cli("start", "--json")
    bad_tag = stack.cli("start", "--tag", "v1.1.0/../latest")
    bad_digest = stack.cli("start", "--digest", "sha256:abc")
    bad_migration = stack.cli("start", "--tag", "v1.1.0", "--expected-migration", "drop table")
    not_allowed = stack.cli("start", "--tag", "v1.1.0", "--skip-snapshot")

    for result in (both, neither, bad_tag, bad_digest, bad_migration, not_allowed):
        assert result.code == 2, result.stdout + result.stderr
        assert result.stdout == ""
    # in the command's words: its flags, not the input model's fields
    assert both.stderr == neither.stderr == "error: give exactly one of --tag and --digest\n"
    assert bad_tag.stderr == (
        "error: --tag is an image tag (letters, digits, '_', '.' and '-', at most 128, not starting with '.' or '-'), "
        "not 'v1.1.0/../latest'\n"
    )
    assert bad_digest.stderr == "error: --digest is sha256:<64 lower-case hex digits>, not 'sha256:abc'\n"
    assert bad_migration.stderr == (
        "error: --expected-migration is a migration name (letters, digits, '_', '.', ':' and '-'), not 'drop table'\n"
    )
    assert f"stack '{STACK_NAME}' does not allow --skip-snapshot" in not_allowed.stderr
    assert stack.executions() == []


def test_the_stack_name_defaults_to_samconfig_and_a_missing_stack_is_a_clear_error(make_stack: StackFactory) -> None:
    stack = make_stack()
    (stack.cwd / "samconfig.toml").write_text(
        f'version = 0.1\n[default.deploy.parameters]\nstack_name = "{STACK_NAME}"\n'
        '[prod.deploy.parameters]\nstack_name = "acme-prod-release"\n'
    )

    default = stack.cli("history", "--json", "--region", REGION, stack=False)
    prod = stack.cli("history", "--config-env", "prod", "--region", REGION, stack=False)
    (stack.cwd / "samconfig.toml").unlink()
    none = stack.cli("history", "--region", REGION, stack=False)

    assert (default.code, default.json()) == (0, []), default.stderr
    assert prod.code == 2
    assert "stack 'acme-prod-release' not found in us-east-1" in prod.stderr
    assert none.code == 2
    assert "no --stack-name given and no samconfig.toml in this directory" in none.stderr


def test_start_and_watch_json_print_one_object_and_the_live_view_on_stderr(make_stack: StackFactory) -> None:
    stack = make_stack(task_runner=failing_migration, parameters={"VerifyTool": "none"})

    started = stack.cli("start", "--tag", "v1.1.0", "--json")
    (execution,) = stack.executions()
    watched = stack.cli("watch", execution["name"], "--json", "--interval", "0.2")
    start_watch = stack.cli("start", "--tag", "v1.1.0", "--dry-run", "--watch", "--json", "--interval", "0.2")

    assert started.code == 0, started.stderr
    assert (started.json(), started.stderr) == (
        {
            "execution": {
                "name": execution["name"],
                "arn": execution["executionArn"],
                "console_url": (
                    f"https://{REGION}.console.aws.amazon.com/states/home?region={REGION}#/v2/executions/details/"
                    f"{execution['executionArn']}"
                ),
                "input": {"image_tag": "v1.1.0", "started_by": CALLER},
            }
        },
        "",
    )
    assert watched.code == 1, watched.stdout + watched.stderr
    data = watched.json()
    assert data["execution"] == {"name": execution["name"], "arn": execution["executionArn"]}
    assert (data["status"], data["outcome"], data["error"]) == ("FAILED", "Failed", "MigrationFailed")
    assert data["cause"].startswith("Failed: MigrationFailed: the migration task exited with code 1")
    assert f"Watching {execution['name']}" in watched.stderr and "\nFailed  (FAILED)\n" in watched.stderr
    assert start_watch.code == 0, start_watch.stdout + start_watch.stderr
    data = start_watch.json()
    assert data["execution"]["input"] == {"image_tag": "v1.1.0", "options": {"dry_run": True}, "started_by": CALLER}
    assert (data["status"], data["outcome"], data["error"]) == ("SUCCEEDED", "DryRun", None)
    assert "\nDryRun  (SUCCEEDED)\n" in start_watch.stderr
