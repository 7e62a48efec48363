"""`stop`: a running deployment stopped the safe way, by the pipeline itself.

The migration runs until ECS stops it, and the stack waits in real time (no skipped waits) with a
first migration wait of two minutes: the deployment can only end sooner if `stop` ends that wait,
which the history shows as the wait failing with DeploymentStopped. What must follow is checked in
the emulated account: the migration task stopped by the rollback, the services untouched, the lock
released, and a record and notification that say who stopped it and why.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from ecs_migrate_deploy.emulation.seams.ecs_tasks import TaskOutcome
from tests.support.operator_stack import CALLER, CI, OPERATOR_MARKS, OperatorStack, StackFactory

pytestmark = OPERATOR_MARKS

REASON = "INC-7: wrong image pushed"


class EndlessMigration:
    """A migration task that runs until ECS stops it (StopTask)."""

    def __init__(self) -> None:
        self.started = threading.Event()

    def __call__(
        self, task_definition: dict[str, Any], overrides: list[dict[str, Any]], started_by: str
    ) -> TaskOutcome:
        self.started.set()
        return TaskOutcome(exit_code=0, still_running=lambda: True)


def _waiting_in(stack: OperatorStack, arn: str, wait_state: str, timeout: float) -> None:
    """Until the execution waits in `wait_state` (AwaitEvent has registered its token)."""
    sfn = stack.client("stepfunctions")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        entered = [e for e in events if (e.get("stateEnteredEventDetails") or {}).get("name") == wait_state]
        if entered and any(e["type"] == "TaskSubmitted" and e["id"] > entered[-1]["id"] for e in events):
            return
        time.sleep(0.2)
    raise AssertionError(f"the execution never waited in {wait_state} within {timeout}s")


@pytest.fixture
def long_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """The migration's first wait lasts two minutes unless something ends it (the pipeline's own
    tuning knob, in this process where the moto server runs the Lambdas); the rollback's is short."""
    from deploy_pipeline.logic import polling

    monkeypatch.setitem(polling.FIRST_WAIT_SECONDS, "migration", 120)
    monkeypatch.setitem(polling.FIRST_WAIT_SECONDS, "rollback", 1)


def test_stop_during_the_migration_stops_its_task_releases_the_lock_and_records_who(
    make_stack: StackFactory, long_waits: None
) -> None:
    migration = EndlessMigration()
    stack = make_stack(task_runner=migration, skip_waits=False, parameters={"AllowSkipSnapshot": "true"})
    before = stack.images()
    arn = stack.emulator.start({"image_tag": "v1.1.0", "options": {"skip_snapshot": True}}, name="long-migration")
    assert migration.started.wait(timeout=60)
    _waiting_in(stack, arn, "WaitForMigration", timeout=60)

    result = stack.cli("stop", "long-migration", "--reason", REASON, "--interval", "0.5", env=CI, timeout=100)
    report = stack.emulator.wait(arn, timeout=60)

    assert result.code == 0, result.stdout + result.stderr
    assert f"Asked: long-migration stopped by {CALLER} at " in result.stdout
    assert f"(reason: {REASON})" in result.stdout
    assert report.status == "FAILED"
    # the wait was ended by the stop, not by its two-minute timeout
    failed_waits = [e for e in report.events if e["type"] == "TaskFailed"]
    assert any(e["taskFailedEventDetails"]["error"] == "DeploymentStopped" for e in failed_waits), failed_waits
    (record,) = stack.records()
    assert record["error"] == "DeploymentStopped"
    assert f"stopped by {CALLER}" in record["cause"] and REASON in record["cause"]
    assert "Services untouched" in record["cause"]
    assert "Migration: stopped before it exited" in record["cause"]
    assert " … WaitForMigration " in result.stdout and "ended by the stop request" in result.stdout
    # the rollback stopped the migration task, which ECS reports stopped by a user
    (seen,) = record["rollback"]["migration_tasks"]
    assert seen["stop_requested"] is True
    (task,) = stack.client("ecs").describe_tasks(cluster=stack.world.cluster_name, tasks=[seen["task_arn"]])["tasks"]
    assert task["lastStatus"] == "STOPPED"
    assert stack.images() == before
    locks = stack.cli("lock", "status", "--json").json()["locks"]
    assert [row["lock"] for row in locks] == [None, None]
    (notification,) = stack.world.notifications()
    assert f"stopped by {CALLER}" in notification["Message"] and REASON in notification["Message"]


def test_stop_of_a_deployment_waiting_for_the_lock_ends_it_at_once_holding_nothing(
    make_stack: StackFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Queued behind a manual hold, with a first lock wait of two minutes: `stop` ends the wait, and the
    try that follows obeys (AcquireLock obeys a stop when it did not get the lock)."""
    from deploy_pipeline.logic import polling

    monkeypatch.setitem(polling.FIRST_WAIT_SECONDS, "lock", 120)
    stack = make_stack(skip_waits=False)
    held = stack.cli("lock", "acquire", "--service", "web", "--reason", "INC-8: failover")
    assert held.code == 0, held.stdout + held.stderr
    arn = stack.emulator.start({"image_tag": "v1.1.0"}, name="queued")
    _waiting_in(stack, arn, "WaitForLock", timeout=60)

    began = time.monotonic()
    result = stack.cli("stop", "queued", "--reason", REASON, "--interval", "0.5", env=CI, timeout=100)
    report = stack.emulator.wait(arn, timeout=60)

    assert result.code == 0, result.stdout + result.stderr
    assert (report.status, report.error) == ("FAILED", "DeploymentStopped")
    assert time.monotonic() - began < 60  # not the two-minute wait
    names = report.state_names
    assert "StartSnapshot" not in names and names[names.index("RecordOutcome") - 1] == "AcquireLock", names
    ended = [e for e in report.events if e["type"] == "TaskFailed"]
    assert any(e["taskFailedEventDetails"]["error"] == "DeploymentStopped" for e in ended), ended  # the wait
    (record,) = stack.records()
    assert record["error"] == "DeploymentStopped" and REASON in record["cause"]
    assert stack.client("rds").describe_db_snapshots(SnapshotType="manual")["DBSnapshots"] == []
    # the hold is untouched: a stopped deployment releases only its own locks (it held none)
    locks = {row["service"]: row["lock"] for row in stack.cli("lock", "status", "--json").json()["locks"]}
    assert locks["worker"] is None and locks["web"] is not None


def test_stop_again_or_with_nothing_running_changes_nothing(make_stack: StackFactory) -> None:
    stack = make_stack()
    stack.run({"image_tag": "v1.1.0"}, name="finished")

    again = stack.cli("stop", "finished", "--reason", REASON, env=CI)
    latest = stack.cli("stop", "--latest", "--reason", REASON, "--json", env=CI)
    no_reason = stack.cli("stop", "finished", env=CI)

    assert again.code == 0, again.stderr
    assert again.stdout == "Nothing to stop: finished has already ended (SUCCEEDED); `history` shows its record\n"
    assert latest.code == 0, latest.stderr
    assert latest.json() == {"execution": None, "stop": None}
    assert no_reason.code == 2
    assert no_reason.stderr.startswith("error: --reason is required")
    assert [r["outcome"] for r in stack.records()] == ["Succeeded"]
