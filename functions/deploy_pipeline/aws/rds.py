"""RDS snapshots of an instance or an Aurora cluster, behind one interface for both kinds."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from deploy_pipeline.aws import clients
from deploy_pipeline.errors import ConfigurationError, SnapshotFailed
from deploy_pipeline.models.state import DatabaseTarget

MANAGED_BY_KEY = "managed-by"
MANAGED_BY_VALUE = "ecs-migrate-deploy"
DEPLOYMENT_KEY = "ecs-migrate-deploy:deployment-id"
STACK_KEY = "ecs-migrate-deploy:stack"
"""Which stack took the snapshot: two stacks may deploy apps sharing one database, and each prunes only its own."""
SNAPSHOT_PREFIX = "pre-deploy-"
# botocore's RDS model: DBClusterSnapshotIdentifier (CreateDBClusterSnapshot), DBInstanceIdentifier
# (CreateDBInstance, RestoreDBInstanceFromDBSnapshot) and DBClusterIdentifier (RestoreDBClusterFromSnapshot)
# "Must contain from 1 to 63 letters, numbers, or hyphens"; DBSnapshotIdentifier allows 255.
CLUSTER_SNAPSHOT_ID_MAX_LENGTH = 63
DB_IDENTIFIER_MAX_LENGTH = 63
WRITER_SUFFIX = "-1"
"""A restored cluster's writer instance is `<restored cluster><WRITER_SUFFIX>`."""


def restored_identifier_max_length(kind: str) -> int:
    """How long a restored instance's or cluster's identifier may be: a cluster's leaves room for its
    writer's suffix, so the writer's identifier stays within the DB instance limit too."""
    return DB_IDENTIFIER_MAX_LENGTH - (len(WRITER_SUFFIX) if kind == "cluster" else 0)


class DatabaseNotReady(Exception):
    """RDS refused the snapshot for the database's current state (InvalidDBInstanceState /
    InvalidDBClusterStateFault: "The DB instance isn't in a valid state", botocore's RDS model), as it
    does while the instance is `backing-up` (the daily backup window), `modifying` or in
    `storage-optimization`: passing states, waited out by the caller."""


@dataclass(frozen=True)
class SnapshotInfo:
    identifier: str
    arn: str
    status: str
    created_at: datetime | None
    tags: dict[str, str]


def check_database(db: DatabaseTarget) -> None:
    """ConfigurationError unless the configured instance/cluster exists."""
    rds = clients.rds()
    try:
        if db.kind == "instance":
            rds.describe_db_instances(DBInstanceIdentifier=db.identifier)
        else:
            rds.describe_db_clusters(DBClusterIdentifier=db.identifier)
    except (rds.exceptions.DBInstanceNotFoundFault, rds.exceptions.DBClusterNotFoundFault):
        raise ConfigurationError(f"RDS {db.kind} {db.identifier!r} does not exist in this account/region") from None


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    dbname: str | None


def endpoint(db: DatabaseTarget) -> Endpoint:
    """Where the instance (Endpoint.Address/Port, DBName) or the cluster's writer (Endpoint, Port,
    DatabaseName) answers, for a secret that does not say."""
    rds = clients.rds()
    try:
        if db.kind == "instance":
            instance = rds.describe_db_instances(DBInstanceIdentifier=db.identifier)["DBInstances"][0]
            address = (instance.get("Endpoint") or {}).get("Address")
            port = (instance.get("Endpoint") or {}).get("Port")
            dbname = instance.get("DBName")
        else:
            cluster = rds.describe_db_clusters(DBClusterIdentifier=db.identifier)["DBClusters"][0]
            address, port, dbname = cluster.get("Endpoint"), cluster.get("Port"), cluster.get("DatabaseName")
    except (rds.exceptions.DBInstanceNotFoundFault, rds.exceptions.DBClusterNotFoundFault):
        raise ConfigurationError(f"RDS {db.kind} {db.identifier!r} does not exist in this account/region") from None
    if not address:
        raise ConfigurationError(
            f"RDS {db.kind} {db.identifier!r} has no endpoint yet (is it still being created?), and the database "
            "secret names no host"
        )
    return Endpoint(host=str(address), port=int(port or 5432), dbname=str(dbname) if dbname else None)


def create_snapshot(db: DatabaseTarget, snapshot_id: str, tags: dict[str, str]) -> SnapshotInfo:
    """Create the pre-deployment snapshot; an existing one from the same deployment is reused.

    DatabaseNotReady when the database's state refuses a snapshot for now.
    """
    rds = clients.rds()
    tag_list: list[Any] = [{"Key": k, "Value": v} for k, v in {MANAGED_BY_KEY: MANAGED_BY_VALUE, **tags}.items()]
    raw: Any
    try:
        if db.kind == "instance":
            raw = rds.create_db_snapshot(
                DBSnapshotIdentifier=snapshot_id, DBInstanceIdentifier=db.identifier, Tags=tag_list
            )["DBSnapshot"]
        else:
            raw = rds.create_db_cluster_snapshot(
                DBClusterSnapshotIdentifier=snapshot_id, DBClusterIdentifier=db.identifier, Tags=tag_list
            )["DBClusterSnapshot"]
    except (rds.exceptions.DBSnapshotAlreadyExistsFault, rds.exceptions.DBClusterSnapshotAlreadyExistsFault):
        existing = describe_snapshot(db, snapshot_id)
        if existing.tags.get(DEPLOYMENT_KEY) != tags.get(DEPLOYMENT_KEY):
            raise SnapshotFailed(
                f"snapshot {snapshot_id} already exists and was not created by this deployment"
            ) from None
        return existing
    except (rds.exceptions.InvalidDBInstanceStateFault, rds.exceptions.InvalidDBClusterStateFault) as exc:
        message = exc.response["Error"].get("Message", "")
        raise DatabaseNotReady(f"{exc.response['Error']['Code']}: {message}".rstrip(": ")) from None
    except (
        rds.exceptions.SnapshotQuotaExceededFault,
        rds.exceptions.DBInstanceNotFoundFault,
        rds.exceptions.DBClusterNotFoundFault,
    ) as exc:
        code = exc.response["Error"]["Code"]
        message = exc.response["Error"].get("Message", "")
        raise SnapshotFailed(f"RDS refused to snapshot {db.kind} {db.identifier!r} ({code}): {message}") from None
    return _snapshot_info(raw)


def describe_snapshot(db: DatabaseTarget, snapshot_id: str) -> SnapshotInfo:
    info = find_snapshot(db, snapshot_id)
    if info is None:
        raise SnapshotFailed(f"snapshot {snapshot_id} has disappeared")
    return info


def find_snapshot(db: DatabaseTarget, snapshot_id: str) -> SnapshotInfo | None:
    """The snapshot by that identifier, or None when RDS has none."""
    rds = clients.rds()
    raw: Any
    try:
        if db.kind == "instance":
            raw = rds.describe_db_snapshots(DBSnapshotIdentifier=snapshot_id)["DBSnapshots"][0]
        else:
            raw = rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=snapshot_id)["DBClusterSnapshots"][0]
    except (rds.exceptions.DBSnapshotNotFoundFault, rds.exceptions.DBClusterSnapshotNotFoundFault):
        return None
    return _snapshot_info(raw)


def pipeline_snapshots(db: DatabaseTarget, stack_name: str) -> list[SnapshotInfo]:
    """Manual snapshots of the database that this stack created (prefix AND tags), newest first.

    A snapshot still being created has no SnapshotCreateTime yet: it counts as the newest.
    """
    rds = clients.rds()
    found: list[SnapshotInfo] = []
    if db.kind == "instance":
        pages = rds.get_paginator("describe_db_snapshots").paginate(
            DBInstanceIdentifier=db.identifier, SnapshotType="manual"
        )
        raws: list[Any] = [s for page in pages for s in page["DBSnapshots"]]
    else:
        cluster_pages = rds.get_paginator("describe_db_cluster_snapshots").paginate(
            DBClusterIdentifier=db.identifier, SnapshotType="manual"
        )
        raws = [s for page in cluster_pages for s in page["DBClusterSnapshots"]]
    for raw in raws:
        info = _snapshot_info(raw)
        if not info.identifier.startswith(SNAPSHOT_PREFIX):
            continue
        if not info.tags:
            info = SnapshotInfo(info.identifier, info.arn, info.status, info.created_at, _tags(info.arn))
        if info.tags.get(MANAGED_BY_KEY) == MANAGED_BY_VALUE and info.tags.get(STACK_KEY) == stack_name:
            found.append(info)
    return newest_first(found)


def newest_first(snapshots: list[SnapshotInfo]) -> list[SnapshotInfo]:
    """By SnapshotCreateTime (aware, as botocore parses it), a snapshot without one (still being
    created: the member is optional in botocore's model) first."""
    return sorted(snapshots, key=lambda s: s.created_at or datetime.max.replace(tzinfo=UTC), reverse=True)


def delete_snapshot(db: DatabaseTarget, snapshot_id: str) -> None:
    if db.kind == "instance":
        clients.rds().delete_db_snapshot(DBSnapshotIdentifier=snapshot_id)
    else:
        clients.rds().delete_db_cluster_snapshot(DBClusterSnapshotIdentifier=snapshot_id)


def restore_snapshot(db: DatabaseTarget, snapshot_id: str, new_identifier: str) -> None:
    """Restore to a NEW instance/cluster beside the original: no cut-over, a person decides."""
    rds = clients.rds()
    if db.kind == "instance":
        kwargs = {
            **_instance_placement(db),
            "DBInstanceIdentifier": new_identifier,
            "DBSnapshotIdentifier": snapshot_id,
        }
        # A retried rollback finds the restore already started.
        with contextlib.suppress(rds.exceptions.DBInstanceAlreadyExistsFault):
            rds.restore_db_instance_from_db_snapshot(**kwargs)
        return
    cluster_kwargs = {
        **_cluster_placement(db),
        "DBClusterIdentifier": new_identifier,
        "SnapshotIdentifier": snapshot_id,
    }
    # A retried rollback finds its restore already started.
    with contextlib.suppress(rds.exceptions.DBClusterAlreadyExistsFault):
        rds.restore_db_cluster_from_snapshot(**cluster_kwargs)


def restore_to_point_in_time(db: DatabaseTarget, restore_time: datetime, new_identifier: str) -> None:
    """Restore the database as it was at `restore_time` (its automated backups) to a NEW instance or
    cluster beside it, placed like a snapshot restore (no cut-over). A retry finds it started."""
    rds = clients.rds()
    if db.kind == "instance":
        placement = _instance_placement(db)
        with contextlib.suppress(rds.exceptions.DBInstanceAlreadyExistsFault):
            rds.restore_db_instance_to_point_in_time(
                SourceDBInstanceIdentifier=db.identifier,
                TargetDBInstanceIdentifier=new_identifier,
                RestoreTime=restore_time,
                **placement,
            )
        return
    # RestoreDBClusterToPointInTime takes no Engine/EngineVersion: the restore runs the source's.
    placement = {k: v for k, v in _cluster_placement(db).items() if k not in ("Engine", "EngineVersion")}
    with contextlib.suppress(rds.exceptions.DBClusterAlreadyExistsFault):
        rds.restore_db_cluster_to_point_in_time(
            SourceDBClusterIdentifier=db.identifier,
            DBClusterIdentifier=new_identifier,
            RestoreToTime=restore_time,
            **placement,
        )


def backup_retention_days(db: DatabaseTarget) -> int:
    """BackupRetentionPeriod: 0 means automated backups are off, and no point-in-time restore exists."""
    rds = clients.rds()
    if db.kind == "instance":
        return int(
            rds.describe_db_instances(DBInstanceIdentifier=db.identifier)["DBInstances"][0]["BackupRetentionPeriod"]
        )
    return int(rds.describe_db_clusters(DBClusterIdentifier=db.identifier)["DBClusters"][0]["BackupRetentionPeriod"])


def _instance_placement(db: DatabaseTarget) -> dict[str, Any]:
    """A restored instance's class, subnet group, security groups and tags: the source's."""
    source = clients.rds().describe_db_instances(DBInstanceIdentifier=db.identifier)["DBInstances"][0]
    kwargs: dict[str, Any] = {
        "DBInstanceClass": source["DBInstanceClass"],
        "Tags": [{"Key": MANAGED_BY_KEY, "Value": MANAGED_BY_VALUE}],
    }
    if source.get("DBSubnetGroup", {}).get("DBSubnetGroupName"):
        kwargs["DBSubnetGroupName"] = source["DBSubnetGroup"]["DBSubnetGroupName"]
    groups = [g["VpcSecurityGroupId"] for g in source.get("VpcSecurityGroups", [])]
    if groups:
        kwargs["VpcSecurityGroupIds"] = groups
    return kwargs


def _cluster_placement(db: DatabaseTarget) -> dict[str, Any]:
    """A restored cluster's engine, subnet group, security groups, capacity and tags: the source's."""
    cluster = clients.rds().describe_db_clusters(DBClusterIdentifier=db.identifier)["DBClusters"][0]
    kwargs: dict[str, Any] = {
        "Engine": cluster["Engine"],
        # RestoreDBClusterFromSnapshot's EngineVersion (botocore's RDS model): "If you don't specify an
        # engine version, the default version for the database engine in the Amazon Web Services Region
        # is used." The restore must run what the database ran.
        "EngineVersion": cluster["EngineVersion"],
        "Tags": [{"Key": MANAGED_BY_KEY, "Value": MANAGED_BY_VALUE}],
    }
    if cluster.get("DBSubnetGroup"):
        kwargs["DBSubnetGroupName"] = cluster["DBSubnetGroup"]
    groups = [g["VpcSecurityGroupId"] for g in cluster.get("VpcSecurityGroups", [])]
    if groups:
        kwargs["VpcSecurityGroupIds"] = groups
    scaling = cluster.get("ServerlessV2ScalingConfiguration") or {}
    if scaling:
        # A db.serverless writer needs it on its cluster ("you must set this attribute before you add a
        # DB instance that uses the db.serverless DB instance class", AWS::RDS::DBCluster docs).
        kwargs["ServerlessV2ScalingConfiguration"] = {
            k: scaling[k] for k in ("MinCapacity", "MaxCapacity", "SecondsUntilAutoPause") if k in scaling
        }
    return kwargs


def ensure_cluster_writer(db: DatabaseTarget, restored_identifier: str) -> str | None:
    """The writer instance of a restored cluster: created once the cluster is available, its id
    returned; None while the restore is still running.

    RestoreDBClusterFromSnapshot (botocore's RDS model): "You can create DB instances only after the
    RestoreDBClusterFromSnapshot operation has completed and the DB cluster is available." A retry
    that finds the writer (or meets DBInstanceAlreadyExists) is done; one whose earlier CreateDBInstance
    failed creates it now.
    """
    rds = clients.rds()
    writer_identifier = f"{restored_identifier}{WRITER_SUFFIX}"
    restored = rds.describe_db_clusters(DBClusterIdentifier=restored_identifier)["DBClusters"][0]
    if any(m.get("DBInstanceIdentifier") == writer_identifier for m in restored.get("DBClusterMembers", [])):
        return writer_identifier
    if restored.get("Status") != "available":
        return None
    source = rds.describe_db_clusters(DBClusterIdentifier=db.identifier)["DBClusters"][0]
    try:
        rds.create_db_instance(
            DBInstanceIdentifier=writer_identifier,
            DBClusterIdentifier=restored_identifier,
            DBInstanceClass=_writer_class(source),
            Engine=source["Engine"],
            Tags=[{"Key": MANAGED_BY_KEY, "Value": MANAGED_BY_VALUE}],
        )
    except rds.exceptions.DBInstanceAlreadyExistsFault:
        pass
    except rds.exceptions.InvalidDBClusterStateFault:
        return None  # the cluster left `available` between the two calls: asked again next time
    return writer_identifier


def writer_command(db: DatabaseTarget, restored_identifier: str) -> str:
    """The AWS CLI command that gives a restored cluster its writer, for a person to finish by hand."""
    source = clients.rds().describe_db_clusters(DBClusterIdentifier=db.identifier)["DBClusters"][0]
    return (
        f"aws rds create-db-instance --db-instance-identifier {restored_identifier}{WRITER_SUFFIX} "
        f"--db-cluster-identifier {restored_identifier} --db-instance-class {_writer_class(source)} "
        f"--engine {source['Engine']}"
    )


def _writer_class(cluster: Any) -> str:
    """The source cluster's writer's instance class (`db.serverless` for a Serverless v2 writer); a
    cluster without a writer gets a Serverless v2 one when it has a capacity range, else db.r6g.large."""
    writer = next((m for m in cluster.get("DBClusterMembers", []) if m.get("IsClusterWriter")), None)
    if writer:
        member = clients.rds().describe_db_instances(DBInstanceIdentifier=writer["DBInstanceIdentifier"])
        return str(member["DBInstances"][0]["DBInstanceClass"])
    return "db.serverless" if cluster.get("ServerlessV2ScalingConfiguration") else "db.r6g.large"


def point_in_time_command(db: DatabaseTarget, restore_time: datetime, new_identifier: str) -> str:
    """The AWS CLI commands a person runs to restore the database as it was at `restore_time`."""
    at = restore_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if db.kind == "instance":
        return (
            f"aws rds restore-db-instance-to-point-in-time --source-db-instance-identifier {db.identifier} "
            f"--target-db-instance-identifier {new_identifier} --restore-time {at}"
        )
    return (
        f"aws rds restore-db-cluster-to-point-in-time --source-db-cluster-identifier {db.identifier} "
        f"--db-cluster-identifier {new_identifier} --restore-to-time {at} && "
        f"aws rds wait db-cluster-available --db-cluster-identifier {new_identifier} && "
        + writer_command(db, new_identifier)
    )


def restore_command(db: DatabaseTarget, snapshot_id: str, new_identifier: str) -> str:
    """The AWS CLI commands a person runs to restore the snapshot themselves (keep policy).

    For a cluster: the restore with the source's engine version and Serverless v2 capacity (else RDS
    picks its defaults), then its writer, which RDS accepts only once the restored cluster is available.
    """
    if db.kind == "instance":
        return (
            f"aws rds restore-db-instance-from-db-snapshot --db-instance-identifier {new_identifier} "
            f"--db-snapshot-identifier {snapshot_id}"
        )
    source = clients.rds().describe_db_clusters(DBClusterIdentifier=db.identifier)["DBClusters"][0]
    scaling = source.get("ServerlessV2ScalingConfiguration") or {}
    capacity = (
        f" --serverless-v2-scaling-configuration MinCapacity={scaling['MinCapacity']},MaxCapacity={scaling['MaxCapacity']}"
        if "MinCapacity" in scaling and "MaxCapacity" in scaling
        else ""
    )
    return (
        f"aws rds restore-db-cluster-from-snapshot --db-cluster-identifier {new_identifier} "
        f"--snapshot-identifier {snapshot_id} --engine {source['Engine']} --engine-version {source['EngineVersion']}"
        f"{capacity} && aws rds wait db-cluster-available --db-cluster-identifier {new_identifier} && "
        + writer_command(db, new_identifier)
    )


def _snapshot_info(raw: Any) -> SnapshotInfo:
    identifier = raw.get("DBSnapshotIdentifier") or raw.get("DBClusterSnapshotIdentifier")
    arn = raw.get("DBSnapshotArn") or raw.get("DBClusterSnapshotArn")
    tags = {t["Key"]: t["Value"] for t in raw.get("TagList", [])}
    return SnapshotInfo(
        str(identifier), str(arn), str(raw.get("Status", "unknown")), raw.get("SnapshotCreateTime"), tags
    )


def _tags(arn: str) -> dict[str, str]:
    tag_list = clients.rds().list_tags_for_resource(ResourceName=arn)["TagList"]
    return {t["Key"]: t["Value"] for t in tag_list}
