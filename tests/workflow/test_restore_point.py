"""RestorePoint=point-in-time through the real ASL: no snapshot and nothing to wait for before the
migration; the record, the rollback's restore command and the `restore` policy use the time just
before the migration; without automated backups the stack refuses before anything is touched."""

from __future__ import annotations

from datetime import datetime

from tests.support.pipeline import PipelineFactory

POINT_IN_TIME = {"RestorePoint": "point-in-time"}


def _manual_snapshots(pipeline: object) -> list[str]:
    rds = pipeline.client("rds")  # type: ignore[attr-defined]
    return [s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]]


def test_the_migration_starts_without_a_snapshot_and_the_record_keeps_the_time(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline("shop", parameters=POINT_IN_TIME)

    report = pipeline.run({"image_tag": "v1.1.0"})

    assert report.status == "SUCCEEDED", (report.error, report.cause)
    assert _manual_snapshots(pipeline) == []
    assert report.visits("WaitForSnapshot")[0].slept_seconds <= 1  # nothing to wait for
    record = pipeline.record()
    assert "snapshot_id" not in record and record["restore_time"] <= record["phase_started_at"]["migration"]
    assert [r[0] for r in pipeline.query("SELECT count(*) FROM _prisma_migrations")] == [3]


def test_a_rollback_restores_the_database_as_it_was_at_that_time(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline("broken", parameters={**POINT_IN_TIME, "DbRollbackPolicy": "restore"})

    report = pipeline.run({"image_tag": "v1.1.0"})

    assert (report.status, report.error) == ("FAILED", "MigrationFailed")
    record = pipeline.record()
    database = record["rollback"]["database"]
    restore_time = datetime.fromisoformat(record["restore_time"])
    assert datetime.fromisoformat(database["restore_time"]) == restore_time and database["snapshot_id"] is None
    restored = pipeline.client("rds").describe_db_instances(DBInstanceIdentifier=database["restored_identifier"])
    assert restored["DBInstances"][0]["DBInstanceClass"] == "db.t4g.micro"  # placed like the source
    assert f"the database as it was at {record['restore_time']} is being restored" in record["cause"]
    assert (
        "restore-db-instance-to-point-in-time --source-db-instance-identifier acme-db" in (database["restore_command"])
    )


def test_keep_reports_the_command_to_restore_to_that_time(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline("broken", parameters=POINT_IN_TIME)

    pipeline.run({"image_tag": "v1.1.0"})

    cause = pipeline.record()["cause"]
    assert "(point in time, from automated backups; no snapshot was taken)" in cause
    assert "To restore it beside the original: aws rds restore-db-instance-to-point-in-time" in cause


def test_without_automated_backups_it_is_refused_before_anything_is_touched(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline("shop", parameters=POINT_IN_TIME, backup_retention_days=0)
    before = {s: pipeline.world.service(s)["taskDefinition"] for s in pipeline.world.spec.services}

    report = pipeline.run({"image_tag": "v1.1.0"})

    assert (report.status, report.error) == ("FAILED", "ConfigurationError")
    assert "RestorePoint=point-in-time needs automated backups" in (report.cause or "")
    assert "AcquireLock" not in report.state_names
    assert {s: pipeline.world.service(s)["taskDefinition"] for s in pipeline.world.spec.services} == before


def test_an_aurora_cluster_is_restored_to_that_time_with_its_writer(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline(
        "broken",
        parameters={**POINT_IN_TIME, "DbRollbackPolicy": "restore"},
        db_kind="cluster",
        db_identifier="acme-aurora",
    )

    report = pipeline.run({"image_tag": "v1.1.0"})

    assert (report.status, report.error) == ("FAILED", "MigrationFailed")
    database = pipeline.record()["rollback"]["database"]
    rds = pipeline.client("rds")
    [restored] = rds.describe_db_clusters(DBClusterIdentifier=database["restored_identifier"])["DBClusters"]
    assert restored["EngineVersion"] == "16.4"
    assert database["restored_writer"] and database["restored_writer"] in {
        m["DBInstanceIdentifier"] for m in restored["DBClusterMembers"]
    }
    assert (
        "restore-db-cluster-to-point-in-time --source-db-cluster-identifier acme-aurora" in database["restore_command"]
    )
