"""`status` and `history`: what Record wrote, read back through the stack's table, and what ECS runs, as
JSON, as tables in a wide terminal, and one block per record at 80 columns or in a pipe."""

from __future__ import annotations

import re
import threading
from typing import Any

from ecs_migrate_deploy.emulation.seams.ecs_tasks import TaskOutcome
from tests.support.operator_stack import OPERATOR_MARKS, OperatorStack, StackFactory

pytestmark = OPERATOR_MARKS
ALICE = "arn:aws:iam::123456789012:user/alice"


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
        ("d1-v1-0-0", {"image_tag": "v1.0.0", "started_by": ALICE}),
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
    text = re.sub(r"(?<=hh:mm:ss \()(\d+h \d\dm|\d+m \d\ds|\d+s)(?=\))", "duration", text)
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
Outcome   ┃ Tag    ┃ Digest              ┃ Started (UTC)       ┃ Duration ┃ By                   ┃ Migrations ┃ Snapshot             ┃ Deployment
━━━━━━━━━━╇━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━
Failed    │ -      │ -                   │ 2000-01-01 00:00:00 │ 1s       │ -                    │ -          │ -                    │ d4-unknown
DryRun    │ v1.0.0 │ {digests["v1.0.0"][:19]} │ 2000-01-01 00:00:00 │ 1s       │ unnamed manual start │ -          │ -                    │ d3-dry-run
Succeeded │ v1.1.0 │ {digests["v1.1.0"][:19]} │ 2000-01-01 00:00:00 │ 1s       │ unnamed manual start │ 0          │ pre-deploy-d2-v1-1-0 │ d2-v1-1-0
Succeeded │ v1.0.0 │ {digests["v1.0.0"][:19]} │ 2000-01-01 00:00:00 │ 1s       │ user/alice           │ 0          │ pre-deploy-d1-v1-0-0 │ d1-v1-0-0
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
    for service in data["services"]:  # what ECS runs: d2's revisions (d1 registered :2), d2's image by digest
        assert service["ecs"]["task_definition"].endswith(f"task-definition/{service['service']}:3")
        assert service["ecs"]["image"] == d2["image_uri"]
        assert service["ecs"]["image_digest"] == d2["image_digest"]
        assert (service["ecs"]["running"], service["ecs"]["desired"], service["ecs"]["rolling_out"]) == (2, 2, False)
        assert service["drift"] == []
    image = f"acme/app@{d2['image_digest'][:19]}"
    assert _normalized(table.stdout) == _normalized(
        f"""\
emd-operator-test · cluster acme-prod
Service ┃ Task def ┃ Image                        ┃ Tasks ┃ Deployment ┃ Tag    ┃ Deployed (UTC)      ┃ Last attempt      ┃ Now
━━━━━━━━╇━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━
web     │ web:3    │ {image} │ 2/2   │ d2-v1-1-0  │ v1.1.0 │ 2000-01-01 00:00:00 │ DryRun d3-dry-run │ idle
worker  │ worker:3 │ {image} │ 2/2   │ d2-v1-1-0  │ v1.1.0 │ 2000-01-01 00:00:00 │ DryRun d3-dry-run │ idle

No execution is running.
"""
    )


def test_status_flags_a_service_changed_by_hand(make_stack: StackFactory) -> None:
    box: dict[str, str] = {}

    def the_hand_made_rollout_stays_in_progress(service: str, task_definition_arn: str) -> str:
        return "IN_PROGRESS" if task_definition_arn == box.get("hotfix") else "COMPLETED"

    stack = make_stack(
        task_runner=quick_migration,
        parameters={"VerifyTool": "none"},
        rollout_policy=the_hand_made_rollout_stays_in_progress,
    )
    seed(stack)
    ecs = stack.client("ecs")
    # `aws ecs register-task-definition` + `update-service`, by hand: another image, by tag
    current = ecs.describe_task_definition(taskDefinition="web")["taskDefinition"]
    hotfix = f"{stack.world.repository_uri}:hotfix-by-hand"
    box["hotfix"] = ecs.register_task_definition(
        family="web",
        containerDefinitions=[{**current["containerDefinitions"][0], "image": hotfix}],
        networkMode=current["networkMode"],
        requiresCompatibilities=current["requiresCompatibilities"],
        cpu=current["cpu"],
        memory=current["memory"],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster=stack.world.cluster_name, service="web", taskDefinition=box["hotfix"])

    result = stack.cli("status", "--json")
    table = stack.cli("status")

    assert result.code == table.code == 0, result.stderr + table.stderr
    web, worker = result.json()["services"]
    assert web["current"]["deployment_id"] == "d2-v1-1-0"  # what was recorded has not changed
    assert web["ecs"]["task_definition"] == box["hotfix"] and box["hotfix"].endswith("/web:4")
    assert (web["ecs"]["image"], web["ecs"]["image_digest"]) == (hotfix, None)
    assert web["ecs"]["rolling_out"] is True
    assert [(d["status"], d["rollout_state"], d["running"], d["desired"]) for d in web["ecs"]["deployments"]] == [
        ("PRIMARY", "IN_PROGRESS", 0, 2),
        ("ACTIVE", "COMPLETED", 2, 2),
    ]
    assert web["drift"] == [
        "ECS runs task definition web:4, not web:3 that deployment d2-v1-1-0 registered",
        f"ECS runs acme/app:hotfix-by-hand, not acme/app@{web['current']['image_digest'][:19]} "
        "that deployment d2-v1-1-0 deployed",
    ]
    assert worker["drift"] == [] and worker["ecs"]["rolling_out"] is False
    lines = table.stdout.splitlines()
    assert re.search(
        r"^web .* web:4 +│ acme/app:hotfix-by-hand +│ 2/2 .* ECS rolling out web:4 0/2 running \(IN_PROGRESS\), "
        r"web:3 2/2 running \(COMPLETED\)$",
        lines[3],
    ), lines[3]
    assert lines[5:7] == [f"Drift web: {line}" for line in web["drift"]]


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
    for service in data["services"]:  # what ECS runs all the same: the world's first revision, by tag
        assert service["ecs"]["image"] == f"{stack.world.repository_uri}:v1.0.0"
        assert service["drift"] == []
    lines = table.stdout.splitlines()
    assert re.search(
        r"^web +│ web:1 +│ acme/app:v1.0.0 +│ 2/2 .* never deployed by this stack │ - .* deploying sha256:\w{12} "
        r"\(in-flight\)$",
        lines[3],
    ), lines[3]
    assert re.search(r"^Running in-flight since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$", lines[-1])
    assert report.status == "SUCCEEDED"
    assert [s["lock"] for s in after.json()["services"]] == [None, None]
    assert [s["current"]["deployment_id"] for s in after.json()["services"]] == ["in-flight", "in-flight"]


NARROW = {"COLUMNS": "80"}
PIPE_DEFAULT = {"COLUMNS": ""}  # no width given: rich's 80 for output that is not a terminal


def test_history_and_status_at_80_columns_keep_every_field_one_record_per_block(make_stack: StackFactory) -> None:
    stack = seeded_stack(make_stack)
    digests = stack.world.digests

    history = stack.cli("history", env=NARROW)
    status = stack.cli("status", env=NARROW)
    piped = [stack.cli("history", env=PIPE_DEFAULT), stack.cli("status", env=PIPE_DEFAULT)]

    assert history.code == status.code == 0, history.stderr + status.stderr
    assert [piped[0].stdout, piped[1].stdout] == [history.stdout, status.stdout]
    for text in (history.stdout, status.stdout):
        assert all(len(line) <= 80 for line in text.splitlines()), text
    assert _normalized(history.stdout) == _normalized(
        f"""\
emd-operator-test · cluster acme-prod · last 4 (times UTC)
Failed     d4-unknown
  no image resolved, started YYYY-MM-DD hh:mm:ss (1s)
DryRun     d3-dry-run
  v1.0.0 {digests["v1.0.0"][:19]}, started YYYY-MM-DD hh:mm:ss (1s)
  by unnamed manual start
Succeeded  d2-v1-1-0
  v1.1.0 {digests["v1.1.0"][:19]}, started YYYY-MM-DD hh:mm:ss (1s)
  by unnamed manual start; migrations applied: 0
  snapshot pre-deploy-d2-v1-1-0
Succeeded  d1-v1-0-0
  v1.0.0 {digests["v1.0.0"][:19]}, started YYYY-MM-DD hh:mm:ss (1s)
  by user/alice; migrations applied: 0
  snapshot pre-deploy-d1-v1-0-0
"""
    )
    image = f"acme/app@{digests['v1.1.0'][:19]}"
    assert _normalized(status.stdout) == _normalized(
        f"""\
emd-operator-test · cluster acme-prod (times UTC)
web
  ECS runs    web:3 {image}, 2/2 running
  deployment  d2-v1-1-0
  deployed    v1.1.0 {digests["v1.1.0"][:19]}, YYYY-MM-DD hh:mm:ss
  last        DryRun d3-dry-run
  now         idle
worker
  ECS runs    worker:3 {image}, 2/2 running
  deployment  d2-v1-1-0
  deployed    v1.1.0 {digests["v1.1.0"][:19]}, YYYY-MM-DD hh:mm:ss
  last        DryRun d3-dry-run
  now         idle

No execution is running.
"""
    )


def test_history_in_an_80_column_terminal_is_the_same_blocks(make_stack: StackFactory) -> None:
    stack = seeded_stack(make_stack)

    in_terminal = stack.in_terminal("history", columns=80)
    piped = stack.cli("history", env=NARROW)

    assert in_terminal.code == 0, in_terminal.stdout
    assert "\x1b[" in in_terminal.stdout  # a terminal: rich colours the outcomes
    shown = _plain(in_terminal.stdout)
    assert shown == piped.stdout
    assert "…" not in shown
    for deployment_id in ("d1-v1-0-0", "d2-v1-1-0", "d3-dry-run", "d4-unknown"):
        assert re.search(rf"^\w+ +{deployment_id}$", shown, re.MULTILINE), shown


def test_an_empty_history_says_so(make_stack: StackFactory) -> None:
    stack = make_stack(task_runner=quick_migration, parameters={"VerifyTool": "none"})

    text = stack.cli("history")
    web = stack.cli("history", "--service", "web")
    as_json = stack.cli("history", "--json")

    assert text.code == web.code == as_json.code == 0, text.stderr
    assert text.stdout == "No deployment of cluster acme-prod is recorded in stack emd-operator-test yet.\n"
    assert web.stdout == "No deployment of service web is recorded in stack emd-operator-test yet.\n"
    assert as_json.json() == []


def _plain(terminal_output: str) -> str:
    """What a terminal shows, as text: no escape sequences, the terminal's CR LF as LF."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal_output).replace("\r\n", "\n")
