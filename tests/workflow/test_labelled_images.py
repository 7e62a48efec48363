"""Through the real state machine: the image's labels say which migration the
release needs and what each migration's checksum is; Resolve reads them from ECR (BatchGetImage, then
the config blob through GetDownloadUrlForLayer), Verify requires them. The migration really runs
against PostgreSQL (tests/workflow/conftest.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

from deploy_pipeline.models.migration_labels import LINT_SUMMARY_LABEL

from ecs_migrate_deploy.image_labels import labels_for, with_lint_summary
from tests.support.pipeline import EXAMPLES, Pipeline, PipelineFactory

NEW = {"image_tag": "v1.1.0"}
NEWEST = "20250310083000_order_status"
FIRST = "20250101090000_init"


def shop_copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(EXAMPLES / "shop", target)
    return target


def task_definitions(pipeline: Pipeline) -> dict[str, str]:
    return {s: pipeline.world.service(s)["taskDefinition"] for s in pipeline.world.spec.services}


def test_a_migrator_that_stops_early_and_exits_0_fails_verify_against_the_label(
    make_pipeline: PipelineFactory, tmp_path: Path
) -> None:
    # The image is built from the whole shop (three migrations); its migrator applies only two, exit 0.
    partial = shop_copy(tmp_path, "partial")
    shutil.rmtree(partial / "prisma" / "migrations" / NEWEST)
    pipeline = make_pipeline(str(partial), image_labels={"v1.1.0": labels_for(EXAMPLES / "shop")})
    before = task_definitions(pipeline)

    report = pipeline.run(NEW, name="partial")

    assert (report.status, report.error) == ("FAILED", "SchemaVerificationFailed"), report.cause
    assert f"expected-migration: {NEWEST} is not applied (pending" in (report.cause or "")
    assert pipeline.query("SELECT count(*) FROM _prisma_migrations WHERE finished_at IS NOT NULL") == [(2,)]
    assert "StartRollout" not in report.state_names and "StartRollback" in report.state_names
    assert task_definitions(pipeline) == before
    record = pipeline.record()
    assert record["outcome"] == "Failed"
    assert record["expected_migration"] == {"name": NEWEST, "source": "label", "check": "failed"}
    assert record["migration_checksums"] == {"labelled": True, "check": "passed"}


def test_an_unlabelled_image_deploys_as_before_and_the_record_says_the_check_was_skipped(
    make_pipeline: PipelineFactory,
) -> None:
    pipeline = make_pipeline("shop")

    report = pipeline.run(NEW, name="unlabelled")

    assert report.status == "SUCCEEDED", report.cause
    record = pipeline.record()
    assert record["expected_migration"]["check"] == "skipped" and record["expected_migration"]["source"] is None
    assert "has no io.github.ecs-migrate-deploy.expected-migration label" in record["expected_migration"]["reason"]
    assert record["migration_checksums"]["check"] == "skipped"
    checks = [c["name"] for c in record["verification"]["checks"]]
    assert "expected-migration" not in checks and "migration-checksums" not in checks


def test_a_migration_edited_after_it_was_applied_is_reported_and_the_release_deploys(
    make_pipeline: PipelineFactory, tmp_path: Path
) -> None:
    # The database gets the shop as it is; the image's label was computed after init was edited.
    edited = shop_copy(tmp_path, "edited")
    script = edited / "prisma" / "migrations" / FIRST / "migration.sql"
    script.write_text(script.read_text() + "\n-- edited after it was applied\n")
    pipeline = make_pipeline("shop", image_labels={"v1.1.0": labels_for(edited)})

    report = pipeline.run(NEW, name="drift")

    assert report.status == "SUCCEEDED", report.cause
    record = pipeline.record()
    assert record["outcome"] == "Succeeded"
    assert record["expected_migration"] == {"name": NEWEST, "source": "label", "check": "passed"}
    assert record["migration_checksums"] == {"labelled": True, "check": "warning"}
    [warning] = record["warnings"]
    assert warning.startswith("migration-checksums: 1 applied migration was edited after it was applied")
    assert FIRST in warning
    [notification] = [n for n in pipeline.world.notifications() if "[Succeeded]" in n.get("Subject", "")]
    assert f"Warning: {warning}" in notification["Message"]
    [event] = pipeline.world.outcome_events()
    assert event["detail"]["warnings"] == [warning]


def test_labels_that_cannot_be_read_do_not_fail_the_deployment(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline("shop", image_labels={"v1.1.0": labels_for(EXAMPLES / "shop")})
    pipeline.emulator.seams.ecr_blobs.refuse_downloads = True  # as a bucket policy or a missing route would

    report = pipeline.run(NEW, name="unreadable")

    assert report.status == "SUCCEEDED", report.cause
    record = pipeline.record()
    assert record["expected_migration"]["check"] == "skipped"
    reason = record["expected_migration"]["reason"]
    assert "could not be read (the config blob could not be downloaded: HTTP 403 Forbidden)" in reason


def test_the_image_s_lint_summary_is_recorded_and_notified(make_pipeline: PipelineFactory) -> None:
    labels = with_lint_summary(labels_for(EXAMPLES / "shop"), EXAMPLES / "shop", None)
    pipeline = make_pipeline("shop", image_labels={"v1.1.0": labels})

    report = pipeline.run(NEW, name="linted")

    assert report.status == "SUCCEEDED", report.cause
    summary = pipeline.record()["lint_summary"]
    assert summary == labels[LINT_SUMMARY_LABEL]
    assert summary.startswith("1 error, 3 warnings in 3 pending migrations (all: no --base-ref); errors: ")
    assert f"require-concurrent-index-creation in {NEWEST}" in summary
    (note,) = pipeline.world.notifications()
    assert f"Lint (the image's label): {summary}" in note["Message"]
