"""`lock` and `pause`/`resume`: a service held by hand during an incident, the trigger rule switched
off and on, both shown in `status`; against the pipeline's own AcquireLock and lock writer."""

from __future__ import annotations

import re
import time
from typing import Any

from deploy_pipeline.aws.table import lock_key, try_acquire_locks

from ecs_migrate_deploy.emulation.seams.ecs_tasks import TaskOutcome
from tests.support.operator_stack import OPERATOR_MARKS, StackFactory

pytestmark = OPERATOR_MARKS

CALLER = "arn:aws:sts::123456789012:user/moto"  # moto's GetCallerIdentity


def quick_migration(task_definition: dict[str, Any], overrides: list[dict[str, Any]], started_by: str) -> TaskOutcome:
    return TaskOutcome.exited(0, ["No pending migrations to apply."])


def test_a_manual_lock_holds_deployments_until_it_is_released(make_stack: StackFactory) -> None:
    stack = make_stack(task_runner=quick_migration, parameters={"VerifyTool": "none", "OnLockHeld": "fail"})
    world = stack.world
    before = stack.images()

    acquired = stack.cli("lock", "acquire", "--service", "web", "--reason", "INC-42 db failover", "--json")
    again = stack.cli("lock", "acquire", "--service", "web", "--reason", "INC-42 db failover, still", "--for", "2h")
    status = stack.cli("status", "--json")
    table = stack.cli("status")
    listed = stack.cli("lock", "status")
    pushed = stack.emulator.deliver(world.ecr_push_event("v1.1.0"))
    assert pushed is not None
    report = stack.emulator.wait(pushed, timeout=60)

    assert acquired.code == 0, acquired.stderr
    lock = acquired.json()["lock"]
    assert (lock["execution"], lock["holder"], lock["manual"]) == (f"manual:{CALLER}", CALLER, True)
    assert lock["reason"] == "INC-42 db failover"
    assert abs(lock["expires_at"] - (time.time() + 24 * 3600)) < 60  # the default --for
    # taking it again renews it (same holder): reason and expiry
    assert again.code == 0, again.stderr
    assert re.fullmatch(
        rf"web  locked by {CALLER} until \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d UTC: INC-42 db failover, still\n",
        again.stdout,
    )
    services = {s["service"]: s for s in status.json()["services"]}
    assert services["web"]["lock"]["reason"] == "INC-42 db failover, still"
    assert services["web"]["lock"]["holder"] == CALLER
    assert services["worker"]["lock"] is None
    web_row = next(line for line in table.stdout.splitlines() if line.startswith("web"))
    assert f"locked by {CALLER} until " in web_row and web_row.endswith("UTC: INC-42 db failover, still"), web_row
    assert listed.stdout.splitlines()[1] == "worker  free"
    # the push: AcquireLock sees someone else's lock and, with OnLockHeld=fail, fails naming the holder
    assert report.status == "FAILED"
    assert report.error == "DeploymentInProgress"
    assert f"deployments are held by {CALLER} (reason: INC-42 db failover, still)" in (report.cause or "")
    assert stack.images() == before

    released = stack.cli("lock", "release", "--service", "web")
    twice = stack.cli("lock", "release", "--service", "web", "--json")
    deployed = stack.cli("start", "--tag", "v1.1.0", "--watch", "--interval", "0.2")

    assert released.code == 0, released.stderr
    assert released.stdout.startswith(f"Released web, which was locked by {CALLER} until ")
    assert (twice.code, twice.json()) == (0, {"service": "web", "released": None})
    assert deployed.code == 0, deployed.stdout + deployed.stderr
    assert set(stack.images().values()) == {f"{world.repository_uri}@{world.digests['v1.1.0']}"}


def test_an_execution_s_lock_is_neither_released_nor_taken_by_hand(make_stack: StackFactory) -> None:
    stack = make_stack(task_runner=quick_migration, parameters={"VerifyTool": "none"})
    world = stack.world
    now = int(time.time())
    digest = world.digests["v1.1.0"]
    key = lock_key(world.cluster_name, "web")
    assert try_acquire_locks(world.table_name, [key], "manual-v1-1-0-20260101000000", digest, now, 3600)

    released = stack.cli("lock", "release", "--service", "web")
    acquired = stack.cli("lock", "acquire", "--service", "web", "--reason", "incident")
    listed = stack.cli("lock", "status", "--service", "web", "--json")
    unknown = stack.cli("lock", "acquire", "--service", "api", "--reason", "incident")
    bad_duration = stack.cli("lock", "acquire", "--service", "worker", "--reason", "incident", "--for", "forever")

    assert released.code == 1
    assert released.stderr.startswith(
        f"error: web is locked by execution manual-v1-1-0-20260101000000 (deploying {digest}, its lock expires "
    )
    assert "`lock release` removes only manual locks" in released.stderr
    assert acquired.code == 1
    assert acquired.stderr.startswith("error: web is locked by execution manual-v1-1-0-20260101000000")
    (row,) = listed.json()["locks"]
    assert (row["service"], row["lock"]["execution"], row["lock"]["manual"]) == (
        "web",
        "manual-v1-1-0-20260101000000",
        False,
    )
    assert (unknown.code, unknown.stderr) == (2, "error: stack 'emd-operator-test' deploys web, worker, not 'api'\n")
    assert bad_duration.code == 2
    assert bad_duration.stderr.startswith("error: --for is a number and a unit")
    # the execution's lock is untouched
    item = stack.client("dynamodb").get_item(TableName=world.table_name, Key={"pk": {"S": key}, "sk": {"S": "LOCK"}})
    assert item["Item"]["execution"]["S"] == "manual-v1-1-0-20260101000000"


def test_pause_disables_the_trigger_rule_and_resume_enables_it(make_stack: StackFactory) -> None:
    stack = make_stack(task_runner=quick_migration, parameters={"VerifyTool": "none"})
    events = stack.client("events")
    rule = "emd-operator-test-DeployStateMachineEcrPush"

    def state() -> str:
        return str(events.describe_rule(Name=rule)["State"])

    paused = stack.cli("pause")
    paused_again = stack.cli("pause", "--json")
    rule_when_paused = state()
    status = stack.cli("status")
    status_json = stack.cli("status", "--json")
    resumed = stack.cli("resume")
    resumed_again = stack.cli("resume", "--json")

    assert (paused.code, paused.stdout) == (0, f"trigger: paused (rule {rule})\n"), paused.stderr
    assert paused_again.json() == {"trigger": "paused", "rule": rule, "changed": False}
    assert rule_when_paused == "DISABLED"
    assert "\ntrigger: paused (ECR pushes start no deployment until `resume`)\n" in status.stdout
    assert status_json.json()["trigger"] == "paused"
    assert (resumed.code, resumed.stdout) == (0, f"trigger: enabled (rule {rule})\n"), resumed.stderr
    assert resumed_again.json() == {"trigger": "enabled", "rule": rule, "changed": False}
    assert state() == "ENABLED"
    assert stack.cli("status", "--json").json()["trigger"] == "enabled"
    assert "trigger:" not in stack.cli("status").stdout  # the usual state adds no line
