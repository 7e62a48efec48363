"""ECS service variants real accounts have, as DescribeServices / DescribeTaskDefinition show them.

Each follows AWS text cited in `seams.ecs_rollouts.EcsRollouts`: ECS's own circuit-breaker rollback, no
rolloutState behind a Classic Load Balancer, CODE_DEPLOY / EXTERNAL controllers refusing a new task
definition, task-definition members moto drops, and `aws:` tag keys refused.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from ecs_migrate_deploy.emulation import Emulator
from ecs_migrate_deploy.emulation.seams.ecs_rollouts import CIRCUIT_BREAKER_REASON, RolloutState
from tests.support.emulation import small_spec
from tests.unit.emulation.test_emulation_ecs import new_revision, primary


def test_ecs_rolls_a_failed_deployment_back_to_the_last_completed_one() -> None:
    def policy(service_name: str, task_definition_arn: str) -> RolloutState:
        return "FAILED" if task_definition_arn.endswith(":2") else "COMPLETED"

    with Emulator(small_spec(circuit_breaker_rollback=True), rollout_policy=policy) as emu:
        old = emu.world.task_definition_arns["web"]
        new = new_revision(emu, "web", "v2")
        assert emu.world.service("web")["deploymentConfiguration"]["deploymentCircuitBreaker"]["rollback"] is True
        emu.client("ecs").update_service(cluster=emu.world.cluster_name, service="web", taskDefinition=new)

        rolling_back = emu.world.service("web")
        completed = emu.world.service("web")

    assert rolling_back["taskDefinition"] == old
    assert [(d["status"], d["taskDefinition"], d["rolloutState"]) for d in rolling_back["deployments"]] == [
        ("PRIMARY", old, "IN_PROGRESS"),
        ("ACTIVE", new, "FAILED"),
    ]
    assert rolling_back["deployments"][1]["rolloutStateReason"] == CIRCUIT_BREAKER_REASON
    assert [(d["status"], d["taskDefinition"], d["rolloutState"]) for d in completed["deployments"]] == [
        ("PRIMARY", old, "COMPLETED")
    ]


def test_a_rollback_without_a_completed_deployment_stalls() -> None:
    with Emulator(small_spec(circuit_breaker_rollback=True), rollout_policy=lambda s, t: "FAILED") as emu:
        ecs, cluster = emu.client("ecs"), emu.world.cluster_name
        old = emu.world.task_definition_arns["web"]
        new = new_revision(emu, "web", "v2")
        ecs.update_service(cluster=cluster, service="web", taskDefinition=new)
        emu.world.service("web")  # FAILED -> ECS rolls back to `old`, whose deployment FAILS in turn
        stalled = emu.world.service("web")

    assert [(d["taskDefinition"], d["rolloutState"]) for d in stalled["deployments"]] == [
        (old, "FAILED"),
        (new, "FAILED"),
    ]


def test_behind_a_classic_load_balancer_deployments_have_no_rollout_state() -> None:
    looks: list[str] = []

    def policy(service_name: str, task_definition_arn: str) -> RolloutState:
        looks.append(service_name)
        return "COMPLETED" if len(looks) > 1 else "IN_PROGRESS"

    with Emulator(small_spec(classic_load_balancer=True), rollout_policy=policy) as emu:
        steady = emu.world.service("web")
        new = new_revision(emu, "web", "v2")
        emu.client("ecs").update_service(cluster=emu.world.cluster_name, service="web", taskDefinition=new)
        in_progress = emu.world.service("web")
        done = emu.world.service("web")

    assert steady["loadBalancers"][0]["loadBalancerName"] == "web-clb"
    for described in (steady, in_progress, done):
        assert all("rolloutState" not in d for d in described["deployments"])
    assert (len(in_progress["deployments"]), primary(in_progress)["runningCount"]) == (2, 0)
    assert (len(done["deployments"]), done["runningCount"], done["desiredCount"]) == (1, 2, 2)


@pytest.mark.parametrize("controller", ["CODE_DEPLOY", "EXTERNAL"])
def test_other_deployment_controllers_refuse_a_new_task_definition(controller: str) -> None:
    with Emulator(small_spec(deployment_controller=controller)) as emu:
        described = emu.world.service("web")
        new = new_revision(emu, "web", "v2")
        with pytest.raises(ClientError) as refused:
            emu.client("ecs").update_service(cluster=emu.world.cluster_name, service="web", taskDefinition=new)

    assert described["deploymentController"] == {"type": controller}
    assert ("taskDefinition" in described) is (controller == "CODE_DEPLOY")
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"


def test_task_definitions_keep_the_members_moto_drops_and_refuse_aws_tags() -> None:
    fields: dict[str, Any] = {
        "enableFaultInjection": True,
        "trustedExecutionConfiguration": {"isolationMode": "ISOLATED_SANDBOX"},
    }
    spec = small_spec(task_definition_fields=fields, task_definition_tags={"team": "a", "aws:cloudformation:x": "y"})
    with Emulator(spec) as emu:
        ecs = emu.client("ecs")
        described = ecs.describe_task_definition(taskDefinition=emu.world.task_definition_arns["web"], include=["TAGS"])
        with pytest.raises(ClientError) as refused:
            ecs.register_task_definition(
                family="web",
                containerDefinitions=described["taskDefinition"]["containerDefinitions"],
                tags=[{"key": "AWS:mine", "value": "x"}],
            )

    assert {k: described["taskDefinition"].get(k) for k in fields} == fields
    assert {t["key"]: t["value"] for t in described["tags"]} == {"team": "a", "aws:cloudformation:x": "y"}
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"
