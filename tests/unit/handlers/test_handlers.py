"""Each handler called in-process under moto (the emulated world), in pipeline order, with the AWS
side read back after each call. No Step Functions here: the workflow tests run the real ASL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from deploy_pipeline.handlers import lock, migration, record, resolve, rollback, rollout, snapshot

from ecs_migrate_deploy.emulation.engine import Emulator
from ecs_migrate_deploy.emulation.seams.awslambda import LambdaContext
from ecs_migrate_deploy.emulation.seams.ecs_tasks import TaskOutcome
from ecs_migrate_deploy.emulation.world import WorldSpec


@pytest.fixture
def exit_codes() -> list[int]:
    """The codes this test's next migration tasks exit with, in order (0 once none is left)."""
    return []


@pytest.fixture
def emulator(exit_codes: list[int]) -> Iterator[Emulator]:
    def runner(task_definition: dict[str, Any], overrides: list[dict[str, Any]], started_by: str) -> TaskOutcome:
        code = exit_codes.pop(0) if exit_codes else 0
        return TaskOutcome.exited(code, ["Applying migration `20250101090000_init`", f"exit {code}"])

    with Emulator(WorldSpec(), task_runner=runner, extra_env={"POWERTOOLS_METRICS_DISABLED": "1"}) as emu:
        yield emu


def call(handler: Any, event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = handler(
        event,
        LambdaContext(function_name="test", invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:test"),
    )
    return result


def execution(name: str = "unit-1") -> dict[str, str]:
    return {
        "name": name,
        "arn": f"arn:aws:states:us-east-1:123456789012:execution:ecs-migrate-deploy:{name}",
        "started_at": datetime.now(UTC).isoformat(),
    }


def resolved(emulator: Emulator, raw: dict[str, Any], name: str = "unit-1") -> dict[str, Any]:
    return call(resolve.resolve, {"input": raw, "execution": execution(name)})


def test_resolve_reads_the_service_and_image_and_changes_nothing(emulator: Emulator) -> None:
    world = emulator.world
    revisions = emulator.client("ecs").list_task_definitions()["taskDefinitionArns"]
    state = resolved(emulator, world.ecr_push_event("v1.1.0"))
    plan = state["plan"]
    assert plan["image"]["digest"] == world.digests["v1.1.0"]
    assert plan["image"]["repository_uri"] == world.repository_uri
    assert [(s["name"], s["task_definition_arn"]) for s in plan["services"]] == [
        (name, world.task_definition_arns[name]) for name in world.spec.services
    ]
    assert plan["database"] == {"kind": "instance", "identifier": world.db_identifier}
    assert plan["noop"] is False
    assert emulator.client("ecs").list_task_definitions()["taskDefinitionArns"] == revisions


def test_resolve_unknown_tag_is_image_not_found(emulator: Emulator) -> None:
    from deploy_pipeline.errors import ImageNotFound

    with pytest.raises(ImageNotFound, match=r"no image with tag 'v9\.9\.9'"):
        resolved(emulator, {"image_tag": "v9.9.9"})


def test_lock_is_exclusive_per_service_and_released_only_by_its_owner(emulator: Emulator) -> None:
    first = resolved(emulator, {"image_tag": "v1.1.0"}, "first")
    second = resolved(emulator, {"image_tag": "v1.1.0"}, "second")
    first["lock"] = call(lock.acquire, first)
    assert first["lock"]["acquired"] is True
    second["lock"] = call(lock.acquire, second)
    assert second["lock"]["acquired"] is False and second["lock"]["held_by"] == "first"
    call(lock.release, second)  # not the owner: nothing released
    assert call(lock.acquire, second)["acquired"] is False
    call(lock.release, first)
    assert call(lock.acquire, second)["acquired"] is True


def test_snapshot_start_is_idempotent_and_check_reports_available(emulator: Emulator) -> None:
    state = resolved(emulator, {"image_tag": "v1.1.0"})
    state["snapshot"] = call(snapshot.start, state)
    again = call(snapshot.start, state)  # a retried Lambda reuses the snapshot it created
    assert again["snapshot_id"] == state["snapshot"]["snapshot_id"] == "pre-deploy-unit-1"
    checked = call(snapshot.check, state)
    assert checked["done"] is True and checked["status"] == "available"
    tags = emulator.client("rds").list_tags_for_resource(ResourceName=checked["snapshot_arn"])["TagList"]
    assert {"Key": "managed-by", "Value": "ecs-migrate-deploy"} in tags


def test_migration_runs_once_from_the_new_image_and_reports_the_exit_code(
    emulator: Emulator, exit_codes: list[int]
) -> None:
    world = emulator.world
    state = resolved(emulator, {"image_tag": "v1.1.0"})
    exit_codes[:] = [3]
    state["migration"] = call(migration.start, state)
    assert call(migration.start, state)["task_arn"] == state["migration"]["task_arn"]  # idempotent by startedBy
    task = emulator.client("ecs").describe_tasks(cluster=world.cluster_name, tasks=[state["migration"]["task_arn"]])[
        "tasks"
    ][0]
    assert task["startedBy"] == "unit-1"
    assert task["overrides"]["containerOverrides"][0]["command"] == ["npx", "prisma", "migrate", "deploy"]
    definition = emulator.client("ecs").describe_task_definition(taskDefinition=task["taskDefinitionArn"])
    assert definition["taskDefinition"]["containerDefinitions"][0]["image"] == (
        f"{world.repository_uri}@{world.digests['v1.1.0']}"
    )
    from deploy_pipeline.errors import MigrationFailed

    with pytest.raises(MigrationFailed, match="exited with code 3") as failure:
        for _ in range(5):
            state["migration"] = call(migration.check, state)
    assert "exit 3" in str(failure.value)  # the log tail


def test_rollout_and_rollback_move_every_service(emulator: Emulator) -> None:
    world = emulator.world
    state = resolved(emulator, {"image_tag": "v1.1.0"})
    state["rollout"] = call(rollout.start, state)
    new = {s["name"]: s["task_definition_arn"] for s in state["rollout"]["services"]}
    assert {s: world.service(s)["taskDefinition"] for s in world.spec.services} == new
    assert call(rollout.check, state)["done"] is True
    state["rollback"] = call(rollback.start, state)
    assert {s["name"] for s in state["rollback"]["services"]} == set(world.spec.services)
    assert call(rollback.check, state)["done"] is True
    assert {s: world.service(s)["taskDefinition"] for s in world.spec.services} == world.task_definition_arns


def test_record_writes_the_record_and_notifies(emulator: Emulator) -> None:
    world = emulator.world
    state = resolved(emulator, {"image_tag": "v1.1.0"})
    result = call(record.record_outcome, state)
    assert result["outcome"] == "Succeeded"
    [note] = world.notifications()
    assert note["Subject"] == "[Succeeded] web, worker v1.1.0"
    [event] = world.outcome_events()
    assert event["source"] == "ecs-migrate-deploy" and event["detail-type"] == "Deployment Succeeded"
    assert event["detail"]["image_digest"] == world.digests["v1.1.0"]


def test_a_state_that_is_not_the_handler_s_model_is_a_named_error(emulator: Emulator) -> None:
    from deploy_pipeline.errors import InvalidInput

    with pytest.raises(InvalidInput, match=r"this function takes a PipelineState; plan: Field required"):
        call(rollout.check, {"execution": execution()})
