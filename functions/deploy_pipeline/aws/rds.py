"""RDS snapshots of an instance or an Aurora cluster, behind one interface for both kinds."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from deploy_pipeline.aws import clients
from deploy_pipeline.errors import ConfigurationError, SnapshotFailed
from deploy_pipeline.models.state import DatabaseTarget

MANAGED_BY_KEY = "managed-by"
MANAGED_BY_VALUE = "ecs-migrate-deploy"
DEPLOYMENT_KEY = "ecs-migrate-deploy:deployment-id"
SNAPSHOT_PREFIX = "pre-deploy-"


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


def create_snapshot(db: DatabaseTarget, snapshot_id: str, tags: dict[str, str]) -> SnapshotInfo:
    """Create the pre-deployment snapshot; an existing one from the same deployment is reused."""
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
    except (
        rds.exceptions.SnapshotQuotaExceededFault,
        rds.exceptions.InvalidDBInstanceStateFault,
        rds.exceptions.InvalidDBClusterStateFault,
        rds.exceptions.DBInstanceNotFoundFault,
        rds.exceptions.DBClusterNotFoundFault,
    ) as exc:
        code = exc.response["Error"]["Code"]
        message = exc.response["Error"].get("Message", "")
        raise SnapshotFailed(f"RDS refused to snapshot {db.kind} {db.identifier!r} ({code}): {message}") from None
    return _snapshot_info(raw)


def describe_snapshot(db: DatabaseTarget, snapshot_id: str) -> SnapshotInfo:
    rds = clients.rds()
    raw: Any
    try:
        if db.kind == "instance":
            raw = rds.describe_db_snapshots(DBSnapshotIdentifier=snapshot_id)["DBSnapshots"][0]
        else:
            raw = rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=snapshot_id)["DBClusterSnapshots"][0]
    except (rds.exceptions.DBSnapshotNotFoundFault, rds.exceptions.DBClusterSnapshotNotFoundFault):
        raise SnapshotFailed(f"snapshot {snapshot_id} has disappeared") from None
    return _snapshot_info(raw)


def pipeline_snapshots(db: DatabaseTarget) -> list[SnapshotInfo]:
    """Manual snapshots of the database that this pipeline created (prefix AND tag), newest first."""
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
        if info.tags.get(MANAGED_BY_KEY) == MANAGED_BY_VALUE:
            found.append(info)
    return sorted(found, key=lambda s: s.created_at or datetime.min, reverse=True)


def delete_snapshot(db: DatabaseTarget, snapshot_id: str) -> None:
    if db.kind == "instance":
        clients.rds().delete_db_snapshot(DBSnapshotIdentifier=snapshot_id)
    else:
        clients.rds().delete_db_cluster_snapshot(DBClusterSnapshotIdentifier=snapshot_id)


def restore_snapshot(db: DatabaseTarget, snapshot_id: str, new_identifier: str) -> None:
    """Restore to a NEW instance/cluster beside the original: no cut-over, a person decides."""
    rds = clients.rds()
    tags: list[Any] = [{"Key": MANAGED_BY_KEY, "Value": MANAGED_BY_VALUE}]
    if db.kind == "instance":
        source = rds.describe_db_instances(DBInstanceIdentifier=db.identifier)["DBInstances"][0]
        kwargs: dict[str, Any] = {
            "DBInstanceIdentifier": new_identifier,
            "DBSnapshotIdentifier": snapshot_id,
            "DBInstanceClass": source["DBInstanceClass"],
            "Tags": tags,
        }
        if source.get("DBSubnetGroup", {}).get("DBSubnetGroupName"):
            kwargs["DBSubnetGroupName"] = source["DBSubnetGroup"]["DBSubnetGroupName"]
        groups = [g["VpcSecurityGroupId"] for g in source.get("VpcSecurityGroups", [])]
        if groups:
            kwargs["VpcSecurityGroupIds"] = groups
        # A retried rollback finds the restore already started.
        with contextlib.suppress(rds.exceptions.DBInstanceAlreadyExistsFault):
            rds.restore_db_instance_from_db_snapshot(**kwargs)
        return
    cluster = rds.describe_db_clusters(DBClusterIdentifier=db.identifier)["DBClusters"][0]
    cluster_kwargs: dict[str, Any] = {
        "DBClusterIdentifier": new_identifier,
        "SnapshotIdentifier": snapshot_id,
        "Engine": cluster["Engine"],
        "Tags": tags,
    }
    if cluster.get("DBSubnetGroup"):
        cluster_kwargs["DBSubnetGroupName"] = cluster["DBSubnetGroup"]
    groups = [g["VpcSecurityGroupId"] for g in cluster.get("VpcSecurityGroups", [])]
    if groups:
        cluster_kwargs["VpcSecurityGroupIds"] = groups
    try:
        rds.restore_db_cluster_from_snapshot(**cluster_kwargs)
    except rds.exceptions.DBClusterAlreadyExistsFault:
        return  # a retried rollback: the restore (and its instance) were already started
    writer = next((m for m in cluster.get("DBClusterMembers", []) if m.get("IsClusterWriter")), None)
    instance_class = "db.r6g.large"
    if writer:
        member = rds.describe_db_instances(DBInstanceIdentifier=writer["DBInstanceIdentifier"])["DBInstances"][0]
        instance_class = member["DBInstanceClass"]
    rds.create_db_instance(
        DBInstanceIdentifier=f"{new_identifier}-1",
        DBClusterIdentifier=new_identifier,
        DBInstanceClass=instance_class,
        Engine=cluster["Engine"],
        Tags=tags,
    )


def restore_command(db: DatabaseTarget, snapshot_id: str, new_identifier: str) -> str:
    """The AWS CLI command a person runs to restore the snapshot themselves (keep policy)."""
    if db.kind == "instance":
        return (
            f"aws rds restore-db-instance-from-db-snapshot --db-instance-identifier {new_identifier} "
            f"--db-snapshot-identifier {snapshot_id}"
        )
    return (
        f"aws rds restore-db-cluster-from-snapshot --db-cluster-identifier {new_identifier} "
        f"--snapshot-identifier {snapshot_id} --engine aurora-postgresql"
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
