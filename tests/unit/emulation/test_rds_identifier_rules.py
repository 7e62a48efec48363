"""The emulated RDS refuses identifiers and restores as AWS documents them, where moto is lenient.

moto accepts a DB cluster snapshot or DB cluster identifier of any length and shape, replaces a cluster
restored twice under one name, and copies the source cluster's whole configuration into a restore;
`documented_limits.RdsIdentifierRules` and `RdsClusterRestoreAsDocumented` (always installed with the
emulator's seams) make it answer as botocore's RDS model says.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from ecs_migrate_deploy.emulation.seams import MotoSeams
from ecs_migrate_deploy.emulation.seams.documented_limits import (
    RDS_IDENTIFIER_PARAMETERS,
    RdsClusterRestoreAsDocumented,
    RdsIdentifierRules,
    rds_identifier_limit,
)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield


@pytest.fixture
def rds(aws: None) -> Iterator[Any]:
    with RdsIdentifierRules(), RdsClusterRestoreAsDocumented():
        client = boto3.client("rds")
        client.create_db_cluster(
            DBClusterIdentifier="source",
            Engine="aurora-postgresql",
            EngineVersion="16.4",
            MasterUsername="app",
            MasterUserPassword="password1",
            ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 8},
        )
        client.create_db_instance(
            DBInstanceIdentifier="source-writer",
            DBClusterIdentifier="source",
            DBInstanceClass="db.serverless",
            Engine="aurora-postgresql",
        )
        client.create_db_cluster_snapshot(DBClusterIdentifier="source", DBClusterSnapshotIdentifier="snap")
        client.create_db_instance(
            DBInstanceIdentifier="plain",
            Engine="postgres",
            DBInstanceClass="db.t4g.micro",
            AllocatedStorage=20,
            MasterUsername="app",
            MasterUserPassword="password1",
        )
        client.create_db_snapshot(DBInstanceIdentifier="plain", DBSnapshotIdentifier="plain-snap")
        yield client


def refused(call: Any, code: str = "InvalidParameterValue") -> str:
    with pytest.raises(ClientError) as caught:
        call()
    assert caught.value.response["Error"]["Code"] == code, caught.value.response
    return str(caught.value.response["Error"]["Message"])


def test_the_limits_come_from_botocores_model() -> None:
    limits = {op: rds_identifier_limit(op, member) for op, member in RDS_IDENTIFIER_PARAMETERS.items()}
    assert limits == {
        "CreateDBClusterSnapshot": 63,
        "CreateDBSnapshot": 255,
        "CreateDBInstance": 63,
        "CreateDBCluster": 63,  # Aurora's; Multi-AZ DB clusters allow 52
        "RestoreDBClusterFromSnapshot": 63,
        "RestoreDBInstanceFromDBSnapshot": 63,
    }


def test_moto_alone_accepts_a_cluster_snapshot_identifier_over_63(aws: None) -> None:
    """Why the seam exists: without it the pipeline's 91-character Aurora snapshot id passed."""
    client = boto3.client("rds")
    client.create_db_cluster(
        DBClusterIdentifier="c", Engine="aurora-postgresql", MasterUsername="app", MasterUserPassword="password1"
    )
    client.create_db_cluster_snapshot(DBClusterIdentifier="c", DBClusterSnapshotIdentifier="s" * 91)
    client.restore_db_cluster_from_snapshot(
        DBClusterIdentifier="r" * 70, SnapshotIdentifier="s" * 91, Engine="aurora-postgresql"
    )


def test_a_cluster_snapshot_identifier_is_at_most_63(rds: Any) -> None:
    rds.create_db_cluster_snapshot(DBClusterIdentifier="source", DBClusterSnapshotIdentifier="s" * 63)
    message = refused(
        lambda: rds.create_db_cluster_snapshot(DBClusterIdentifier="source", DBClusterSnapshotIdentifier="s" * 64)
    )
    assert "DBClusterSnapshotIdentifier" in message and "1 to 63" in message
    assert [s["DBClusterSnapshotIdentifier"] for s in rds.describe_db_cluster_snapshots()["DBClusterSnapshots"]].count(
        "s" * 64
    ) == 0


@pytest.mark.parametrize(
    "identifier", ["1-starts-with-a-digit", "two--hyphens", "ends-with-hyphen-", "under_score", ""]
)
def test_a_cluster_snapshot_identifier_follows_the_documented_shape(rds: Any, identifier: str) -> None:
    refused(
        lambda: rds.create_db_cluster_snapshot(DBClusterIdentifier="source", DBClusterSnapshotIdentifier=identifier)
    )


def test_a_db_snapshot_identifier_is_at_most_255(rds: Any) -> None:
    rds.create_db_snapshot(DBInstanceIdentifier="plain", DBSnapshotIdentifier="s" * 255)
    refused(lambda: rds.create_db_snapshot(DBInstanceIdentifier="plain", DBSnapshotIdentifier="s" * 256))


def test_instance_and_cluster_identifiers_are_at_most_63(rds: Any) -> None:
    long = "r" * 64
    refused(
        lambda: rds.restore_db_cluster_from_snapshot(
            DBClusterIdentifier=long, SnapshotIdentifier="snap", Engine="aurora-postgresql"
        )
    )
    refused(
        lambda: rds.create_db_cluster(
            DBClusterIdentifier=long, Engine="aurora-postgresql", MasterUsername="app", MasterUserPassword="password1"
        )
    )
    refused(
        lambda: rds.create_db_instance(
            DBInstanceIdentifier=long,
            DBClusterIdentifier="source",
            DBInstanceClass="db.serverless",
            Engine="aurora-postgresql",
        )
    )
    refused(
        lambda: rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier=long, DBSnapshotIdentifier="plain-snap")
    )
    assert long not in {c["DBClusterIdentifier"] for c in rds.describe_db_clusters()["DBClusters"]}
    assert long not in {i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]}
    rds.restore_db_cluster_from_snapshot(
        DBClusterIdentifier="r" * 63, SnapshotIdentifier="snap", Engine="aurora-postgresql"
    )


def test_restoring_a_cluster_twice_under_one_name_fails_with_already_exists(rds: Any) -> None:
    rds.restore_db_cluster_from_snapshot(
        DBClusterIdentifier="restored", SnapshotIdentifier="snap", Engine="aurora-postgresql"
    )
    refused(
        lambda: rds.restore_db_cluster_from_snapshot(
            DBClusterIdentifier="restored", SnapshotIdentifier="snap", Engine="aurora-postgresql"
        ),
        code="DBClusterAlreadyExistsFault",
    )
    with pytest.raises(rds.exceptions.DBClusterAlreadyExistsFault):  # boto3's modelled exception
        rds.restore_db_cluster_from_snapshot(
            DBClusterIdentifier="RESTORED", SnapshotIdentifier="snap", Engine="aurora-postgresql"
        )


def test_a_restore_gets_a_default_configuration_unless_told(rds: Any) -> None:
    """'created from the source snapshot with a default configuration': no version, no capacity range."""
    plain = rds.restore_db_cluster_from_snapshot(
        DBClusterIdentifier="plain-restore", SnapshotIdentifier="snap", Engine="aurora-postgresql"
    )["DBCluster"]
    told = rds.restore_db_cluster_from_snapshot(
        DBClusterIdentifier="told",
        SnapshotIdentifier="snap",
        Engine="aurora-postgresql",
        EngineVersion="16.4",
        ServerlessV2ScalingConfiguration={"MinCapacity": 1, "MaxCapacity": 4},
    )["DBCluster"]

    assert plain["EngineVersion"] != "16.4" and "ServerlessV2ScalingConfiguration" not in plain
    assert told["EngineVersion"] == "16.4"
    assert told["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 1.0, "MaxCapacity": 4.0}
    assert told["DBClusterMembers"] == []  # a restore makes no instance


def test_a_serverless_writer_needs_the_clusters_capacity_range(rds: Any) -> None:
    rds.restore_db_cluster_from_snapshot(
        DBClusterIdentifier="bare", SnapshotIdentifier="snap", Engine="aurora-postgresql"
    )
    refused(
        lambda: rds.create_db_instance(
            DBInstanceIdentifier="bare-1",
            DBClusterIdentifier="bare",
            DBInstanceClass="db.serverless",
            Engine="aurora-postgresql",
        ),
        code="InvalidParameterCombination",
    )
    rds.create_db_instance(
        DBInstanceIdentifier="bare-2",
        DBClusterIdentifier="bare",
        DBInstanceClass="db.r6g.large",
        Engine="aurora-postgresql",
    )


def test_uninstalling_gives_moto_back(aws: None) -> None:
    client = boto3.client("rds")
    client.create_db_cluster(
        DBClusterIdentifier="c", Engine="aurora-postgresql", MasterUsername="app", MasterUserPassword="password1"
    )
    with RdsIdentifierRules():
        refused(
            lambda: client.create_db_cluster_snapshot(DBClusterIdentifier="c", DBClusterSnapshotIdentifier="s" * 64)
        )
    client.create_db_cluster_snapshot(DBClusterIdentifier="c", DBClusterSnapshotIdentifier="s" * 64)


def test_the_emulator_always_installs_them() -> None:
    kinds = {type(seam) for seam in MotoSeams().extra}
    assert {RdsIdentifierRules, RdsClusterRestoreAsDocumented} <= kinds
