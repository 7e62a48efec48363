"""The pre-deployment snapshot: created with tags that say whose it is, watched until available."""

from __future__ import annotations

from deploy_pipeline.aws import rds
from deploy_pipeline.errors import SnapshotFailed, SnapshotTimedOut
from deploy_pipeline.logic.identifiers import derived_identifier
from deploy_pipeline.logic.polling import FIRST_WAIT_SECONDS, elapsed_seconds, next_wait, now
from deploy_pipeline.models.state import PipelineState, SnapshotResult
from deploy_pipeline.settings import Settings


def snapshot_id(deployment_id: str) -> str:
    """`pre-deploy-<deployment id>`: a valid RDS snapshot identifier (at most 255 characters)."""
    return derived_identifier(rds.SNAPSHOT_PREFIX, deployment_id, 255)


def start(state: PipelineState, settings: Settings) -> SnapshotResult:
    plan = state.plan
    tags = {
        rds.DEPLOYMENT_KEY: plan.deployment_id,
        "ecs-migrate-deploy:image-digest": plan.image.digest,
        "ecs-migrate-deploy:image-tag": plan.image.tag or "",
    }
    info = rds.create_snapshot(plan.database, snapshot_id(plan.deployment_id), tags)
    return SnapshotResult(
        snapshot_id=info.identifier,
        snapshot_arn=info.arn,
        status=info.status,
        started_at=now(),
        done=info.status == "available",
        wait_seconds=FIRST_WAIT_SECONDS["snapshot"],
    )


def check(state: PipelineState, settings: Settings) -> SnapshotResult:
    current = state.snapshot
    if current is None:
        raise SnapshotFailed("CheckSnapshot ran without a snapshot in the state")
    info = rds.describe_snapshot(state.plan.database, current.snapshot_id)
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
