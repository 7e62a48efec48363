"""RequireSucceededIn: prod deploys only digests that succeeded in dev. Through the real ASL, with the
dev stack's table holding what a dev stack's Record writes (deploy_pipeline.aws.table.put_record)."""

from __future__ import annotations

from typing import Any

from deploy_pipeline.aws import table

from tests.support.pipeline import PipelineFactory

DEV_TABLE = "acme-dev-deployments"


def dev_table(dynamodb: Any) -> None:
    dynamodb.create_table(
        TableName=DEV_TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    )


def dev_record(digest: str, outcome: str) -> dict[str, object]:
    return {
        "deployment_id": f"dev-{outcome.lower()}",
        "started_at": "2026-11-28T10:00:00+00:00",
        "finished_at": "2026-11-28T10:12:00+00:00",
        "outcome": outcome,
        "image_tag": "v1.1.0",
        "image_digest": digest,
    }


def test_prod_refuses_a_digest_dev_has_not_deployed_then_deploys_it_once_dev_has(
    make_pipeline: PipelineFactory,
) -> None:
    pipeline = make_pipeline("shop", parameters={"RequireSucceededIn": DEV_TABLE})
    world = pipeline.world
    dev_table(pipeline.client("dynamodb"))
    digest = world.digests["v1.1.0"]
    running = {service: world.service(service)["taskDefinition"] for service in world.spec.services}
    # dev tried it and failed: that is no promotion
    table.put_record(DEV_TABLE, "acme-dev", dev_record(digest, "RolledBack"), ["web"])

    refused = pipeline.deliver(world.ecr_push_event("v1.1.0"))

    assert (refused.status, refused.error) == ("FAILED", "NotPromoted")
    assert f"has no Succeeded deployment in '{DEV_TABLE}'" in (refused.cause or "")
    assert "StartSnapshot" not in refused.state_names and "StartMigration" not in refused.state_names
    assert {service: world.service(service)["taskDefinition"] for service in world.spec.services} == running
    assert pipeline.record()["outcome"] == "Failed"

    table.put_record(DEV_TABLE, "acme-dev", dev_record(digest, "Succeeded"), ["web"])
    promoted = pipeline.run({"image_digest": digest}, name="promote-1")

    assert promoted.status == "SUCCEEDED", (promoted.error, promoted.cause)


def test_a_rollback_is_not_held_to_the_guard(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline("shop", parameters={"RequireSucceededIn": DEV_TABLE})
    dev_table(pipeline.client("dynamodb"))
    report = pipeline.run({"image_tag": "v1.0.0", "options": {"rollback": True}}, name="rollback-1")
    assert report.error != "NotPromoted", report.cause
