"""`rollback`: a recorded image deployed again through the same state machine, the database untouched."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from ecs_migrate_deploy.emulation.seams.ecs_tasks import TaskOutcome
from tests.support.operator_stack import CALLER, OPERATOR_MARKS, StackFactory

pytestmark = OPERATOR_MARKS

MIGRATION_STATES = {"StartSnapshot", "CaptureBaseline", "StartMigration", "CheckMigration", "Verify"}


def test_rollback_to_previous_redeploys_the_older_image_without_migrating(make_stack: StackFactory) -> None:
    stack = make_stack()  # the real example migrations, against a real PostgreSQL
    world = stack.world
    assert stack.run({"image_tag": "v1.0.0"}, name="deploy-v1-0-0").succeeded
    assert stack.run({"image_tag": "v1.1.0"}, name="deploy-v1-1-0").succeeded
    migrations_before = stack.query(
        "SELECT id, migration_name, checksum, finished_at FROM _prisma_migrations ORDER BY id"
    )
    snapshots_before = stack.client("rds").describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    tasks_before = stack.client("ecs").list_tasks(cluster=world.cluster_name, desiredStatus="STOPPED")["taskArns"]

    result = stack.cli("rollback", "--to", "previous", "--watch", "--interval", "0.2")

    assert result.code == 0, result.stdout + result.stderr
    out = result.stdout
    lines = out.splitlines()
    assert lines[0] == f"Rolling back web, worker to deployment deploy-v1-0-0: v1.0.0 {world.digests['v1.0.0'][:19]}"
    assert lines[1] == f"  digest     {world.digests['v1.0.0']}"
    assert re.fullmatch(r"  deployed   \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, deployment deploy-v1-0-0", lines[2])
    assert re.fullmatch(
        rf"  running    v1\.1\.0 {world.digests['v1.1.0'][:19]} on web, worker since \S+ \S+ UTC, deployment deploy-v1-1-0",
        lines[3],
    )
    assert "moves forward" not in out
    assert "The database is not touched: no snapshot, no migration, no verification." in out
    rollback = next(e for e in stack.executions() if e["name"].startswith("rollback-"))
    assert json.loads(rollback["input"]) == {
        "image_digest": world.digests["v1.0.0"],
        "options": {"rollback": True},
        "started_by": CALLER,
    }
    assert rollback["status"] == "SUCCEEDED"
    report = stack.emulator.wait(rollback["executionArn"])
    assert not MIGRATION_STATES & set(report.state_names), report.state_names
    assert {"Resolve", "AcquireLock", "StartRollout", "CheckRollout", "RecordOutcome"} <= set(report.state_names)
    # the services run the recorded image again, by digest
    assert set(stack.images().values()) == {f"{world.repository_uri}@{world.digests['v1.0.0']}"}
    # the database, the snapshots and the tasks are as they were
    assert stack.query("SELECT id, migration_name, checksum, finished_at FROM _prisma_migrations ORDER BY id") == (
        migrations_before
    )
    assert len(migrations_before) == 3
    assert stack.client("rds").describe_db_snapshots(SnapshotType="manual")["DBSnapshots"] == snapshots_before
    assert stack.client("ecs").list_tasks(cluster=world.cluster_name, desiredStatus="STOPPED")["taskArns"] == (
        tasks_before
    )
    # recorded like any deployment, and now the current one
    newest = stack.records()[0]
    assert (newest["deployment_id"], newest["outcome"]) == (rollback["name"], "Succeeded")
    assert newest["options"]["rollback"] is True and "snapshot_id" not in newest
    status = stack.cli("status", "--json").json()
    assert {s["current"]["deployment_id"] for s in status["services"]} == {rollback["name"]}
    history = stack.cli("history", "--limit", "1")
    assert f"Succeeded │ v1.0.0 (rollback) │ {world.digests['v1.0.0'][:19]}" in history.stdout


def test_rollback_refuses_what_it_cannot_roll_back_to(make_stack: StackFactory) -> None:
    stack = make_stack()
    nothing_yet = stack.cli("rollback", "--to", "previous")
    assert stack.run({"image_tag": "v1.1.0"}, name="deploy-v1-1-0").succeeded
    assert not stack.run({"image_tag": "v9.9.9"}, name="deploy-unknown").succeeded
    executions = len(stack.executions())

    unknown = stack.cli("rollback", "--to", "deploy-v0")
    failed = stack.cli("rollback", "--to", "deploy-unknown")
    current = stack.cli("rollback", "--to", "deploy-v1-1-0")

    for result in (nothing_yet, unknown, failed, current):
        assert result.code == 2, result.stdout + result.stderr
    assert "no earlier successful deployment of another image is recorded" in nothing_yet.stderr
    assert "no deployment 'deploy-v0' is recorded for this stack's cluster" in unknown.stderr
    assert "deployment deploy-unknown ended Failed: roll back to one that succeeded" in failed.stderr
    assert f"the services already run {stack.world.digests['v1.1.0']} (deployment deploy-v1-1-0)" in current.stderr
    assert len(stack.executions()) == executions


def quick_migration(task_definition: dict[str, Any], overrides: list[dict[str, Any]], started_by: str) -> TaskOutcome:
    return TaskOutcome.exited(0, ["No pending migrations to apply."])


def test_rollback_to_previous_twice_says_it_moves_forward_before_starting(make_stack: StackFactory) -> None:
    stack = make_stack(task_runner=quick_migration, parameters={"VerifyTool": "none"})
    digests = stack.world.digests
    assert stack.run({"image_tag": "v1.0.0"}, name="deploy-v1-0-0").succeeded
    assert stack.run({"image_tag": "v1.1.0"}, name="deploy-v1-1-0").succeeded
    back = stack.cli("rollback", "--to", "previous", "--watch", "--json", "--interval", "0.2")
    assert back.code == 0, back.stdout + back.stderr
    first = back.json()

    preview = stack.cli("rollback", "--to", "previous", "--dry-run")
    time.sleep(1.1)  # execution names are unique to the second
    again = stack.cli("rollback", "--to", "previous", "--json")

    assert (first["target"]["deployment_id"], first["moves_forward"]) == ("deploy-v1-0-0", False)
    assert (first["status"], first["outcome"]) == ("SUCCEEDED", "Succeeded")
    assert first["current"] == {"web": "deploy-v1-1-0", "worker": "deploy-v1-1-0"}
    rolled_back = first["execution"]["name"]
    assert preview.code == 0, preview.stdout + preview.stderr
    lines = preview.stdout.splitlines()
    assert lines[0] == (
        f"Moving web, worker FORWARD again to deployment deploy-v1-1-0: v1.1.0 {digests['v1.1.0'][:19]}"
    )
    assert lines[1] == f"  digest     {digests['v1.1.0']}"
    assert re.fullmatch(r"  deployed   \S+ \S+ UTC, deployment deploy-v1-1-0", lines[2])
    assert re.fullmatch(
        rf"  running    v1\.0\.0 {digests['v1.0.0'][:19]} on web, worker since \S+ \S+ UTC, "
        rf"deployment {rolled_back} \(a rollback\)",
        lines[3],
    )
    assert re.fullmatch(
        r"This moves forward, not back: v1\.1\.0 was deployed \(\S+ \S+ UTC, deployment deploy-v1-1-0\) after "
        r"v1\.0\.0 \(\S+ \S+ UTC, deployment deploy-v1-0-0\), which runs now because of a rollback; "
        r"`--to previous` after a rollback undoes it\. To go further back, give `--to DEPLOYMENT_ID` \(see `history`\)\.",
        lines[4],
    )
    assert lines[6].startswith("Started rollback-v1-1-0-")
    assert again.code == 0, again.stdout + again.stderr
    data = again.json()
    assert (data["target"]["deployment_id"], data["target"]["image_digest"]) == ("deploy-v1-1-0", digests["v1.1.0"])
    assert data["moves_forward"] is True
    assert data["current"] == {"web": rolled_back, "worker": rolled_back}
    assert data["execution"]["input"] == {
        "image_digest": digests["v1.1.0"],
        "options": {"rollback": True},
        "started_by": CALLER,
    }
    assert "status" not in data  # not watched
    for execution in stack.executions():  # the dry run and this one, to their end before the next test
        stack.emulator.wait(execution["executionArn"], timeout=60)
