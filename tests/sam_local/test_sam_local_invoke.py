"""Every function of template.yaml through `sam local invoke -e events/<file>.json`, in a container.

The invocations run against one world in the pipeline's order, so each event is meaningful: what an
invocation does is what a later one finds (the snapshot StartSnapshot made, the task the migration ran in,
the revisions the rollout set, the locks AcquireLock took). Two run at a time (`WAVES`: two functions whose
effects neither the other nor its check touches; measured, 2 at a time take ~60% of the time of one after
the other on 2 cores), each test then checks its function: the exit code, the output parsed by the result
model of its handler (the return annotation of the function `@pipeline_handler` wraps), and the side effect
it must have, read from the moto server or the database. One seeding step makes the world match the
captured events where AWS chooses an id: the migration task takes the id events/check-migration.json names.
A step after a failed wave fails at once (its world is not there), without invoking anything.
"""

from __future__ import annotations

import importlib
import json
import time
import typing
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from ecs_migrate_deploy.emulation.engine import Emulator
from ecs_migrate_deploy.template import load_template
from tests.sam_local.harness import TIMINGS, Invocation, SamLocal
from tests.sam_local.host import DockerDaemon, bridge_networks
from tests.support.postgres import ScratchDatabase

pytestmark = [pytest.mark.xdist_group("sam-local"), pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENT = "sample-deployment"  # the execution events/ were captured from
SNAPSHOT = f"pre-deploy-{DEPLOYMENT}"
LOCKS = ["LOCK#acme-prod/web", "LOCK#acme-prod/worker"]
NEWEST_MIGRATION = "20250310083000_order_status"  # examples/shop's last, named by the image's labels
FUNCTIONS = {
    name: resource["Properties"]["Handler"]
    for name, resource in load_template(ROOT / "template.yaml")["Resources"].items()
    if resource["Type"] == "AWS::Serverless::Function"
}
# (function, event file), two at a time, in the pipeline's order: a deployment that migrates, then is
# rolled back (the story events/ tell: record-outcome.json is a RolledBack outcome), with the snapshot's event-driven
# wait. Within a wave neither function changes what the other's check reads.
WAVES = [
    (("ResolveFunction", "resolve.json"), ("StartSnapshotFunction", "start-snapshot.json")),
    (("AcquireLockFunction", "acquire-lock.json"), ("CaptureBaselineFunction", "capture-baseline.json")),
    (("AwaitEventFunction", "await-event.json"), ("CheckSnapshotFunction", "check-snapshot.json")),
    (("NoticeFunction", "notice.json"), ("StartMigrationFunction", "start-migration.json")),
    (("CheckMigrationFunction", "check-migration.json"), ("StartRolloutFunction", "start-rollout.json")),
    (("VerifyFunction", "verify.json"), ("CheckRolloutFunction", "check-rollout.json")),
    (("StartRollbackFunction", "start-rollback.json"), ("RecordOutcomeFunction", "record-outcome.json")),
    (("CheckRollbackFunction", "check-rollback.json"), ("ReleaseLockFunction", "release-lock.json")),
]
ORDER = [step for wave in WAVES for step in wave]


@dataclass
class Steps:
    """What the module's steps have done so far: each runs in the world the ones before it left."""

    failed: list[str] = field(default_factory=list)  # steps that failed: the waves after them have no world
    invoked: dict[str, Invocation] = field(default_factory=dict)  # function -> its invocation, once its wave ran
    results: dict[str, Any] = field(default_factory=dict)  # function -> its parsed result, for later steps


@pytest.fixture(scope="module")
def steps() -> Steps:
    return Steps()


def result_model(function: str) -> type[BaseModel]:
    """What the function's handler returns: `@pipeline_handler` wraps `fn(state) -> ResultModel`."""
    module, name = FUNCTIONS[function].rsplit(".", 1)
    handler = getattr(importlib.import_module(module), name)
    model: type[BaseModel] = typing.get_type_hints(handler.__wrapped__)["return"]
    return model


def event(name: str) -> Any:
    return json.loads((ROOT / "events" / name).read_text())


def item(emulator: Emulator, pk: str, sk: str) -> dict[str, Any] | None:
    table = emulator.world.table_name
    found: dict[str, Any] | None = (
        emulator.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}).get("Item")
    )
    return found


def table_keys(emulator: Emulator) -> set[str]:
    items = emulator.client("dynamodb").scan(TableName=emulator.world.table_name)["Items"]
    return {f"{i['pk']['S']}/{i['sk']['S']}" for i in items}


def task_definitions(emulator: Emulator) -> dict[str, str]:
    world = emulator.world
    services = emulator.client("ecs").describe_services(cluster=world.cluster_name, services=list(world.spec.services))
    return {s["serviceName"]: s["taskDefinition"].rsplit("/", 1)[-1] for s in services["services"]}


def applied_migrations(database: ScratchDatabase) -> list[str]:
    connection = database.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY 1")
            return [row[0] for row in cursor.fetchall()]
    finally:
        connection.close()


# ---- what each invocation must have done --------------------------------------------------------


def resolved(result: Any, emulator: Emulator, database: ScratchDatabase) -> None:
    """The plan names the pushed image by digest and the services' current revisions; nothing is touched.
    The image's labels are unreadable: their S3 download URL is refused on this machine (the container's
    HTTP(S) goes to a closed 127.0.0.1 port; tests/sam_local/sam_cli.py), and the plan says so."""
    world = emulator.world
    assert result.plan.image.digest == world.digests["v1.1.0"]
    assert {s.name: s.task_definition_arn for s in result.plan.services} == world.task_definition_arns
    assert "Connection refused" in (result.plan.expectation.reason or "")
    assert table_keys(emulator) == set()


def locked(result: Any, emulator: Emulator, database: ScratchDatabase) -> None:
    """Both services' locks, held by the execution, for the digest."""
    assert result.acquired and not result.noop
    assert result.keys == LOCKS
    for key in LOCKS:
        lock = item(emulator, key, "LOCK")
        assert lock is not None, f"no {key} item"
        assert lock["execution"]["S"] == DEPLOYMENT
        assert lock["digest"]["S"] == emulator.world.digests["v1.1.0"]


def snapshot_started(result: Any, emulator: Emulator, database: ScratchDatabase) -> None:
    """The pre-deploy snapshot of acme-db, tagged with the deployment."""
    assert result.snapshot_id == SNAPSHOT
    snapshots = emulator.client("rds").describe_db_snapshots(DBSnapshotIdentifier=SNAPSHOT)["DBSnapshots"]
    assert [s["DBInstanceIdentifier"] for s in snapshots] == ["acme-db"]
    tags = emulator.client("rds").list_tags_for_resource(ResourceName=snapshots[0]["DBSnapshotArn"])["TagList"]
    assert DEPLOYMENT in {t["Value"] for t in tags}


def wait_registered(result: Any, emulator: Emulator, database: ScratchDatabase) -> None:
    """The wait's task token, stored under the snapshot it waits for."""
    assert result.resources == [SNAPSHOT]
    wake = item(emulator, f"WAKE#{SNAPSHOT}", "WAKE")
    assert wake is not None and wake["token"]["S"] == event("await-event.json")["token"]


def noticed(result: Any, emulator: Emulator, database: ScratchDatabase) -> None:
    """The snapshot's event found the token AwaitEvent stored; Step Functions refused it (the sample's
    execution does not run here), so the function leaves its mark for the next wait to find."""
    assert result.resource == SNAPSHOT and result.woken is False
    wake = item(emulator, f"WAKE#{SNAPSHOT}", "WAKE")
    assert wake is not None and "seen_at" in wake


def snapshot_available(result: Any, emulator: Emulator, database: ScratchDatabase) -> None:
    assert result.done and result.status == "available"


def baseline_captured(result: Any, emulator: Emulator, database: ScratchDatabase) -> None:
    """The schema fingerprint of the scratch database (before the migration), stored for Verify."""
    assert result.fingerprint_key == f"BASELINE#{DEPLOYMENT}"
    assert item(emulator, result.fingerprint_key, "FINGERPRINT") is not None


def migration_started(result: Any, emulator: Emulator, database: ScratchDatabase) -> None:
    """A task of the new revision of web's task definition, which really migrated the scratch database."""
    assert result.task_definition_arn.endswith(":task-definition/web:2")
    tasks = emulator.client("ecs").describe_tasks(cluster=emulator.world.cluster_name, tasks=[result.task_arn])
    assert [t["taskDefinitionArn"] for t in tasks["tasks"]] == [result.task_definition_arn]
    assert NEWEST_MIGRATION in applied_migrations(database)


def migration_finished(result: Any, emulator: Emulator, database: ScratchDatabase) -> None:
    """The captured task (the one StartMigration started, under its captured id) stopped with exit 0."""
    assert result.done and result.last_status == "STOPPED" and result.exit_code == 0
    assert result.log_tail, "the migration's log lines"


def verified(result: Any, emulator: Emulator, database: ScratchDatabase) -> None:
    assert result.passed, result.checks
    assert result.tool == "prisma" and result.latest_applied == NEWEST_MIGRATION


def rollout_started(result: Any, emulator: Emulator, database: ScratchDatabase) -> None:
    """Both services updated to the new revisions."""
    assert {s.name: s.task_definition_arn.rsplit("/", 1)[-1] for s in result.services} == {
        "web": "web:2",
        "worker": "worker:2",
    }
    assert task_definitions(emulator) == {"web": "web:2", "worker": "worker:2"}


def rollout_completed(result: Any, emulator: Emulator, database: ScratchDatabase) -> None:
    assert result.done and {s.rollout_state for s in result.services} == {"COMPLETED"}


def rollback_started(result: Any, emulator: Emulator, database: ScratchDatabase) -> None:
    """Both services back on the revisions the plan recorded."""
    assert {s.name for s in result.services} == {"web", "worker"}
    assert task_definitions(emulator) == {"web": "web:1", "worker": "worker:1"}


def rollback_completed(result: Any, emulator: Emulator, database: ScratchDatabase) -> None:
    assert result.done


def recorded(result: Any, emulator: Emulator, database: ScratchDatabase) -> None:
    """The deployment's record, its SNS message and its EventBridge event, all saying RolledBack."""
    assert result.deployment_id == DEPLOYMENT and result.outcome == "RolledBack"
    assert any(key.startswith("DEPLOYMENTS#acme-prod/") and key.endswith(DEPLOYMENT) for key in table_keys(emulator))
    notifications = emulator.world.notifications()
    assert [n["MessageAttributes"]["outcome"]["Value"] for n in notifications] == ["RolledBack"]
    assert [e["detail-type"] for e in emulator.world.outcome_events()] == ["Deployment RolledBack"]


def released(result: Any, emulator: Emulator, database: ScratchDatabase) -> None:
    assert result.keys == LOCKS and not result.acquired
    assert all(item(emulator, key, "LOCK") is None for key in LOCKS)


Check = Callable[[Any, Emulator, ScratchDatabase], None]
CHECKS: dict[str, Check] = {
    "ResolveFunction": resolved,
    "AcquireLockFunction": locked,
    "StartSnapshotFunction": snapshot_started,
    "AwaitEventFunction": wait_registered,
    "NoticeFunction": noticed,
    "CheckSnapshotFunction": snapshot_available,
    "CaptureBaselineFunction": baseline_captured,
    "StartMigrationFunction": migration_started,
    "CheckMigrationFunction": migration_finished,
    "VerifyFunction": verified,
    "StartRolloutFunction": rollout_started,
    "CheckRolloutFunction": rollout_completed,
    "StartRollbackFunction": rollback_started,
    "CheckRollbackFunction": rollback_completed,
    "RecordOutcomeFunction": recorded,
    "ReleaseLockFunction": released,
}


def adopt_captured_task(emulator: Emulator, steps: Steps) -> None:
    """The migration task StartMigration started takes the id events/ captured (ECS task ids are random)."""
    captured = event("check-migration.json")["migration"]["task_arn"]
    started = steps.results["StartMigrationFunction"].task_arn
    world = emulator.world
    adopted = emulator.seams.tasks.adopt_id(world.account, world.region, started, captured.rsplit("/", 1)[-1])
    assert adopted == captured


SEEDS: dict[str, Callable[[Emulator, Steps], None]] = {"CheckMigrationFunction": adopt_captured_task}


def invocation(function: str, sam_local: SamLocal, emulator: Emulator, steps: Steps) -> Invocation:
    """The function's invocation: its wave's two `sam local invoke`s run together the first time it is asked."""
    if function not in steps.invoked:
        wave = next(wave for wave in WAVES if function in dict(wave))
        for name, _ in wave:
            if name in SEEDS:
                SEEDS[name](emulator, steps)
        started = time.perf_counter()
        with ThreadPoolExecutor(len(wave)) as pool:
            done = list(pool.map(lambda step: sam_local.invoke(*step), wave))
        steps.invoked.update((each.function, each) for each in done)
        TIMINGS.add(" | ".join(f"{each.function} {each.seconds:.1f} s" for each in done), time.perf_counter() - started)
    return steps.invoked[function]


def test_every_function_is_invoked_once_and_checked() -> None:
    assert sorted(function for function, _ in ORDER) == sorted(FUNCTIONS)
    assert set(CHECKS) == set(FUNCTIONS)


@pytest.mark.parametrize("function", [function for function, _ in ORDER])
def test_sam_local_invoke(
    function: str, sam_local: SamLocal, emulator: Emulator, database: ScratchDatabase, steps: Steps
) -> None:
    if steps.failed and function not in steps.invoked:
        pytest.fail(f"not invoked: {steps.failed[0]} failed, and its effects are this step's world", pytrace=False)
    try:
        result = parsed(invocation(function, sam_local, emulator, steps))
        steps.results[function] = result
        CHECKS[function](result, emulator, database)
    except BaseException:
        steps.failed.append(function)
        raise


def parsed(done: Invocation) -> BaseModel:
    """The invocation's output as its result model; a failure shows SAM's and the function's log."""
    assert done.exit_code == 0, f"sam local invoke exited {done.exit_code}:\n{done.log[-4000:]}"
    assert isinstance(done.output, dict) and "errorType" not in done.output, f"{done.output}\n{done.log[-4000:]}"
    return result_model(done.function).model_validate(done.output)


def test_no_bridge_network_was_created(docker_daemon: DockerDaemon) -> None:
    """The containers had the host's network only; a dockerd started here has no bridge at all."""
    assert bridge_networks() <= docker_daemon.bridges
    if docker_daemon.started is not None:
        assert docker_daemon.bridges == set()
