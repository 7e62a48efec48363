"""ECS services as real accounts have them, which the default emulated world does not.

ECS's own circuit-breaker rollback, services behind a Classic Load Balancer (no rolloutState),
CODE_DEPLOY and EXTERNAL deployment controllers, task definitions with members and tags that a
hand-written copy drops, and StartRollback run twice (its result lost after its UpdateService calls).
The behaviours come from `seams.ecs_rollouts.EcsRollouts`, which cites the AWS text each one follows.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.pipeline import Pipeline, PipelineFactory

NEW = {"image_tag": "v1.1.0"}


def primary(pipeline: Pipeline, service: str) -> dict[str, Any]:
    return next(d for d in pipeline.world.service(service)["deployments"] if d["status"] == "PRIMARY")


def only_initial_completes(box: dict[str, Pipeline], *, rollback: str = "COMPLETED", seconds: float = 0) -> Any:
    """A rollout policy: any new revision FAILS; the services' original revisions end in `rollback`
    `seconds` after they were first asked about (on the pipeline's clock), IN_PROGRESS until then, so a
    rollback that takes time must really be watched."""
    from deploy_pipeline.logic.polling import now

    first_asked: dict[str, Any] = {}

    def policy(service: str, task_definition_arn: str) -> str:
        if task_definition_arn != box["p"].world.task_definition_arns[service]:
            return "FAILED"
        started = first_asked.setdefault(service, now())
        return rollback if (now() - started).total_seconds() >= seconds else "IN_PROGRESS"

    return policy


# Defect 3 ------------------------------------------------------------------------------------------
def test_ecs_circuit_breaker_rollback_is_watched_and_recorded_as_rolled_back(make_pipeline: PipelineFactory) -> None:
    box: dict[str, Pipeline] = {}
    pipeline = box["p"] = make_pipeline(
        "shop", circuit_breaker_rollback=True, rollout_policy=only_initial_completes(box, seconds=120)
    )
    initial = dict(pipeline.world.task_definition_arns)

    report = pipeline.run(NEW, name="ecs-rolls-back")

    assert (report.status, report.error) == ("FAILED", "RolloutFailed")
    assert "circuit breaker rolled it back" in (report.cause or "")
    # ECS's own rollback deployments were watched to COMPLETED, and nothing else was deployed
    assert report.state_names.count("CheckRollback") >= 2
    for service in pipeline.world.spec.services:
        assert (primary(pipeline, service)["taskDefinition"], primary(pipeline, service)["rolloutState"]) == (
            initial[service],
            "COMPLETED",
        )
    record = pipeline.record()
    assert record["outcome"] == "RolledBack"
    assert {s["name"]: s["rollout_state"] for s in record["rollback"]["services"]} == {
        s: "COMPLETED" for s in pipeline.world.spec.services
    }


def test_ecs_rollback_that_stalls_is_a_failed_rollback(make_pipeline: PipelineFactory) -> None:
    box: dict[str, Pipeline] = {}
    pipeline = box["p"] = make_pipeline(
        "shop", circuit_breaker_rollback=True, rollout_policy=only_initial_completes(box, rollback="FAILED")
    )

    report = pipeline.run(NEW, name="ecs-rollback-fails")

    assert (report.status, report.error) == ("FAILED", "RollbackFailed")
    assert pipeline.record()["outcome"] == "RollbackFailed"


def test_start_rollback_retried_after_its_update_service_calls_still_watches(make_pipeline: PipelineFactory) -> None:
    box: dict[str, Pipeline] = {}
    pipeline = box["p"] = make_pipeline("shop", rollout_policy=only_initial_completes(box, seconds=60))
    router = pipeline.emulator.seams.lambdas
    start_rollback = str(pipeline.world.definition["States"]["StartRollback"]["Resource"]).rsplit(":", 1)[-1]
    router.lose_result(start_rollback)
    deployments_before = {s: len(pipeline.world.service(s)["deployments"]) for s in pipeline.world.spec.services}

    report = pipeline.run(NEW, name="rollback-result-lost")

    assert [i.function_name for i in router.lost_results] == [start_rollback]
    assert (report.status, report.error) == ("FAILED", "RolloutFailed")
    assert "CheckRollback" in report.state_names
    record = pipeline.record()
    assert record["outcome"] == "RolledBack"
    assert {s["name"] for s in record["rollback"]["services"]} == set(pipeline.world.spec.services)
    # the retry started no second rollback deployment: one deployment each, on the original revision
    for service in pipeline.world.spec.services:
        described = pipeline.world.service(service)
        assert len(described["deployments"]) == deployments_before[service] == 1
        assert described["taskDefinition"] == pipeline.world.task_definition_arns[service]


@pytest.mark.parametrize("function_state", ["StartRollout", "CheckRollout", "CheckRollback"])
def test_rollout_and_rollback_states_are_harmless_to_retry(make_pipeline: PipelineFactory, function_state: str) -> None:
    box: dict[str, Pipeline] = {}
    pipeline = box["p"] = make_pipeline("shop", rollout_policy=only_initial_completes(box, seconds=60))
    router = pipeline.emulator.seams.lambdas
    router.lose_result(str(pipeline.world.definition["States"][function_state]["Resource"]).rsplit(":", 1)[-1])
    updates: list[str] = []
    from moto.ecs.models import EC2ContainerServiceBackend

    original = EC2ContainerServiceBackend.update_service

    def counting(backend: Any, properties: dict[str, Any]) -> Any:
        updates.append(str(properties.get("service")))
        return original(backend, properties)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(EC2ContainerServiceBackend, "update_service", counting)
        report = pipeline.run(NEW, name=f"lost-{function_state.lower()}")

    assert len(router.lost_results) == 1
    assert pipeline.record()["outcome"] == "RolledBack", (report.error, report.cause)
    # one UpdateService per service to roll out, one per service to roll back: none repeated
    assert sorted(updates) == sorted(2 * list(pipeline.world.spec.services))
    revisions = pipeline.client("ecs").list_task_definitions()["taskDefinitionArns"]
    assert len(revisions) == 2 * len(pipeline.world.spec.services)


# Defect 6 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("controller", ["CODE_DEPLOY", "EXTERNAL"])
def test_services_not_deployed_by_ecs_are_refused_before_anything_is_touched(
    make_pipeline: PipelineFactory, controller: str
) -> None:
    pipeline = make_pipeline("shop", deployment_controller=controller)

    report = pipeline.run(NEW, name=f"controller-{controller.lower().replace('_', '-')}")

    assert (report.status, report.error) == ("FAILED", "ConfigurationError")
    assert controller in (report.cause or "") and "web" in (report.cause or "")
    assert "StartSnapshot" not in report.state_names
    assert pipeline.client("rds").describe_db_snapshots(SnapshotType="manual")["DBSnapshots"] == []
    assert pipeline.client("ecs").list_tasks(cluster=pipeline.world.cluster_name)["taskArns"] == []
    revisions = pipeline.client("ecs").list_task_definitions()["taskDefinitionArns"]
    assert len(revisions) == len(pipeline.world.spec.services)
    assert pipeline.record()["outcome"] == "Failed"


# Defect 7 ------------------------------------------------------------------------------------------
def test_a_healthy_release_behind_a_classic_load_balancer_succeeds(make_pipeline: PipelineFactory) -> None:
    from deploy_pipeline.logic.polling import now

    first_asked: dict[str, Any] = {}

    def two_looks(service: str, task_definition_arn: str) -> str:
        """Steady 90 s after the rollout began (no rolloutState, so no event: the checks must see it)."""
        started = first_asked.setdefault(service, now())
        return "COMPLETED" if (now() - started).total_seconds() >= 90 else "IN_PROGRESS"

    pipeline = make_pipeline("shop", classic_load_balancer=True, rollout_policy=two_looks)
    assert "rolloutState" not in primary(pipeline, "web")

    report = pipeline.run(NEW, name="behind-clb")

    assert report.status == "SUCCEEDED", (report.error, report.cause)
    assert report.state_names.count("CheckRollout") >= 2  # IN_PROGRESS was seen, then steady
    for service in pipeline.world.spec.services:
        described = pipeline.world.service(service)
        assert described["taskDefinition"] != pipeline.world.task_definition_arns[service]
        assert "rolloutState" not in described["deployments"][0]
    assert pipeline.record()["outcome"] == "Succeeded"


def test_a_failing_release_behind_a_classic_load_balancer_times_out_and_is_rolled_back(
    make_pipeline: PipelineFactory,
) -> None:
    box: dict[str, Pipeline] = {}
    pipeline = box["p"] = make_pipeline(
        "shop",
        classic_load_balancer=True,
        rollout_policy=only_initial_completes(box, seconds=60),
        parameters={"RolloutTimeoutSeconds": "600"},
    )

    report = pipeline.run(NEW, name="clb-fails")

    assert (report.status, report.error) == ("FAILED", "RolloutTimedOut")
    record = pipeline.record()
    assert record["outcome"] == "RolledBack"
    assert {s["rollout_state"] for s in record["rollback"]["services"]} == {"COMPLETED"}
    for service in pipeline.world.spec.services:
        assert pipeline.world.service(service)["taskDefinition"] == pipeline.world.task_definition_arns[service]


# Defect 10 -----------------------------------------------------------------------------------------
def test_new_revisions_keep_every_registrable_member_and_the_tags(make_pipeline: PipelineFactory) -> None:
    fields = {
        "enableFaultInjection": True,
        "trustedExecutionConfiguration": {"isolationMode": "ISOLATED_SANDBOX"},
        "pidMode": "task",
    }
    tags = {"team": "payments", "cost-centre": "42", "aws:cloudformation:stack-name": "acme-app"}
    pipeline = make_pipeline("shop", task_definition_fields=fields, task_definition_tags=tags)
    ecs = pipeline.client("ecs")
    source = ecs.describe_task_definition(taskDefinition=pipeline.world.task_definition_arns["web"])["taskDefinition"]
    assert {k: source.get(k) for k in fields} == fields  # the world really has them

    report = pipeline.run(NEW, name="keeps-members")

    assert report.status == "SUCCEEDED", (report.error, report.cause)
    deployment_id = pipeline.record()["deployment_id"]
    for service in pipeline.world.spec.services:
        described = ecs.describe_task_definition(
            taskDefinition=pipeline.world.service(service)["taskDefinition"], include=["TAGS"]
        )
        assert {k: described["taskDefinition"].get(k) for k in fields} == fields, service
        assert {t["key"]: t["value"] for t in described["tags"]} == {
            "team": "payments",
            "cost-centre": "42",
            "ecs-migrate-deploy:deployment-id": deployment_id,
        }
