"""`rollback`: a recorded image deployed again through the same state machine, the database untouched."""

from __future__ import annotations

import json

from tests.operator.conftest import OPERATOR_MARKS, StackFactory

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
    assert f"Rolling back web, worker to deployment deploy-v1-0-0: v1.0.0 {world.digests['v1.0.0'][:19]}" in out
    assert "The database is not touched: no snapshot, no migration, no verification." in out
    rollback = next(e for e in stack.executions() if e["name"].startswith("rollback-"))
    assert json.loads(rollback["input"]) == {"image_digest": world.digests["v1.0.0"], "options": {"rollback": True}}
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
