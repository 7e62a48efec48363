"""Every RDS identifier derived from an EventBridge-named execution fits its resource.

EventBridge names the executions its rule starts `<event id>_<uuid>` (two UUIDs, 73 characters);
`safe_deployment_id` makes an 80-character deployment id of that. botocore's RDS model allows 1-63
characters for a DB cluster snapshot, a DB cluster and a DB instance identifier (255 for a DB snapshot),
and a restored cluster's writer is `<restored>-1`. Before the fix the Aurora snapshot id was 91
characters (every push-triggered Aurora deployment failed at StartSnapshot) and the restored writer 65.
The limits are read from botocore's model, and the emulated RDS (with `RdsIdentifierRules`) is asked.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from deploy_pipeline.aws import rds
from deploy_pipeline.logic.identifiers import restored_identifier, safe_deployment_id
from deploy_pipeline.logic.snapshot import snapshot_id
from deploy_pipeline.models.state import DatabaseTarget

from ecs_migrate_deploy.emulation import Emulator
from ecs_migrate_deploy.emulation.seams.documented_limits import rds_identifier_limit, rds_identifier_problem
from tests.support.emulation import small_spec

CLUSTER_SNAPSHOT_LIMIT = rds_identifier_limit("CreateDBClusterSnapshot", "DBClusterSnapshotIdentifier")
DB_SNAPSHOT_LIMIT = rds_identifier_limit("CreateDBSnapshot", "DBSnapshotIdentifier")
CLUSTER_LIMIT = rds_identifier_limit("RestoreDBClusterFromSnapshot", "DBClusterIdentifier")
INSTANCE_LIMIT = rds_identifier_limit("CreateDBInstance", "DBInstanceIdentifier")


def eventbridge_execution_name() -> str:
    """As EventBridge names an execution its rule starts: the event's id, `_`, a UUID."""
    return f"{uuid.uuid4()}_{uuid.uuid4()}"


def identifiers(execution_name: str) -> dict[str, str]:
    deployment_id = safe_deployment_id(execution_name)
    cluster_restore = restored_identifier(deployment_id, "cluster")
    return {
        "deployment": deployment_id,
        "snapshot": snapshot_id(deployment_id),
        "restored instance": restored_identifier(deployment_id, "instance"),
        "restored cluster": cluster_restore,
        "restored writer": f"{cluster_restore}{rds.WRITER_SUFFIX}",
    }


LIMITS = {
    "snapshot": min(CLUSTER_SNAPSHOT_LIMIT, DB_SNAPSHOT_LIMIT),  # one id for both kinds of database
    "restored instance": INSTANCE_LIMIT,
    "restored cluster": CLUSTER_LIMIT,
    "restored writer": INSTANCE_LIMIT,
}


def test_an_eventbridge_name_gives_identifiers_within_each_resources_documented_rules() -> None:
    name = eventbridge_execution_name()
    assert len(name) == 73
    ids = identifiers(name)
    assert len(ids["deployment"]) <= 80
    for kind, limit in LIMITS.items():
        assert rds_identifier_problem(ids[kind], limit) is None, (kind, ids[kind], len(ids[kind]))
    assert (CLUSTER_SNAPSHOT_LIMIT, INSTANCE_LIMIT) == (63, 63)


@pytest.mark.parametrize("repeat", range(20))
def test_names_differing_in_their_last_character_keep_distinct_identifiers(repeat: int) -> None:
    first = eventbridge_execution_name()
    second = first[:-1] + ("0" if first[-1] != "0" else "1")
    one, other = identifiers(first), identifiers(second)
    for kind in one:
        assert one[kind] != other[kind], kind
        # RDS identifiers ignore case: distinct must mean distinct in lower case too
        assert one[kind].lower() != other[kind].lower(), kind


@pytest.fixture
def aurora() -> Iterator[Emulator]:
    spec = small_spec(db_kind="cluster", db_identifier="acme-aurora", aurora_writer_class="db.serverless")
    with Emulator(spec) as emulator:
        yield emulator


@pytest.fixture
def instance() -> Iterator[Emulator]:
    with Emulator(small_spec()) as emulator:
        yield emulator


def _snapshot_and_restore(emulator: Emulator, kind: str) -> dict[str, str]:
    ids = identifiers(eventbridge_execution_name())
    database = DatabaseTarget(kind=kind, identifier=emulator.world.db_identifier)  # type: ignore[arg-type]
    info = rds.create_snapshot(database, ids["snapshot"], {rds.DEPLOYMENT_KEY: ids["deployment"]})
    assert info.identifier == ids["snapshot"]
    restored = restored_identifier(ids["deployment"], kind)
    rds.restore_snapshot(database, ids["snapshot"], restored)
    if kind == "cluster":  # its writer, once the restored cluster is available (creating, then available)
        writer = rds.ensure_cluster_writer(database, restored) or rds.ensure_cluster_writer(database, restored)
        assert writer == ids["restored writer"]
    return ids


def test_the_emulated_rds_accepts_an_aurora_deployments_snapshot_and_restore(aurora: Emulator) -> None:
    ids = _snapshot_and_restore(aurora, "cluster")

    client: Any = aurora.client("rds")
    [snapshot] = client.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=ids["snapshot"])["DBClusterSnapshots"]
    assert snapshot["DBClusterIdentifier"] == "acme-aurora"
    [restored] = client.describe_db_clusters(DBClusterIdentifier=ids["restored cluster"])["DBClusters"]
    assert [m["DBInstanceIdentifier"] for m in restored["DBClusterMembers"]] == [ids["restored writer"]]


def test_the_emulated_rds_accepts_an_instance_deployments_snapshot_and_restore(instance: Emulator) -> None:
    ids = _snapshot_and_restore(instance, "instance")

    client: Any = instance.client("rds")
    assert client.describe_db_snapshots(DBSnapshotIdentifier=ids["snapshot"])["DBSnapshots"]
    assert client.describe_db_instances(DBInstanceIdentifier=ids["restored instance"])["DBInstances"]
