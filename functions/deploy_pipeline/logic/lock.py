"""One deployment per service at a time, without wedging a service when an execution is aborted.

The lock items carry `expires_at`: DynamoDB's TTL eventually deletes them, and until it does, an
expired lock is treated as free by the acquire condition itself (TTL deletion can lag by days).
"""

from __future__ import annotations

from deploy_pipeline.aws import table
from deploy_pipeline.errors import DeploymentInProgress
from deploy_pipeline.logic.polling import FIRST_WAIT_SECONDS, elapsed_seconds, now
from deploy_pipeline.models.state import LockResult, PipelineState, RecordInput
from deploy_pipeline.settings import Settings


def acquire(state: PipelineState, settings: Settings) -> LockResult:
    plan = state.plan
    keys = [table.lock_key(plan.cluster, s.name) for s in sorted(plan.services, key=lambda s: s.name)]
    owner = state.execution.name
    first_attempt = state.lock.first_attempt_at if state.lock else now()
    current = int(now().timestamp())
    if table.try_acquire_locks(settings.table_name, keys, owner, plan.image.digest, current, settings.lock_ttl_seconds):
        return LockResult(
            acquired=True,
            keys=keys,
            first_attempt_at=first_attempt,
            expires_at=current + settings.lock_ttl_seconds,
        )
    holder = next(
        (h for h in (table.lock_holder(settings.table_name, k) for k in keys) if h and h.execution != owner),
        None,
    )
    held_by = holder.execution if holder else "another execution"
    waited = int(elapsed_seconds(first_attempt))
    if settings.on_lock_held == "fail" or waited >= settings.lock_wait_seconds:
        why = (
            "the stack is set to fail at once (OnLockHeld=fail)"
            if settings.on_lock_held == "fail"
            else f"waited {waited}s, the budget is {settings.lock_wait_seconds}s (LockWaitSeconds)"
        )
        expiry = f"; its lock expires at epoch {holder.expires_at}" if holder else ""
        raise DeploymentInProgress(
            f"execution {held_by} is deploying {', '.join(s.name for s in plan.services)}: {why}{expiry}"
        )
    remaining = settings.lock_wait_seconds - waited
    return LockResult(
        acquired=False,
        keys=keys,
        first_attempt_at=first_attempt,
        wait_seconds=max(min(FIRST_WAIT_SECONDS["lock"], remaining), 1),
        held_by=held_by,
    )


def release(state: RecordInput, settings: Settings) -> LockResult:
    """Delete the locks this execution holds; never someone else's (none when Resolve refused the input)."""
    keys = state.lock.keys if state.lock else []
    for key in keys:
        table.release_lock(settings.table_name, key, state.execution.name)
    first = state.lock.first_attempt_at if state.lock else now()
    return LockResult(acquired=False, keys=keys, first_attempt_at=first)
