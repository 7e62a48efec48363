"""A deployment through the real ASL, end to end: push, snapshot, migrate, verify, roll out."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

from tests.support.pipeline import DB_PASSWORD, EXAMPLES, PipelineFactory


def test_ecr_push_snapshots_migrates_verifies_and_deploys(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline("shop")
    world = pipeline.world
    old_task_definitions = dict(world.task_definition_arns)
    event = world.ecr_push_event("v1.1.0")
    new_digest = event["detail"]["image-digest"]

    report = pipeline.deliver(event)

    assert report.status == "SUCCEEDED", (report.error, report.cause)
    for service in world.spec.services:
        described = world.service(service)
        task_definition = pipeline.client("ecs").describe_task_definition(taskDefinition=described["taskDefinition"])
        image = task_definition["taskDefinition"]["containerDefinitions"][0]["image"]
        assert image == f"{world.repository_uri}@{new_digest}", service
        assert described["taskDefinition"] != old_task_definitions[service]
    # the migration really ran against PostgreSQL, and Verify read what it wrote
    applied = pipeline.query("SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY 1")
    assert [r[0] for r in applied] == [
        "20250101090000_init",
        "20250214120000_orders",
        "20250310083000_order_status",
    ]
    # the record names the snapshot it took (the execution was named by "EventBridge", not by us)
    items = pipeline.client("dynamodb").query(
        TableName=world.table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"DEPLOYMENTS#{world.cluster_name}"}},
    )["Items"]
    record = json.loads(items[0]["record"]["S"])
    # the snapshot exists, tagged with the deployment and the digest
    snapshot = pipeline.client("rds").describe_db_snapshots(DBSnapshotIdentifier=record["snapshot_id"])["DBSnapshots"][
        0
    ]
    tags = {
        t["Key"]: t["Value"]
        for t in pipeline.client("rds").list_tags_for_resource(ResourceName=snapshot["DBSnapshotArn"])["TagList"]
    }
    assert tags["ecs-migrate-deploy:deployment-id"] == record["deployment_id"]
    assert tags["ecs-migrate-deploy:image-digest"] == new_digest
    # the record, the notification and the event
    assert record["outcome"] == "Succeeded" and record["image_digest"] == new_digest
    assert record["snapshot_id"].startswith("pre-deploy-")
    assert record["verification"]["latest_applied"] == "20250310083000_order_status"
    # who started it and what it applied, for `history`
    assert record["started_by"] == "ECR push"
    assert record["migrations_applied"] == {
        "count": 3,
        "before": None,
        "after": "20250310083000_order_status",
        "names": ["20250101090000_init", "20250214120000_orders", "20250310083000_order_status"],
    }
    assert any("Order" in key for key in record["verification"]["schema_diff"]["added"])
    notes = world.notifications()
    assert len(notes) == 1 and "[Succeeded]" in notes[0]["Subject"]
    events = world.outcome_events()
    assert [e["detail-type"] for e in events] == ["Deployment Succeeded"]
    # the locks are released
    locks = pipeline.client("dynamodb").scan(
        TableName=world.table_name, FilterExpression="sk = :l", ExpressionAttributeValues={":l": {"S": "LOCK"}}
    )["Items"]
    assert locks == []
    # and the password appears nowhere in what the execution recorded or sent
    assert DB_PASSWORD not in json.dumps(report.events, default=str)
    assert DB_PASSWORD not in json.dumps(items) + json.dumps(notes) + json.dumps(events)


def test_migration_exit_1_fails_with_the_log_tail_and_leaves_the_service_alone(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline("broken")
    world = pipeline.world
    before = {s: world.service(s)["taskDefinition"] for s in world.spec.services}

    report = pipeline.deliver(world.ecr_push_event("v1.1.0"))

    assert report.status == "FAILED"
    assert report.error == "MigrationFailed"
    assert "exited with code 1" in (report.cause or "")
    assert "Null constraint failed" in (report.cause or "")  # what Prisma's pg adapter reports for 23502
    assert "migrate resolve --rolled-back 20250320100000_add_not_null_sku" in (report.cause or "")
    assert re.search(r"snapshot pre-deploy-[a-z0-9-]+ is kept", report.cause or "")
    assert {s: world.service(s)["taskDefinition"] for s in world.spec.services} == before
    assert "StartRollout" not in report.state_names
    failed = pipeline.query(
        "SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NULL AND rolled_back_at IS NULL"
    )
    assert failed == [("20250320100000_add_not_null_sku",)]
    notes = world.notifications()
    assert "[Failed]" in notes[0]["Subject"]


def test_manual_start_by_tag_deploys_by_digest(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline("shop")
    world = pipeline.world

    report = pipeline.run({"image_tag": "v1.1.0"}, name="manual-v1-1-0")

    assert report.status == "SUCCEEDED", (report.error, report.cause)
    plan = report.visits("Resolve")[0].output["plan"]
    assert plan["trigger"] == "manual"
    assert plan["image"]["digest"] == world.digests["v1.1.0"]
    image = pipeline.client("ecs").describe_task_definition(taskDefinition=world.service("web")["taskDefinition"])[
        "taskDefinition"
    ]["containerDefinitions"][0]["image"]
    assert image.endswith("@" + world.digests["v1.1.0"])


def test_expected_migration_missing_fails_verification_before_the_rollout(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline("shop")
    before = pipeline.world.service("web")["taskDefinition"]

    report = pipeline.run(
        {"image_tag": "v1.1.0", "options": {"expected_migration": "20250401000000_refunds"}}, name="expects-refunds"
    )

    assert (report.status, report.error) == ("FAILED", "SchemaVerificationFailed")
    assert "expected-migration" in (report.cause or "") and "20250401000000_refunds" in (report.cause or "")
    assert pipeline.world.service("web")["taskDefinition"] == before


def test_expected_migration_and_assertions_that_hold_let_the_rollout_proceed(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline(
        "shop",
        parameters={
            "VerifyAssertions": "SELECT 1 FROM information_schema.columns WHERE table_name = 'Order' AND column_name = 'status'"
        },
    )

    report = pipeline.run(
        {"image_tag": "v1.1.0", "options": {"expected_migration": "20250310083000_order_status"}}, name="expects-status"
    )

    assert report.status == "SUCCEEDED", (report.error, report.cause)
    checks = {c["name"]: c["passed"] for c in report.visits("Verify")[0].output["verification"]["checks"]}
    assert checks["expected-migration"] and checks["assertion[1]"]


def test_a_failing_assertion_stops_the_deployment(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline(
        "shop", parameters={"VerifyAssertions": "SELECT 1 FROM information_schema.tables WHERE table_name = 'payments'"}
    )

    report = pipeline.run({"image_tag": "v1.1.0"}, name="needs-payments")

    assert (report.status, report.error) == ("FAILED", "SchemaVerificationFailed")
    assert "assertion[1]" in (report.cause or "")


def test_the_record_names_who_started_it_and_only_the_migrations_it_applied(
    make_pipeline: PipelineFactory, tmp_path: Path
) -> None:
    pipeline = make_pipeline("shop")
    # the database already holds the first migration, as the release before this one left it
    earlier = tmp_path / "shop" / "prisma" / "migrations"
    shutil.copytree(EXAMPLES / "shop" / "prisma" / "migrations", earlier)
    for later in ("20250214120000_orders", "20250310083000_order_status"):
        shutil.rmtree(earlier / later)
    before = replace(pipeline.local, workdir=tmp_path / "shop").run(["npx", "prisma", "migrate", "deploy"])
    assert before.exit_code == 0, before.output_lines
    alice = "arn:aws:iam::123456789012:user/alice"

    first = pipeline.run({"image_tag": "v1.1.0", "started_by": alice}, name="by-alice")
    again = pipeline.run({"image_tag": "v1.0.0"}, name="unnamed")

    assert first.status == again.status == "SUCCEEDED", (first.cause, again.cause)
    by_name = {r["deployment_id"]: r for r in pipeline.records()}
    assert by_name["by-alice"]["started_by"] == alice
    assert by_name["by-alice"]["migrations_applied"] == {
        "count": 2,
        "before": "20250101090000_init",
        "after": "20250310083000_order_status",
        "names": ["20250214120000_orders", "20250310083000_order_status"],
    }
    assert by_name["unnamed"]["started_by"] == "unnamed manual start"
    assert by_name["unnamed"]["migrations_applied"]["count"] == 0
    (note, _) = pipeline.world.notifications()
    assert f"Started by: {alice}" in note["Message"]
