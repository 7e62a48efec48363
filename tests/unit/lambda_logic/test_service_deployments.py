"""How a service's deployments are read: rollout state with and without rolloutState, what a rollback
must watch, and which task-definition members a new revision copies (botocore's model)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from deploy_pipeline.aws import clients, ecs
from deploy_pipeline.logic.rollback import _untouched
from deploy_pipeline.logic.rollout import deployment_state

OLD = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1"
NEW = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:2"
STARTED = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def deployment(task_definition: str, status: str = "PRIMARY", **fields: Any) -> dict[str, Any]:
    return {"id": f"ecs-svc/{task_definition[-1]}", "status": status, "taskDefinition": task_definition, **fields}


def service(*deployments: dict[str, Any], running: int = 2, desired: int = 2) -> ecs.ServiceInfo:
    return ecs.ServiceInfo(
        name="web",
        arn="arn:aws:ecs:us-east-1:123456789012:service/acme/web",
        task_definition_arn=deployments[0]["taskDefinition"],
        launch_type="FARGATE",
        capacity_provider_strategy=[],
        platform_version=None,
        network_configuration=None,
        deployments=list(deployments),
        running_count=running,
        desired_count=desired,
    )


# Without rolloutState (a Classic Load Balancer): the ServicesStable waiter's rule ------------------
def test_without_rollout_state_one_deployment_with_every_task_running_is_completed() -> None:
    assert deployment_state(service(deployment(NEW)), NEW)[0] == "COMPLETED"


@pytest.mark.parametrize(
    "described",
    [
        service(deployment(NEW), deployment(OLD, "ACTIVE")),  # the old tasks are still there
        service(deployment(NEW), running=1),  # not every task runs yet
    ],
)
def test_without_rollout_state_anything_else_is_in_progress(described: ecs.ServiceInfo) -> None:
    assert deployment_state(described, NEW)[0] == "IN_PROGRESS"


def test_rollout_state_wins_when_ecs_reports_it() -> None:
    described = service(deployment(NEW, rolloutState="FAILED", rolloutStateReason="tasks failed to start"))
    assert deployment_state(described, NEW) == ("FAILED", "tasks failed to start")


def test_ecs_own_rollback_is_a_failure_of_the_rollout_that_names_the_circuit_breaker() -> None:
    described = service(
        deployment(OLD, rolloutState="IN_PROGRESS"),
        deployment(NEW, "ACTIVE", rolloutState="FAILED", rolloutStateReason="tasks failed to start"),
    )
    state, reason = deployment_state(described, NEW)
    assert state == "FAILED"
    assert f"circuit breaker rolled it back to {OLD}" in (reason or "")
    assert deployment_state(described, OLD)[0] == "IN_PROGRESS"  # and the rollback is watched


# What StartRollback leaves alone -------------------------------------------------------------------
def test_a_single_settled_deployment_older_than_the_execution_is_untouched() -> None:
    primary = deployment(OLD, rolloutState="COMPLETED", createdAt=STARTED - timedelta(days=3))
    assert _untouched(service(primary), primary, STARTED)


@pytest.mark.parametrize(
    "primary, others",
    [
        # ECS's rollback reuses the last COMPLETED deployment, IN_PROGRESS again, beside the failed one
        (
            deployment(OLD, rolloutState="IN_PROGRESS", createdAt=STARTED - timedelta(days=3)),
            [deployment(NEW, "ACTIVE")],
        ),
        # our own UpdateService, by an earlier run whose result was lost
        (deployment(OLD, rolloutState="COMPLETED", createdAt=STARTED + timedelta(minutes=9)), []),
    ],
)
def test_a_deployment_being_put_back_is_watched(primary: dict[str, Any], others: list[dict[str, Any]]) -> None:
    assert not _untouched(service(primary, *others), primary, STARTED)


# RegisterTaskDefinition's members, from botocore's model -------------------------------------------
def test_registrable_members_come_from_the_service_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    clients._client.cache_clear()
    ecs.registrable_members.cache_clear()
    try:
        members = ecs.registrable_members()
    finally:
        clients._client.cache_clear()

    assert {"enableFaultInjection", "trustedExecutionConfiguration", "containerDefinitions", "family"} <= members
    # output-only members (and `tags`, which DescribeTaskDefinition returns beside the definition) are not
    assert not members & {"taskDefinitionArn", "revision", "status", "registeredAt", "compatibilities", "tags"}
