"""The restore point before the migration: a snapshot, created with tags that say whose it is and
watched until available, or (RestorePoint=point-in-time) the time just before the migration, to which
the database's automated backups can restore it, with nothing to wait for."""

from __future__ import annotations

from datetime import datetime

from deploy_pipeline.aws import rds
from deploy_pipeline.errors import DeploymentStopped, SnapshotFailed, SnapshotTimedOut
from deploy_pipeline.logic import stops
from deploy_pipeline.logic.identifiers import derived_identifier
from deploy_pipeline.logic.polling import FIRST_WAIT_SECONDS, elapsed_seconds, next_wait, now
from deploy_pipeline.models.state import DeploymentPlan, PipelineState, SnapshotResult
from deploy_pipeline.settings import Settings


def snapshot_id(deployment_id: str) -> str:
    """`pre-deploy-<deployment id>`, at most 63 characters whatever the database's kind.

    botocore's RDS model: CreateDBClusterSnapshot's DBClusterSnapshotIdentifier "Must contain from 1
    to 63 letters, numbers, or hyphens" (CreateDBSnapshot's DBSnapshotIdentifier allows 255); both
    "First character must be a letter. Can't end with a hyphen or contain two consecutive hyphens".
    The tighter limit for both kinds keeps one name per deployment that every phase (start, check,
    retries, pruning) computes from the deployment id alone; the prefix starts it with a letter, and a
    cut id keeps a hash of the whole one, so two deployments never share a snapshot (an execution name
    as EventBridge makes it, 73 characters, gives an 80-character deployment id).
    """
    return derived_identifier(rds.SNAPSHOT_PREFIX, deployment_id, rds.CLUSTER_SNAPSHOT_ID_MAX_LENGTH)


WAITING_FOR_DATABASE = "waiting-for-database"
"""SnapshotResult.status before RDS accepted the snapshot (no snapshot exists yet)."""

POINT_IN_TIME = "point-in-time"
"""SnapshotResult.status of a point-in-time restore point (no snapshot at all)."""


def start(state: PipelineState, settings: Settings) -> SnapshotResult:
    """Obeys a stop request unless this deployment's snapshot exists already: then StartSnapshot is
    being retried after it created it (its result lost), and the snapshot's id must reach the state,
    so that the failure path reports it; CheckSnapshot, next, obeys the stop."""
    try:
        stops.obey(state.execution)
    except DeploymentStopped:
        taken = None if settings.restore_point == "point-in-time" else _taken_already(state.plan)
        if taken is None:
            raise
        return taken
    if settings.restore_point == "point-in-time":
        # Automated backups (checked at Resolve) restore to any second of the retention window, so the
        # restore point is just this moment: the next step is the migration. The wait after StartSnapshot
        # is one second (there is nothing to wait for), and CheckSnapshot confirms without asking RDS.
        started = now()
        return SnapshotResult(
            snapshot_id="", status=POINT_IN_TIME, restore_time=started, started_at=started, done=True, wait_seconds=1
        )
    return _create(state.plan, started_at=now(), polls=0, settings=settings)


def _create(plan: DeploymentPlan, *, started_at: datetime, polls: int, settings: Settings) -> SnapshotResult:
    """Ask RDS for the snapshot; a database in a passing state (backing-up, modifying) is asked again
    on the next check, until SnapshotTimeoutSeconds after the first try."""
    tags = {
        rds.DEPLOYMENT_KEY: plan.deployment_id,
        rds.STACK_KEY: settings.stack_name,
        "ecs-migrate-deploy:image-digest": plan.image.digest,
        "ecs-migrate-deploy:image-tag": plan.image.tag or "",
    }
    identifier = snapshot_id(plan.deployment_id)
    database = plan.migrated_database()
    try:
        info = rds.create_snapshot(database, identifier, tags)
    except rds.DatabaseNotReady as exc:
        spent = int(elapsed_seconds(started_at))
        if spent >= settings.snapshot_timeout_seconds:
            raise SnapshotTimedOut(
                f"RDS still refuses to snapshot {database.kind} {database.identifier!r} after {spent}s "
                f"(SnapshotTimeoutSeconds={settings.snapshot_timeout_seconds}): {exc}; nothing was touched"
            ) from None
        return SnapshotResult(
            snapshot_id=identifier,
            status=WAITING_FOR_DATABASE,
            started_at=started_at,
            polls=polls,
            wait_seconds=next_wait(started_at, settings.snapshot_timeout_seconds)
            if polls
            else FIRST_WAIT_SECONDS["snapshot"],
        )
    return _taken(info, started_at=started_at, polls=polls)


def _taken_already(plan: DeploymentPlan) -> SnapshotResult | None:
    info = rds.find_snapshot(plan.migrated_database(), snapshot_id(plan.deployment_id))
    if info is None or info.tags.get(rds.DEPLOYMENT_KEY) != plan.deployment_id:
        return None
    return _taken(info, started_at=now(), polls=0)


def _taken(info: rds.SnapshotInfo, *, started_at: datetime, polls: int) -> SnapshotResult:
    return SnapshotResult(
        snapshot_id=info.identifier,
        snapshot_arn=info.arn,
        status=info.status,
        started_at=started_at,
        polls=polls,
        done=info.status == "available",
        wait_seconds=FIRST_WAIT_SECONDS["snapshot"],
    )


def check(state: PipelineState, settings: Settings) -> SnapshotResult:
    current = state.snapshot
    if current is None:
        raise SnapshotFailed("CheckSnapshot ran without a snapshot in the state")
    if current.status == WAITING_FOR_DATABASE:
        return _create(state.plan, started_at=current.started_at, polls=current.polls + 1, settings=settings)
    if current.restore_time is not None:
        return current.model_copy(update={"polls": current.polls + 1, "done": True, "wait_seconds": 0})
    info = rds.describe_snapshot(state.plan.migrated_database(), current.snapshot_id)
    update = {"status": info.status, "polls": current.polls + 1, "snapshot_arn": info.arn}
    if info.status == "available":
        return current.model_copy(update={**update, "done": True, "wait_seconds": 0})
    if info.status not in ("creating", "pending", "copying"):
        raise SnapshotFailed(f"snapshot {current.snapshot_id} ended in status {info.status!r}")
    spent = int(elapsed_seconds(current.started_at))
    if spent >= settings.snapshot_timeout_seconds:
        raise SnapshotTimedOut(
            f"snapshot {current.snapshot_id} is still {info.status!r} after {spent}s "
            f"(SnapshotTimeoutSeconds={settings.snapshot_timeout_seconds}); nothing else was touched, "
            "the snapshot is left to finish"
        )
    return current.model_copy(
        update={**update, "wait_seconds": next_wait(current.started_at, settings.snapshot_timeout_seconds)}
    )
