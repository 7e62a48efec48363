"""At-least-once: every Lambda may do its work and still fail, and the ASL then runs it again.

For each scenario (the success path and the failure paths), and each Task state the scenario visits,
the state's first invocation does its work and then fails as a timeout does (`Lambda.Unknown`, or the
Task's `States.Timeout`; see `LambdaRouter.lose_result`). The execution must end exactly as it does
without the fault: same outcome and error, one record, one notification, one event, and no second
migration task, snapshot or task-definition revision; the services end where they would have.

`test_the_declared_states_are_the_ones_visited` keeps each scenario's list of Task states true, so a
path that grows a state is covered by the matrix at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from moto.rds.exceptions import SnapshotQuotaExceededFault

from ecs_migrate_deploy.emulation.seams.documented_behaviour import DatabaseBackingUp
from ecs_migrate_deploy.emulation.seams.ecs_tasks import TaskOutcome
from tests.support.pipeline import Pipeline, PipelineFactory

PIPELINE = ["Resolve", "AcquireLock"]
SNAPSHOT = ["StartSnapshot", "CheckSnapshot"]
MIGRATION = ["CaptureBaseline", "StartMigration", "CheckMigration"]
ROLLOUT = ["StartRollout", "CheckRollout"]
ROLLBACK = ["StartRollback", "CheckRollback"]
END = ["RecordOutcome", "ReleaseLock"]


@dataclass(frozen=True)
class Scenario:
    migrations: str
    execution_input: dict[str, Any]
    outcome: str
    error: str | None
    states: list[str]
    snapshots: int
    migration_tasks: int
    new_revisions: int  # the migration's (the first service's), reused by its rollout, then the others'
    services_end_on_new_revision: bool
    pipeline_kwargs: Callable[[], dict[str, Any]] = field(default=lambda: {})
    prepare: Callable[[Pipeline], None] = field(default=lambda pipeline: None)
    new_revisions_end: str | None = None  # ECS ends the rollout of a new revision so; the original ones complete


def _initial_only(initial: Callable[[], Mapping[str, str]], state: str) -> Callable[[str, str], str]:
    """A rollout policy: the services' original revisions (`initial()`, known once the world is built)
    complete, any other ends in `state`."""

    def policy(service: str, task_definition_arn: str) -> str:
        return "COMPLETED" if task_definition_arn == initial()[service] else state

    return policy


def _quota(kind: str, snapshot_id: str) -> str:
    raise SnapshotQuotaExceededFault()


def _hold_lock(pipeline: Pipeline) -> None:
    from deploy_pipeline.logic.polling import now

    for service in pipeline.world.spec.services:
        pipeline.client("dynamodb").put_item(
            TableName=pipeline.world.table_name,
            Item={
                "pk": {"S": f"LOCK#{pipeline.world.cluster_name}/{service}"},
                "sk": {"S": "LOCK"},
                "execution": {"S": "someone-else"},
                "digest": {"S": "sha256:" + "0" * 64},
                "acquired_at": {"N": str(int(now().timestamp()))},
                "expires_at": {"N": str(int(now().timestamp()) + 3600)},
            },
        )


NEW = {"image_tag": "v1.1.0"}
SCENARIOS: dict[str, Scenario] = {
    "succeeds": Scenario(
        "shop", NEW, "Succeeded", None, PIPELINE + SNAPSHOT + MIGRATION + ["Verify"] + ROLLOUT + END, 1, 1, 2, True
    ),
    "dry-run": Scenario("shop", {**NEW, "options": {"dry_run": True}}, "DryRun", None, PIPELINE + END, 0, 0, 0, False),
    "invalid-input": Scenario(
        "shop", {"image_tag": "v9.9.9"}, "Failed", "ImageNotFound", ["Resolve", *END], 0, 0, 0, False
    ),
    "lock-held": Scenario(
        "shop",
        NEW,
        "Failed",
        "DeploymentInProgress",
        PIPELINE + END,
        0,
        0,
        0,
        False,
        pipeline_kwargs=lambda: {"parameters": {"OnLockHeld": "fail"}},
        prepare=_hold_lock,
    ),
    "snapshot-refused": Scenario(
        "shop",
        NEW,
        "Failed",
        "SnapshotFailed",
        [*PIPELINE, "StartSnapshot", *END],
        0,
        0,
        0,
        False,
        pipeline_kwargs=lambda: {"snapshot_policy": _quota},
    ),
    "backup-window": Scenario(
        "shop",
        NEW,
        "Succeeded",
        None,
        PIPELINE + SNAPSHOT + MIGRATION + ["Verify"] + ROLLOUT + END,
        1,
        1,
        2,
        True,
        pipeline_kwargs=lambda: {"extra_seams": [DatabaseBackingUp(calls=1)]},
    ),
    "spot-interrupted": Scenario(
        "shop",
        NEW,
        "Failed",
        "MigrationFailed",
        PIPELINE + SNAPSHOT + MIGRATION + ROLLBACK[:1] + END,
        1,
        1,
        1,
        False,
        pipeline_kwargs=lambda: {"task_runner": lambda definition, overrides, started_by: TaskOutcome.interrupted(0)},
    ),
    "migration-fails": Scenario(
        "broken", NEW, "Failed", "MigrationFailed", PIPELINE + SNAPSHOT + MIGRATION + ROLLBACK[:1] + END, 1, 1, 1, False
    ),
    "verification-fails": Scenario(
        "shop",
        {**NEW, "options": {"expected_migration": "20250401000000_refunds"}},
        "Failed",
        "SchemaVerificationFailed",
        PIPELINE + SNAPSHOT + MIGRATION + ["Verify"] + ROLLBACK[:1] + END,
        1,
        1,
        1,
        False,
    ),
    "rollout-fails": Scenario(
        "shop",
        NEW,
        "RolledBack",
        "RolloutFailed",
        PIPELINE + SNAPSHOT + MIGRATION + ["Verify"] + ROLLOUT + ROLLBACK + END,
        1,
        1,
        2,
        False,
        new_revisions_end="FAILED",
    ),
    "rollback-fails": Scenario(
        "shop",
        NEW,
        "RollbackFailed",
        "RollbackFailed",
        PIPELINE + SNAPSHOT + MIGRATION + ["Verify"] + ROLLOUT + ROLLBACK + END,
        1,
        1,
        2,
        False,
        pipeline_kwargs=lambda: {"rollout_policy": lambda service, arn: "FAILED"},
    ),
}
PAIRS = [(name, state) for name, scenario in SCENARIOS.items() for state in scenario.states]


def _build(make_pipeline: PipelineFactory, scenario: Scenario) -> Pipeline:
    kwargs = scenario.pipeline_kwargs()
    built: list[Pipeline] = []
    if scenario.new_revisions_end:
        kwargs["rollout_policy"] = _initial_only(
            lambda: built[0].world.task_definition_arns, scenario.new_revisions_end
        )
    pipeline = make_pipeline(scenario.migrations, **kwargs)
    built.append(pipeline)
    scenario.prepare(pipeline)
    return pipeline


def _assert_ends_as_declared(pipeline: Pipeline, scenario: Scenario, report: Any) -> None:
    world = pipeline.world
    records = pipeline.records()
    assert [r["outcome"] for r in records] == [scenario.outcome], (report.error, report.cause)
    assert (records[0]["error"] or None) == scenario.error
    assert len(world.notifications()) == 1
    assert len(world.outcome_events()) == 1
    snapshots = pipeline.client("rds").describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    assert len(snapshots) == scenario.snapshots
    ecs = pipeline.client("ecs")
    tasks = [
        arn
        for status in ("RUNNING", "STOPPED")
        for arn in ecs.list_tasks(cluster=world.cluster_name, desiredStatus=status)["taskArns"]
    ]
    assert len(tasks) == scenario.migration_tasks
    revisions = ecs.list_task_definitions()["taskDefinitionArns"]
    assert len(revisions) - len(world.spec.services) == scenario.new_revisions
    for service in world.spec.services:
        on_new = world.service(service)["taskDefinition"] != world.task_definition_arns[service]
        assert on_new is scenario.services_end_on_new_revision, service
    assert [item["execution"]["S"] for item in pipeline.locks()] == (
        ["someone-else"] * 2 if scenario.prepare is _hold_lock else []
    )


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_declared_states_are_the_ones_visited(make_pipeline: PipelineFactory, name: str) -> None:
    scenario = SCENARIOS[name]
    pipeline = _build(make_pipeline, scenario)

    report = pipeline.run(scenario.execution_input, name=f"baseline-{name}")

    # the phases' Tasks (an event-driven wait's Lambda only registers it: any failure there is a check)
    tasks = {
        s
        for s, state in pipeline.world.definition["States"].items()
        if state["Type"] == "Task" and not str(state["Resource"]).endswith(".waitForTaskToken")
    }
    visited = [s for s in dict.fromkeys(report.state_names) if s in tasks]
    assert visited == scenario.states
    _assert_ends_as_declared(pipeline, scenario, report)


@pytest.mark.parametrize(("name", "state"), PAIRS, ids=[f"{n}:{s}" for n, s in PAIRS])
def test_a_lost_result_is_retried_to_the_same_end(make_pipeline: PipelineFactory, name: str, state: str) -> None:
    scenario = SCENARIOS[name]
    pipeline = _build(make_pipeline, scenario)
    router = pipeline.emulator.seams.lambdas
    error = "States.Timeout" if scenario.states.index(state) % 2 else "Lambda.Unknown"
    router.lose_result(pipeline.function_name(state), error=error)

    report = pipeline.run(scenario.execution_input, name=f"lost-{name}-{state}".lower())

    assert [i.function_name for i in router.lost_results] == [pipeline.function_name(state)]
    _assert_ends_as_declared(pipeline, scenario, report)
