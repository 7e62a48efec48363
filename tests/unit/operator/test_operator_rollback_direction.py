"""Which way a rollback goes, and drift, decided from records and what ECS reports: the cases the
end-to-end tests (tests/operator) do not build, such as a chain of rollbacks or a NoOp record."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from ecs_migrate_deploy.operator.records import Deployment
from ecs_migrate_deploy.operator.rollback import PREVIOUS, choose_target, moves_forward
from ecs_migrate_deploy.operator.services import EcsService, repository_path, short_image
from ecs_migrate_deploy.operator.status import drift

REPOSITORY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/acme/app"
OLD, NEW = "sha256:" + "a" * 64, "sha256:" + "b" * 64
START = datetime(2026, 3, 1, tzinfo=UTC)


def record(
    deployment_id: str, digest: str, hour: int, *, rollback: bool = False, outcome: str = "Succeeded"
) -> Deployment:
    return Deployment(
        deployment_id=deployment_id,
        outcome=outcome,
        execution_arn="",
        started_at=START + timedelta(hours=hour),
        finished_at=None,
        duration_seconds=None,
        image_tag=None,
        image_digest=digest,
        image_uri=f"{REPOSITORY}@{digest}",
        snapshot_id=None,
        services=("web",),
        trigger="manual",
        started_by="arn:aws:iam::123456789012:user/alice",
        migrations_applied=None,
        lint_summary=None,
        rollback=rollback,
        cause="",
        task_definitions={"web": f"arn:aws:ecs:us-east-1:123456789012:task-definition/web:{hour + 1}"},
    )


def test_previous_after_a_rollback_moves_forward_and_after_that_back_again() -> None:
    d1, d2 = record("d1", OLD, 1), record("d2", NEW, 2)
    r1 = record("r1", OLD, 3, rollback=True)  # `--to previous`: back to OLD
    r2 = record("r2", NEW, 4, rollback=True)  # `--to previous` again: forward to NEW
    first = [d2, d1]
    second = [r1, d2, d1]
    third = [r2, r1, d2, d1]

    assert choose_target(first, {NEW}, PREVIOUS) is d1
    assert moves_forward(first, {NEW}, d1) is None
    assert choose_target(second, {OLD}, PREVIOUS) is d2
    forward = moves_forward(second, {OLD}, d2)
    assert forward is not None and (forward.running, forward.target) == (d1, d2)
    # a third time: r1 (OLD, a rollback) is the target; OLD was deployed before NEW, so that is back
    assert choose_target(third, {NEW}, PREVIOUS) is r1
    assert moves_forward(third, {NEW}, r1) is None


def test_an_image_deployed_again_on_purpose_is_not_forward() -> None:
    d1, d2, d3 = record("d1", OLD, 1), record("d2", NEW, 2), record("d3", OLD, 3)  # OLD pushed again after NEW
    records = [d3, d2, d1]

    assert choose_target(records, {OLD}, PREVIOUS) is d2
    assert moves_forward(records, {OLD}, d2) is None


def service(task_definition: str, image: str) -> EcsService:
    return EcsService("web", "ACTIVE", task_definition, {"app": image, "envoy": "public.ecr.aws/envoy:v1"}, 2, 2, [])


def test_drift_compares_the_revision_when_one_was_rolled_out_and_the_image_always() -> None:
    deployed = record("d2", NEW, 2)
    revision = deployed.task_definitions["web"]
    noop = replace(deployed, deployment_id="n3", outcome="NoOp", task_definitions={})

    assert drift(deployed, service(revision, f"{REPOSITORY}@{NEW}")) == []
    assert drift(noop, service(revision.replace("web:3", "web:9"), f"{REPOSITORY}@{NEW}")) == []
    assert drift(deployed, service(revision, f"{REPOSITORY}:v2")) == [
        f"ECS runs acme/app:v2, not acme/app@{NEW[:19]} that deployment d2 deployed"
    ]
    assert drift(deployed, service(revision.replace("web:3", "web:9"), "docker.io/other/app:1")) == [
        "ECS runs task definition web:9, not web:3 that deployment d2 registered",
        "no container runs an image of acme/app",
    ]
    assert drift(deployed, EcsService("web", "MISSING", "", {}, 0, 0, [])) == [
        "ECS reports the service MISSING, deployment d2 left it running"
    ]


def test_image_names_keep_a_registry_port_and_lose_the_registry_when_shown() -> None:
    assert repository_path("localhost:5000/acme/app:v1") == "localhost:5000/acme/app"
    assert repository_path(f"{REPOSITORY}@{NEW}") == REPOSITORY
    assert repository_path("nginx:1.27") == "nginx"
    assert short_image(f"{REPOSITORY}@{NEW}") == f"acme/app@{NEW[:19]}"
    assert short_image("localhost:5000/acme/app:v1") == "acme/app:v1"
    assert short_image("nginx:1.27") == "nginx:1.27"
