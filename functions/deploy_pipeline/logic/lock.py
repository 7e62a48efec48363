"""One deployment per service at a time, without wedging a service when an execution is aborted.

The lock items carry `expires_at`: DynamoDB's TTL eventually deletes them, and until it does, an
expired lock is treated as free by the acquire condition itself (TTL deletion can lag by days).
"""

from __future__ import annotations

from datetime import datetime

from deploy_pipeline.aws import ecs, table
from deploy_pipeline.errors import DeploymentInProgress, MigrationTaskStillRunning
from deploy_pipeline.logic import migration_tasks, stops, wakeups
from deploy_pipeline.logic.polling import FIRST_WAIT_SECONDS, elapsed_seconds, next_wait, now, request_time
from deploy_pipeline.models.state import DeploymentPlan, LockResult, PipelineState, RecordInput
from deploy_pipeline.observability import logger
from deploy_pipeline.settings import Settings

# Waiting for another deployment's lock: ReleaseLock of the deployment holding it wakes the wait
# (`release`), and the wait's timeout is the fallback (a lock freed by its TTL, or a wake that failed):
# the adaptive wait of every phase, capped at 90 s, or at LockWaitSeconds / 400 for budgets over 10
# hours, so a wait makes at most ~400 rounds of 13 history events: with every phase at its own
# maximum, one execution stays inside its 25,000 events (tests/unit/lambda_logic/test_history_budget.py).
LOCK_MAX_WAIT_SECONDS = 90
LOCK_MAX_ROUNDS = 400
RELEASE_STOP_REASON = "ecs-migrate-deploy: the deployment ended while its migration task was running"


def acquire(state: PipelineState, settings: Settings) -> LockResult:
    plan = state.plan
    keys = [table.lock_key(plan.cluster, s.name) for s in sorted(plan.services, key=lambda s: s.name)]
    owner = state.execution.name
    first_attempt = state.lock.first_attempt_at if state.lock else now()
    current = int(now().timestamp())
    if table.try_acquire_locks(settings.table_name, keys, owner, plan.image.digest, current, settings.lock_ttl_seconds):
        held = LockResult(
            acquired=True,
            keys=keys,
            first_attempt_at=first_attempt,
            expires_at=current + settings.lock_ttl_seconds,
        )
        return _decide_once_held(held, plan, settings)
    # Holding nothing, a deployment asked to stop ends here rather than when the other one is done.
    stops.obey(state.execution)
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
        if holder and holder.manual:  # held by a person (`ecs-migrate-deploy lock acquire`), not deploying
            raise DeploymentInProgress(
                f"deployments are held by {holder.execution.removeprefix('manual:')} "
                f"(reason: {holder.reason or '-'}): {why}{expiry}; `ecs-migrate-deploy lock release` ends the hold"
            )
        raise DeploymentInProgress(
            f"execution {held_by} is deploying {', '.join(s.name for s in plan.services)}: {why}{expiry}"
        )
    return LockResult(
        acquired=False,
        keys=keys,
        first_attempt_at=first_attempt,
        wait_seconds=lock_wait(first_attempt, settings.lock_wait_seconds, first=state.lock is None),
        held_by=held_by,
    )


def lock_wait(first_attempt: datetime, budget_seconds: int, *, first: bool) -> int:
    """Seconds until the next try: the phase waits' adaptive rule, capped as said above and at what is
    left of the budget (so the last try happens at the budget's end, not past it)."""
    wait = FIRST_WAIT_SECONDS["lock"] if first else next_wait(first_attempt, budget_seconds)
    remaining = budget_seconds - int(elapsed_seconds(first_attempt))
    cap = max(LOCK_MAX_WAIT_SECONDS, -(-budget_seconds // LOCK_MAX_ROUNDS))
    return max(min(wait, cap, remaining), 1)


def _decide_once_held(held: LockResult, plan: DeploymentPlan, settings: Settings) -> LockResult:
    """What Resolve could not know while another deployment was running: whether this request is
    still wanted. Decided with the lock held, so nothing changes the services meanwhile, and again
    the same way if AcquireLock is retried.

    - Superseded: a request made later than this one (push event time, or manual start time) has
      deployed since: EventBridge does not promise delivery order, and putting an older image back
      over a newer one is never what the pushes meant. An explicit rollback request is exempt (its
      request time is its start, so it is the newest anyway).
    - NoOp: every service already runs this image (two tags of one image pushed together, or an
      event delivered twice): nothing to migrate or roll out.
    """
    if plan.requested_at is not None and not plan.options.rollback:
        mine = request_time(plan.requested_at)
        current = table.current_requests(settings.table_name, plan.cluster, [s.name for s in plan.services])
        newer = sorted(
            ((service, c) for service, c in current.items() if c.requested_at > mine and c.execution_arn),
            key=lambda pair: pair[1].requested_at,
        )
        if newer:
            service, latest = newer[-1]
            return held.model_copy(
                update={
                    "superseded": True,
                    "reason": f"a newer release ({latest.image or latest.deployment_id}, requested "
                    f"{latest.requested_at}, deployment {latest.deployment_id}) has been deployed to {service} since "
                    f"this one was requested ({mine})",
                }
            )
    if ecs.all_run_image([s.name for s in plan.services], plan.cluster, plan.image.repository_uri, plan.image.uri):
        return held.model_copy(update={"noop": True, "reason": f"every service already runs {plan.image.digest}"})
    return held


def release(state: RecordInput, settings: Settings) -> LockResult:
    """Delete the locks this execution holds; never someone else's (none when Resolve refused the input).

    Not while a migration task this deployment started is still running, whatever the path here was
    (a lost RunTask result, a failed rollback): the next deployment would start a second migrator
    against the same database. Such a task is asked to stop and MigrationTaskStillRunning lets the
    ASL's Retry look again; if it never stops, the lock is left to expire and the error says why.
    """
    keys = state.lock.keys if state.lock else []
    if keys and state.plan is not None and state.plan.database is not None and not state.plan.options.rollback:
        running = migration_tasks.still_running(migration_tasks.stop_all(state.plan, RELEASE_STOP_REASON))
        if running:
            raise MigrationTaskStillRunning(
                f"the migration task(s) {', '.join(running)} of deployment {state.plan.deployment_id} are still "
                "stopping; the deployment lock is kept until they have stopped"
            )
    for key in keys:
        table.release_lock(settings.table_name, key, state.execution.name)
    if state.lock and state.lock.acquired:
        _announce_release(keys, settings)
    first = state.lock.first_attempt_at if state.lock else now()
    return LockResult(acquired=False, keys=keys, first_attempt_at=first)


def _announce_release(keys: list[str], settings: Settings) -> None:
    """Wake a deployment waiting for these locks now, rather than at its next try (logic/wakeups.py).
    Best effort: a wake that fails only leaves that deployment to its next try, so it never fails the
    release. Done again by a retried release: a second wake of an ended wait is ignored."""
    from botocore.exceptions import BotoCoreError, ClientError

    for key in keys:
        try:
            wakeups.announce(key, settings)
        except (BotoCoreError, ClientError) as exc:
            logger.warning("could not wake a deployment waiting for the lock", extra={"lock": key, "error": str(exc)})
