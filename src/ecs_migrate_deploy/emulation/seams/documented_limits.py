"""Seams for DynamoDB, SNS and RDS: where moto is more lenient than AWS documents, or never fails the way AWS can.

Same rules as every seam (`seams.base`: each patch names the moto method it replaces, pinned to
`base.MOTO_VERSION`, reversible); kept apart because they make moto refuse, or fail, as AWS
documents (the stack's table and topic, RDS identifiers and restores), where the service seams
(`awslambda`, `ecs_tasks`, `ecs_rollouts`, `rds_snapshots`, `waits`) make it act.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from ecs_migrate_deploy.emulation.seams.base import Seam, _Patches


class SnsSubjectRules(Seam):
    """Publish refuses a Subject that AWS documents as invalid, which moto (up to 100) accepts.

    botocore's SNS model, PublishInput.Subject: "Constraints: Subjects must be UTF-8 text with no line
    breaks or control characters, and less than 100 characters long." (moto follows a 2018 report,
    getmoto/moto#1503, that AWS accepted exactly 100; the pipeline must not depend on either reading, so
    the emulation enforces the documented, stricter one.) Patches `moto/sns/models.py`
    `SNSBackend.publish`.
    """

    def _apply(self, patches: _Patches) -> None:
        from moto.sns.exceptions import InvalidParameterValue
        from moto.sns.models import SNSBackend

        original = SNSBackend.publish

        def publish(backend: Any, message: str, arn: str | None, *args: Any, **kwargs: Any) -> str:
            subject = kwargs.get("subject", args[1] if len(args) > 1 else None)
            if subject is not None:
                if len(subject) >= 100:
                    raise InvalidParameterValue("Subject must be less than 100 characters long")
                if any(not c.isprintable() for c in subject):
                    raise InvalidParameterValue("Subject must have no line breaks or control characters")
            return str(original(backend, message, arn, *args, **kwargs))

        patches.set(SNSBackend, "publish", publish)


class TransactionConflicts(Seam):
    """The first `count` TransactWriteItems calls are cancelled with reason `TransactionConflict`.

    botocore's DynamoDB model, TransactionCanceledException: DynamoDB cancels a TransactWriteItems
    request when "There is an ongoing TransactWriteItems operation that conflicts with a concurrent
    TransactWriteItems request", listing per item "Code: TransactionConflict, Message: Transaction is
    ongoing for the item" (and "None" for items without error). moto serialises every call, so it never
    produces one. Patches `moto/dynamodb/models/__init__.py` `DynamoDBBackend.transact_write_items`.
    """

    def __init__(self, count: int = 1) -> None:
        super().__init__()
        self.remaining = count
        self.raised = 0
        self._lock = threading.Lock()

    def _apply(self, patches: _Patches) -> None:
        from moto.dynamodb.exceptions import TransactionCanceledException
        from moto.dynamodb.models import DynamoDBBackend

        original = DynamoDBBackend.transact_write_items
        seam = self

        def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
            with seam._lock:
                conflict = seam.remaining > 0
                if conflict:
                    seam.remaining -= 1
                    seam.raised += 1
            if conflict:
                reasons: list[tuple[str | None, str | None, None]] = [
                    ("TransactionConflict", "Transaction is ongoing for the item", None)
                ]
                reasons += [(None, None, None)] * (len(transact_items) - 1)
                raise TransactionCanceledException(reasons)
            original(backend, transact_items)

        patches.set(DynamoDBBackend, "transact_write_items", transact_write_items)


RDS_IDENTIFIER_PARAMETERS: dict[str, str] = {
    "CreateDBClusterSnapshot": "DBClusterSnapshotIdentifier",
    "CreateDBSnapshot": "DBSnapshotIdentifier",
    "CreateDBInstance": "DBInstanceIdentifier",
    "CreateDBCluster": "DBClusterIdentifier",
    "RestoreDBClusterFromSnapshot": "DBClusterIdentifier",
    "RestoreDBInstanceFromDBSnapshot": "DBInstanceIdentifier",
}
"""The RDS operations whose new resource's identifier RdsIdentifierRules checks, and the member naming it."""


def rds_identifier_limit(operation: str, member: str) -> int:
    """The N of "from 1 to N" in botocore's documentation of `operation`'s `member` (for CreateDBCluster,
    "1 to 63 (for Aurora DB clusters) or 1 to 52 (for Multi-AZ DB clusters)": the Aurora one, first)."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("rds")
    request: Any = model.operation_model(operation).input_shape
    text = request.members[member].documentation or ""
    found = re.search(r"from 1 to (\d+)", text)
    if found is None:
        raise RuntimeError(f"botocore's RDS model no longer documents the length of {operation}.{member}")
    return int(found.group(1))


def rds_identifier_problem(value: str, limit: int) -> str | None:
    """Why RDS refuses `value` as an identifier (None when it accepts it)."""
    if not 1 <= len(value) <= limit:
        return f"must contain from 1 to {limit} letters, numbers, or hyphens (it has {len(value)} characters)"
    if not re.fullmatch(r"[A-Za-z0-9-]+", value):
        return "must contain only ASCII letters, digits, and hyphens"
    if not value[0].isalpha():
        return "must begin with a letter"
    if value.endswith("-") or "--" in value:
        return "must not end with a hyphen or contain two consecutive hyphens"
    return None


class RdsIdentifierRules(Seam):
    """RDS refuses an identifier its documentation rules out, where moto checks only some of them.

    botocore's RDS model (2014-10-31), the identifier of the resource each call creates:
    - CreateDBClusterSnapshot.DBClusterSnapshotIdentifier: "Must contain from 1 to 63 letters, numbers,
      or hyphens. First character must be a letter. Can't end with a hyphen or contain two consecutive
      hyphens." (moto checks nothing);
    - CreateDBSnapshot.DBSnapshotIdentifier: "Must contain from 1 to 255 letters, numbers, or hyphens
      First character must be a letter Can't end with a hyphen or contain two consecutive hyphens";
    - CreateDBInstance.DBInstanceIdentifier and RestoreDBInstanceFromDBSnapshot.DBInstanceIdentifier:
      "Must contain from 1 to 63 letters, numbers, or hyphens. First character must be a letter. Can't
      end with a hyphen or contain two consecutive hyphens." (moto checks these two and CreateDBSnapshot
      itself; here they are checked alike, before moto looks for an existing resource);
    - RestoreDBClusterFromSnapshot.DBClusterIdentifier: "Must contain from 1 to 63 letters, numbers, or
      hyphens First character must be a letter Can't end with a hyphen or contain two consecutive
      hyphens"; CreateDBCluster.DBClusterIdentifier: "from 1 to 63 (for Aurora DB clusters) or 1 to 52
      (for Multi-AZ DB clusters)" (moto checks neither).
    The limits are read from the installed botocore model (`rds_identifier_limit`), not written here.
    The error is the one RDS answers for a malformed parameter, InvalidParameterValue (RDS API Reference,
    Common Errors: "An invalid or out-of-range value was supplied for the input parameter"), worded as
    moto's InvalidDBInstanceIdentifier words AWS's message. Patches `moto/rds/responses.py`
    `RDSResponse.create_db_cluster_snapshot`, `create_db_snapshot`, `create_db_instance`,
    `create_db_cluster`, `restore_db_cluster_from_snapshot`, `restore_db_instance_from_db_snapshot`
    (the API layer, so moto's own automated `rds:` snapshots are not concerned).
    """

    def _apply(self, patches: _Patches) -> None:
        from botocore import xform_name
        from moto.rds.exceptions import InvalidParameterValue
        from moto.rds.responses import RDSResponse

        for operation, member in RDS_IDENTIFIER_PARAMETERS.items():
            method = xform_name(operation)
            limit = rds_identifier_limit(operation, member)
            original = getattr(RDSResponse, method)

            def checked(response: Any, _original: Any = original, _member: str = member, _limit: int = limit) -> Any:
                value = response.params.get(_member)
                problem = None if value is None else rds_identifier_problem(str(value), _limit)
                if problem is not None:
                    raise InvalidParameterValue(
                        f"The parameter {_member} is not a valid identifier: it {problem}. Identifiers must "
                        "begin with a letter; must contain only ASCII letters, digits, and hyphens; and must "
                        "not end with a hyphen or contain two consecutive hyphens."
                    )
                return _original(response)

            patches.set(RDSResponse, method, checked)


class RdsClusterRestoreAsDocumented(Seam):
    """An Aurora cluster's restore and writer behave as the RDS documentation says, not as moto copies.

    - RestoreDBClusterFromSnapshot / CreateDBCluster with the identifier of an existing cluster fail with
      DBClusterAlreadyExistsFault ("The user already has a DB cluster with the given identifier.",
      botocore's RDS model, both operations' errors). moto checks nothing: it replaces the cluster (or
      fails on its own automated snapshot's name within the same minute).
    - RestoreDBClusterFromSnapshot: "The target DB cluster is created from the source snapshot with a
      default configuration"; EngineVersion: "If you don't specify an engine version, the default version
      for the database engine in the Amazon Web Services Region is used." moto copies the source
      cluster's whole configuration; here, without EngineVersion the restored cluster gets moto's default
      version for the engine, and without ServerlessV2ScalingConfiguration it has none.
    - CreateDBInstance of class `db.serverless` in a cluster without ServerlessV2ScalingConfiguration
      fails (AWS::RDS::DBCluster ServerlessV2ScalingConfiguration, CloudFormation User Guide: "If you have
      an Aurora cluster, you must set this attribute before you add a DB instance that uses the
      db.serverless DB instance class."); the error code is not documented, InvalidParameterCombination
      is RDS's common error for "Parameters that must not be used together were used together".
    - A restored cluster is `creating` for its first `restore_polls` DescribeDBClusters, and CreateDBInstance
      in a cluster that is not `available` fails with InvalidDBClusterStateFault: "You can create DB
      instances only after the RestoreDBClusterFromSnapshot operation has completed and the DB cluster is
      available" (botocore's RDS model, RestoreDBClusterFromSnapshot; CreateDBInstance lists that fault).
      moto makes the cluster available at once.
    Patches `moto/rds/models.py` `RDSBackend.create_db_cluster`, `restore_db_cluster_from_snapshot`,
    `create_db_instance`, `describe_db_clusters`.
    """

    def __init__(self, restore_polls: int = 1) -> None:
        super().__init__()
        self.restore_polls = restore_polls
        self._restoring: dict[str, int] = {}
        self._lock = threading.Lock()

    def _reset(self) -> None:
        self._restoring.clear()

    def _apply(self, patches: _Patches) -> None:
        from moto.rds.exceptions import InvalidParameterCombination, RDSClientError
        from moto.rds.models import DBCluster, RDSBackend

        original_create_cluster = RDSBackend.create_db_cluster
        original_restore = RDSBackend.restore_db_cluster_from_snapshot
        original_create_instance = RDSBackend.create_db_instance
        original_describe_clusters = RDSBackend.describe_db_clusters
        seam = self

        def create_db_cluster(backend: Any, kwargs: dict[str, Any]) -> Any:
            identifier = str(kwargs["db_cluster_identifier"]).lower()
            if identifier in backend.clusters:
                raise RDSClientError("DBClusterAlreadyExistsFault", f"DB Cluster {identifier} already exists")
            return original_create_cluster(backend, kwargs)

        def restore_db_cluster_from_snapshot(backend: Any, from_snapshot_id: str, overrides: dict[str, Any]) -> Any:
            cluster = original_restore(backend, from_snapshot_id, overrides)
            if not overrides.get("engine_version"):
                cluster.engine_version = DBCluster.default_engine_version(cluster.engine)
            if not overrides.get("serverless_v2_scaling_configuration"):
                cluster.serverless_v2_scaling_configuration = None
            if seam.restore_polls > 0:
                with seam._lock:
                    seam._restoring[cluster.db_cluster_identifier] = seam.restore_polls
                cluster.status = "creating"
            return cluster

        def describe_db_clusters(backend: Any, *args: Any, **kwargs: Any) -> Any:
            clusters = original_describe_clusters(backend, *args, **kwargs)
            with seam._lock:
                for cluster in clusters:
                    left = seam._restoring.get(cluster.db_cluster_identifier)
                    if left is None:
                        continue
                    if left > 0:
                        seam._restoring[cluster.db_cluster_identifier] = left - 1
                        cluster.status = "creating"
                    else:
                        del seam._restoring[cluster.db_cluster_identifier]
                        cluster.status = "available"
            return clusters

        def create_db_instance(backend: Any, db_kwargs: dict[str, Any]) -> Any:
            cluster_id = db_kwargs.get("db_cluster_identifier")
            cluster = backend.clusters.get(str(cluster_id).lower()) if cluster_id else None
            if cluster is not None and cluster.status != "available":
                raise RDSClientError(
                    "InvalidDBClusterStateFault",
                    f"DB cluster {cluster_id} is in {cluster.status} state; instances can be added once it is available.",
                )
            if (
                cluster is not None
                and db_kwargs.get("db_instance_class") == "db.serverless"
                and not cluster.serverless_v2_scaling_configuration
            ):
                raise InvalidParameterCombination(
                    f"Set the Serverless v2 scaling configuration on the parent DB cluster {cluster_id} before "
                    "creating a Serverless v2 DB instance."
                )
            return original_create_instance(backend, db_kwargs)

        patches.set(RDSBackend, "create_db_cluster", create_db_cluster)
        patches.set(RDSBackend, "restore_db_cluster_from_snapshot", restore_db_cluster_from_snapshot)
        patches.set(RDSBackend, "create_db_instance", create_db_instance)
        patches.set(RDSBackend, "describe_db_clusters", describe_db_clusters)
