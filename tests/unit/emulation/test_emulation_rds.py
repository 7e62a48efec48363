"""Snapshot creation can be slow, fail, or be refused (moto makes every snapshot available at once)."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.rds.exceptions import SnapshotQuotaExceededFault

from ecs_migrate_deploy.emulation import Emulator
from ecs_migrate_deploy.emulation.seams.rds_snapshots import SnapshotKind
from tests.support.emulation import small_spec


def test_without_a_policy_snapshots_are_available_at_once(emulator: Emulator) -> None:
    rds = emulator.client("rds")
    rds.create_db_snapshot(DBInstanceIdentifier=emulator.world.db_identifier, DBSnapshotIdentifier="pre-deploy-1")

    snapshot = rds.describe_db_snapshots(DBSnapshotIdentifier="pre-deploy-1")["DBSnapshots"][0]
    assert snapshot["Status"] == "available"


def test_a_snapshot_stays_creating_until_the_policy_says_otherwise() -> None:
    looks: dict[str, int] = {}

    def policy(kind: SnapshotKind, snapshot_id: str) -> str:
        looks[snapshot_id] = looks.get(snapshot_id, 0) + 1
        return "available" if looks[snapshot_id] > 3 else "creating"

    with Emulator(small_spec(), snapshot_policy=policy) as emu:
        rds = emu.client("rds")
        created = rds.create_db_snapshot(DBInstanceIdentifier=emu.world.db_identifier, DBSnapshotIdentifier="slow")
        statuses = [
            rds.describe_db_snapshots(DBSnapshotIdentifier="slow")["DBSnapshots"][0]["Status"] for _ in range(4)
        ]

    assert created["DBSnapshot"]["Status"] == "creating"
    assert statuses == ["creating", "creating", "available", "available"]
    assert looks == {"slow": 4}  # terminal states are not asked again


def test_a_cluster_snapshot_can_fail() -> None:
    spec = small_spec(db_kind="cluster", db_identifier="acme-aurora")
    with Emulator(spec, snapshot_policy=lambda kind, snapshot_id: "failed") as emu:
        rds = emu.client("rds")
        rds.create_db_cluster_snapshot(DBClusterIdentifier="acme-aurora", DBClusterSnapshotIdentifier="doomed")
        ours = rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier="doomed")["DBClusterSnapshots"][0]
        automated = rds.describe_db_cluster_snapshots(DBClusterIdentifier="acme-aurora", SnapshotType="automated")[
            "DBClusterSnapshots"
        ]

    assert ours["Status"] == "failed"
    assert [s["Status"] for s in automated] == ["available"] * len(automated)


def test_a_policy_that_raises_makes_the_create_call_fail_and_leaves_nothing() -> None:
    def refuse(kind: SnapshotKind, snapshot_id: str) -> str:
        raise SnapshotQuotaExceededFault()

    with Emulator(small_spec(), snapshot_policy=refuse) as emu:
        rds = boto3.client("rds", region_name="us-east-1")
        with pytest.raises(ClientError) as caught:
            rds.create_db_snapshot(DBInstanceIdentifier=emu.world.db_identifier, DBSnapshotIdentifier="refused")
        left = rds.describe_db_snapshots(DBInstanceIdentifier=emu.world.db_identifier, SnapshotType="manual")[
            "DBSnapshots"
        ]

    assert caught.value.response["Error"]["Code"] == "SnapshotQuotaExceeded"
    assert left == []
