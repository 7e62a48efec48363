"""`status` and `history`: what Record wrote, read back through the stack's table, as JSON and as tables."""

from __future__ import annotations

import re
import threading
from typing import Any

from ecs_migrate_deploy.emulation.moto_seams import TaskOutcome
from tests.operator.conftest import OPERATOR_MARKS, OperatorStack, StackFactory

pytestmark = OPERATOR_MARKS


def quick_migration(task_definition: dict[str, Any], overrides: list[dict[str, Any]], started_by: str) -> TaskOutcome:
    return TaskOutcome.exited(0, ["No pending migrations to apply."])


def seeded_stack(make_stack: StackFactory) -> OperatorStack:
    """Records are what these tests read, not migrations: a task that exits 0 at once, no tool table to verify."""
    stack = make_stack(task_runner=quick_migration, parameters={"VerifyTool": "none"})
    seed(stack)
    return stack


def seed(stack: OperatorStack) -> list[str]:
    """Four deployments, oldest first: v1.0.0 and v1.1.0 succeed, a dry run of v1.0.0, an unknown tag fails."""
    inputs = [
        ("d1-v1-0-0", {"image_tag": "v1.0.0"}),
        ("d2-v1-1-0", {"image_tag": "v1.1.0"}),
        ("d3-dry-run", {"image_tag": "v1.0.0", "options": {"dry_run": True}}),
        ("d4-unknown", {"image_tag": "v9.9.9"}),
    ]
    for name, execution_input in inputs:
        stack.run(execution_input, name=name)
    return [name for name, _ in inputs]


def _normalized(text: str) -> str:
    """The rendered table with the moments and durations (which vary run to run) masked, widths kept."""
    text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "YYYY-MM-DD hh:mm:ss", text)
    text = re.sub(r"(?<=│ )(\d+h \d\dm|\d+m \d\ds|\d+s) *(?= │)", "duration", text)
    return "\n".join(line.rstrip() for line in text.splitlines())


def test_history_lists_the_records_newest_first(make_stack: StackFactory) -> None:
    stack = seeded_stack(make_stack)
    records = stack.records()
    digests = stack.world.digests

    everything = stack.cli("history", "--json")
    web = stack.cli("history", "--json", "--service", "web")
    two = stack.cli("history", "--json", "--limit", "2")
    table = stack.cli("history")

    assert everything.code == web.code == two.code == table.code == 0, everything.stderr + table.stderr
    rows = everything.json()
    assert [(r["deployment_id"], r["outcome"], r["image_tag"], r["image_digest"]) for r in rows] == [
        ("d4-unknown", "Failed", None, None),
        ("d3-dry-run", "DryRun", "v1.0.0", digests["v1.0.0"]),
        ("d2-v1-1-0", "Succeeded", "v1.1.0", digests["v1.1.0"]),
        ("d1-v1-0-0", "Succeeded", "v1.0.0", digests["v1.0.0"]),
    ]
    for row, record in zip(rows, records, strict=True):
        assert row["deployment_id"] == record["deployment_id"]
        assert row["started_at"] == record["started_at"]
        assert row["duration_seconds"] == record["duration_seconds"]
        assert row["snapshot_id"] == record.get("snapshot_id")
        assert row["execution_arn"] == record["execution_arn"]
    assert rows[1]["snapshot_id"] is None and rows[2]["snapshot_id"] == "pre-deploy-d2-v1-1-0"
    assert [r["deployment_id"] for r in web.json()] == ["d3-dry-run", "d2-v1-1-0", "d1-v1-0-0"]
    assert [r["deployment_id"] for r in two.json()] == ["d4-unknown", "d3-dry-run"]

    assert _normalized(table.stdout) == _normalized(
        f"""\
emd-operator-test · cluster acme-prod · last 4
Outcome   ┃ Tag    ┃ Digest              ┃ Started (UTC)       ┃ Duration ┃ Snapshot             ┃ Deployment
━━━━━━━━━━╇━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━
Failed    │ -      │ -                   │ 2000-01-01 00:00:00 │ 1s       │ -                    │ d4-unknown
DryRun    │ v1.0.0 │ {digests["v1.0.0"][:19]} │ 2000-01-01 00:00:00 │ 1s       │ -                    │ d3-dry-run
Succeeded │ v1.1.0 │ {digests["v1.1.0"][:19]} │ 2000-01-01 00:00:00 │ 1s       │ pre-deploy-d2-v1-1-0 │ d2-v1-1-0
Succeeded │ v1.0.0 │ {digests["v1.0.0"][:19]} │ 2000-01-01 00:00:00 │ 1s       │ pre-deploy-d1-v1-0-0 │ d1-v1-0-0
"""
    )


def test_status_shows_what_each_service_runs(make_stack: StackFactory) -> None:
    stack = seeded_stack(make_stack)
    d2 = next(r for r in stack.records() if r["deployment_id"] == "d2-v1-1-0")

    result = stack.cli("status", "--json")
    only_web = stack.cli("status", "--json", "--service", "web")
    unknown = stack.cli("status", "--service", "billing")
    table = stack.cli("status")

    assert result.code == only_web.code == table.code == 0, result.stderr + table.stderr
    data = result.json()
    assert [s["service"] for s in data["services"]] == ["web", "worker"]
    for service in data["services"]:
        assert service["lock"] is None
        current, last = service["current"], service["last"]
        assert (current["deployment_id"], current["outcome"]) == ("d2-v1-1-0", "Succeeded")
        assert current["image_digest"] == stack.world.digests["v1.1.0"] == d2["image_digest"]
        assert current["finished_at"] == d2["finished_at"]
        assert (last["deployment_id"], last["outcome"]) == ("d3-dry-run", "DryRun")
    assert data["running"] == []
    assert [s["service"] for s in only_web.json()["services"]] == ["web"]
    assert unknown.code == 2 and "deploys web, worker, not 'billing'" in unknown.stderr
    assert _normalized(table.stdout) == _normalized(
        f"""\
emd-operator-test · cluster acme-prod
Service ┃ Tag    ┃ Digest              ┃ Deployed (UTC)      ┃ Deployment ┃ Last attempt      ┃ Now
━━━━━━━━╇━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━
web     │ v1.1.0 │ {d2["image_digest"][:19]} │ 2000-01-01 00:00:00 │ d2-v1-1-0  │ DryRun d3-dry-run │ idle
worker  │ v1.1.0 │ {d2["image_digest"][:19]} │ 2000-01-01 00:00:00 │ d2-v1-1-0  │ DryRun d3-dry-run │ idle

No execution is running.
"""
    )


class HeldMigration:
    """A migration task that keeps running until the test lets it finish."""

    def __init__(self) -> None:
        self.running = threading.Event()
        self.finish = threading.Event()

    def __call__(
        self, task_definition: dict[str, Any], overrides: list[dict[str, Any]], started_by: str
    ) -> TaskOutcome:
        self.running.set()
        if not self.finish.wait(timeout=20):
            return TaskOutcome.exited(1, ["the test never let the migration finish"])
        return TaskOutcome.exited(0, ["migrated"])


def test_status_shows_a_deployment_under_way(make_stack: StackFactory) -> None:
    migration = HeldMigration()
    stack = make_stack(task_runner=migration, parameters={"VerifyTool": "none"})
    arn = stack.emulator.start({"image_tag": "v1.1.0"}, name="in-flight")
    try:
        assert migration.running.wait(timeout=20)
        result = stack.cli("status", "--json")
        table = stack.cli("status")
    finally:
        migration.finish.set()
    report = stack.emulator.wait(arn, timeout=60)
    after = stack.cli("status", "--json")

    assert result.code == 0, result.stderr
    data = result.json()
    for service in data["services"]:
        assert service["current"] is None and service["last"] is None
        assert service["lock"]["execution"] == "in-flight"
        assert service["lock"]["digest"] == stack.world.digests["v1.1.0"]
    assert [r["name"] for r in data["running"]] == ["in-flight"]
    assert [r["arn"] for r in data["running"]] == [arn]
    lines = table.stdout.splitlines()
    assert re.search(r"^web .* never deployed by this stack │ - +│ deploying sha256:\w{12} \(in-flight\)$", lines[3])
    assert re.search(r"^Running in-flight since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$", lines[-1])
    assert report.status == "SUCCEEDED"
    assert [s["lock"] for s in after.json()["services"]] == [None, None]
    assert [s["current"]["deployment_id"] for s in after.json()["services"]] == ["in-flight", "in-flight"]
