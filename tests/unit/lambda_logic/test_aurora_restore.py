"""A `restore` rollback of an Aurora cluster ends with a cluster that has its writer.

RestoreDBClusterFromSnapshot "only restores the DB cluster, not the DB instances" (botocore's RDS
model), uses "the default version for the database engine" unless EngineVersion is given, and a
`db.serverless` writer needs the cluster's ServerlessV2ScalingConfiguration. The emulated RDS answers so
(`documented_limits.RdsClusterRestoreAsDocumented`); every assertion reads moto's state.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from deploy_pipeline.aws import rds
from deploy_pipeline.logic.identifiers import restored_identifier
from deploy_pipeline.models.state import DatabaseTarget

from ecs_migrate_deploy.emulation import Emulator
from ecs_migrate_deploy.emulation.seams.base import Seam, _Patches
from tests.support.emulation import small_spec

DEPLOYMENT_ID = "3f0c8e5e-2a4b-4c1d-9e7f-0123456789ab-9d2c1f7e-5b6a-4f3e-8d2c-abcdef012345"
SOURCE = DatabaseTarget(kind="cluster", identifier="acme-aurora")
RESTORED = restored_identifier(DEPLOYMENT_ID, "cluster")


class WriterRefusedOnce(Seam):
    """The first CreateDBInstance into a restored cluster fails as AWS can fail it (botocore's RDS model:
    InsufficientDBInstanceCapacityFault, "The specified DB instance class isn't available in the
    specified Availability Zone"). Patches `moto/rds/models.py` `RDSBackend.create_db_instance`."""

    def __init__(self) -> None:
        super().__init__()
        self.refused = 0

    def _apply(self, patches: _Patches) -> None:
        from moto.rds.exceptions import RDSClientError
        from moto.rds.models import RDSBackend

        original = RDSBackend.create_db_instance
        seam = self

        def create_db_instance(backend: Any, db_kwargs: dict[str, Any]) -> Any:
            if not seam.refused and str(db_kwargs.get("db_cluster_identifier", "")).startswith("restored-"):
                seam.refused += 1
                raise RDSClientError("InsufficientDBInstanceCapacity", "db.serverless is not available right now")
            return original(backend, db_kwargs)

        patches.set(RDSBackend, "create_db_instance", create_db_instance)


def aurora(writer_class: str, *seams: Seam) -> Emulator:
    spec = small_spec(db_kind="cluster", db_identifier=SOURCE.identifier, aurora_writer_class=writer_class)
    return Emulator(spec, extra_seams=seams)


@pytest.fixture
def serverless() -> Iterator[Emulator]:
    with aurora("db.serverless") as emulator:
        yield emulator


def snapshot(emulator: Emulator) -> str:
    emulator.client("rds").create_db_cluster_snapshot(
        DBClusterIdentifier=SOURCE.identifier, DBClusterSnapshotIdentifier="pre-deploy-x"
    )
    return "pre-deploy-x"


def restore(snapshot_id: str) -> str:
    """Restore as StartRollback and CheckRollback do: the cluster, then its writer once it is available
    (the emulated restore shows `creating` first, and refuses a writer until then)."""
    rds.restore_snapshot(SOURCE, snapshot_id, RESTORED)
    assert rds.ensure_cluster_writer(SOURCE, RESTORED) is None, "the restore is still running"
    writer = rds.ensure_cluster_writer(SOURCE, RESTORED)
    assert writer == f"{RESTORED}{rds.WRITER_SUFFIX}"
    return writer


def restored_cluster(emulator: Emulator) -> dict[str, Any]:
    [cluster] = emulator.client("rds").describe_db_clusters(DBClusterIdentifier=RESTORED)["DBClusters"]
    return dict(cluster)


def writers(emulator: Emulator, cluster: dict[str, Any]) -> list[dict[str, Any]]:
    client = emulator.client("rds")
    return [
        client.describe_db_instances(DBInstanceIdentifier=m["DBInstanceIdentifier"])["DBInstances"][0]
        for m in cluster["DBClusterMembers"]
        if m["IsClusterWriter"]
    ]


def test_the_world_has_a_serverless_v2_cluster_with_its_writer(serverless: Emulator) -> None:
    [source] = serverless.client("rds").describe_db_clusters(DBClusterIdentifier=SOURCE.identifier)["DBClusters"]
    assert source["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 4.0}
    assert [w["DBInstanceClass"] for w in writers(serverless, source)] == ["db.serverless"]


def test_a_serverless_v2_cluster_is_restored_with_its_version_capacity_and_a_serverless_writer(
    serverless: Emulator,
) -> None:
    restore(snapshot(serverless))

    cluster = restored_cluster(serverless)
    assert cluster["EngineVersion"] == "16.4"  # the source's, not the region's default
    assert cluster["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 4.0}
    [writer] = writers(serverless, cluster)
    assert writer["DBInstanceIdentifier"] == f"{RESTORED}{rds.WRITER_SUFFIX}"
    assert writer["DBInstanceClass"] == "db.serverless"
    assert len(writer["DBInstanceIdentifier"]) <= 63


def test_a_provisioned_cluster_is_restored_with_its_writers_class() -> None:
    with aurora("db.r6g.xlarge") as emulator:
        restore(snapshot(emulator))
        cluster = restored_cluster(emulator)
        assert cluster["EngineVersion"] == "16.4"
        assert "ServerlessV2ScalingConfiguration" not in cluster
        assert [w["DBInstanceClass"] for w in writers(emulator, cluster)] == ["db.r6g.xlarge"]


@pytest.mark.parametrize("writer_class", ["db.r6g.large", "db.serverless"])
def test_a_retry_after_the_writer_failed_creates_the_writer(writer_class: str) -> None:
    refusal = WriterRefusedOnce()
    with aurora(writer_class, refusal) as emulator:
        snapshot_id = snapshot(emulator)
        rds.restore_snapshot(SOURCE, snapshot_id, RESTORED)
        assert rds.ensure_cluster_writer(SOURCE, RESTORED) is None  # still restoring
        with pytest.raises(ClientError):
            rds.ensure_cluster_writer(SOURCE, RESTORED)
        assert refusal.refused == 1
        assert restored_cluster(emulator)["DBClusterMembers"] == []  # the state a retry meets

        rds.restore_snapshot(SOURCE, snapshot_id, RESTORED)  # the retried rollback: restore already started
        assert rds.ensure_cluster_writer(SOURCE, RESTORED) == f"{RESTORED}{rds.WRITER_SUFFIX}"
        [writer] = writers(emulator, restored_cluster(emulator))
        assert writer["DBInstanceClass"] == writer_class

        assert rds.ensure_cluster_writer(SOURCE, RESTORED) == f"{RESTORED}{rds.WRITER_SUFFIX}"  # nothing new
        assert len(restored_cluster(emulator)["DBClusterMembers"]) == 1
