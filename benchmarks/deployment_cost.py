"""Release latency and cost: how soon each phase's end is noticed, and what a deployment costs.

The timeline of _timeline.py (snapshot 5 min, migration 2 min, rollout 8 min; also at half and twice
those durations, and with a rollout that fails and a 4-min rollback) runs on the emulator with:
- "events": AWS's state-change events reach NoticeFunction a delivery delay after the change (the
  EventBridge FAQ promises "near-real-time" delivery and no figure; 2 s is assumed, and 5 s shown
  once), and each wait ends on its event (logic/wakeups.py);
- "events lost": every event is dropped, so each wait ends at the interval its check chose (the
  adaptive polling of logic/polling.py, the fallback);
- "fixed 10 s": no events and a poll every 10 s, the naive design.
Notice lag is from the moment the resource changed state to the moment the check that saw it ran.

Prices (us-east-1 list prices, free tiers ignored): Step Functions Standard $0.025 per 1,000 state
transitions; Lambda $0.20 per 1M requests and $0.0000133334 per GB-second on arm64 at each function's
memory in template.yaml, billed at an assumed 1 s per invocation (a cold start's INIT is billed, and
real AWS calls take tens of milliseconds each). CloudWatch Logs, X-Ray, DynamoDB, SNS, EventBridge and
the snapshot's storage are not counted (each a fraction of a cent per deployment).

Run: `.venv/bin/python benchmarks/deployment_cost.py` (or `make bench`); needs PostgreSQL.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timeline import MIGRATION_SECONDS, ROLLBACK_SECONDS, ROLLOUT_SECONDS, SNAPSHOT_SECONDS, TimelineRun, run_timeline

from ecs_migrate_deploy.template import load_template

STATE_TRANSITION_USD = 0.025 / 1000
LAMBDA_REQUEST_USD = 0.20 / 1_000_000
LAMBDA_ARM64_GB_SECOND_USD = 0.0000133334
ASSUMED_BILLED_SECONDS = 1.0
GOAL_LAG_SECONDS = 5.0
GOAL_USD = 0.01
HISTORY_LIMIT = 25_000  # events per execution (Step Functions quotas)
LONGEST_TIMEOUT_SECONDS = 86_400  # the template's MaxValue for each phase's timeout and LockWaitSeconds
WAIT_LOOPS = {  # what one more wait adds: the wait, the check it leads to, the choice after it
    "lock": ("WaitForLock", "AcquireLock", "LockAcquired"),
    "snapshot": ("WaitForSnapshot", "CheckSnapshot", "SnapshotAvailable"),
    "migration": ("WaitForMigration", "CheckMigration", "MigrationDone"),
    "rollout": ("WaitForRollout", "CheckRollout", "RolloutDone"),
    "rollback": ("WaitForRollback", "CheckRollback", "RollbackDone"),
}


def function_memory_gb() -> dict[str, float]:
    """Function name -> memory in GB, from template.yaml (Globals, then the function's own)."""
    template = load_template(Path(__file__).resolve().parents[1] / "template.yaml")
    default = int(template["Globals"]["Function"].get("MemorySize", 128))
    return {
        name: int(resource["Properties"].get("MemorySize", default)) / 1024
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def dollars(run: TimelineRun) -> float:
    memory = function_memory_gb()
    compute = sum(memory[i.function_name] * ASSUMED_BILLED_SECONDS for i in run.invocations)
    return (
        run.transitions * STATE_TRANSITION_USD
        + run.lambda_invocations * LAMBDA_REQUEST_USD
        + compute * LAMBDA_ARM64_GB_SECOND_USD
    )


def checks_until(timeout_seconds: int, first_wait: int) -> int:
    """How many checks a phase that lasts its whole timeout gets (the waits of logic/polling.py)."""
    from deploy_pipeline.logic import polling

    return _waits_until(timeout_seconds, first_wait, lambda start: polling.next_wait(start, timeout_seconds))


def lock_waits_until(budget_seconds: int) -> int:
    """How many times a deployment waits for a held lock before LockWaitSeconds runs out (logic/lock.py)."""
    from deploy_pipeline.logic import lock

    return _waits_until(
        budget_seconds,
        lock.FIRST_WAIT_SECONDS["lock"],
        lambda start: lock.lock_wait(start, budget_seconds, first=False),
    )


def _waits_until(limit_seconds: int, first_wait: int, next_wait: Callable[[datetime], int]) -> int:
    """How many waits fit in `limit_seconds`, the pipeline's clock moved to each wait's end."""
    from deploy_pipeline.logic import polling

    start = datetime(2026, 1, 1, tzinfo=UTC)
    spent, waits = float(first_wait), 1
    saved = polling.clock
    try:
        while spent < limit_seconds:
            polling.clock = lambda at=start + timedelta(seconds=spent): at  # type: ignore[misc]
            spent += next_wait(start)
            waits += 1
    finally:
        polling.clock = saved
    return waits


def events_per_visit(run: TimelineRun) -> dict[str, float]:
    """History events per visit of each state, as the run's own history has them (a Lambda task 5, a
    waitForTaskToken task 6, a Choice 2). The timeline never waits for the lock: WaitForLock is the
    same kind of state as WaitForSnapshot (a waitForTaskToken task invoking AwaitEvent)."""
    events: dict[str, int] = {}
    visits: dict[str, int] = {}
    state = None
    for event in run.report.events:
        kind = str(event["type"])
        if kind.endswith("StateEntered"):
            state = event["stateEnteredEventDetails"]["name"]
            visits[state] = visits.get(state, 0) + 1
        if state is not None:
            events[state] = events.get(state, 0) + 1
        if kind.endswith("StateExited"):
            state = None
    per_visit = {name: events[name] / visits[name] for name in visits}
    return {"WaitForLock": per_visit["WaitForSnapshot"], **per_visit}


def longest_deployment_bound(rolled_back: TimelineRun) -> tuple[int, int]:
    """(transitions, history events) of the longest execution the template allows: it waits
    LockWaitSeconds for the lock, then its snapshot, migration and rollout each run to their longest
    timeout, the rollout fails, and the rollback (bounded by RolloutTimeoutSeconds) runs to it too.
    Built from the rolled-back run: each wait beyond that run's adds its loop's states, with the
    events per visit this run's history shows."""
    from deploy_pipeline.logic.polling import FIRST_WAIT_SECONDS

    per_visit = events_per_visit(rolled_back)
    visits = rolled_back.report.state_names
    transitions, events = rolled_back.transitions, rolled_back.history_events
    for phase, loop in WAIT_LOOPS.items():
        if phase == "lock":
            longest = lock_waits_until(LONGEST_TIMEOUT_SECONDS)
        else:
            longest = checks_until(LONGEST_TIMEOUT_SECONDS, FIRST_WAIT_SECONDS[phase])
        more = longest - visits.count(loop[0])
        transitions += more * len(loop)
        events += round(more * sum(per_visit[state] for state in loop))
    return transitions, events


def lags(run: TimelineRun) -> str:
    """Per phase; "-" for one that did not run (a point-in-time restore point takes no snapshot)."""
    return "/".join(f"{p.noticed_late_seconds:.0f}" if p.started else "-" for p in run.phases.values())


def main() -> None:
    print(
        f"timeline: snapshot {SNAPSHOT_SECONDS} s, migration {MIGRATION_SECONDS} s, rollout {ROLLOUT_SECONDS} s "
        f"(x0.5, x1, x2); rollback case: the rollout fails, rollback {ROLLBACK_SECONDS} s"
    )
    print(
        f"{'waits':12} {'scale':>5} {'case':>9} {'transitions':>11} {'invocations':>11} {'history':>7}"
        f" {'lag s (snap/migr/roll[/back])':>30} {'push->migration s':>17} {'$ / deployment':>14}"
    )
    cases = [
        *(("events", scale, False, None) for scale in (0.5, 1.0, 2.0)),
        ("events", 1.0, True, None),
        ("events", 1.0, False, 5.0),
        *(("events lost", scale, False, None) for scale in (0.5, 1.0, 2.0)),
        ("events lost", 1.0, True, None),
        ("fixed 10 s", 1.0, False, None),
    ]
    runs: list[tuple[str, str, TimelineRun]] = []
    for polling, scale, rollback, delay in cases:
        run = run_timeline(polling, scale=scale, rollback=rollback, delay_seconds=delay)  # type: ignore[arg-type]
        case = "rollback" if rollback else (f"delay {delay:.0f} s" if delay else "success")
        runs.append((polling, case, run))
        print(
            f"{polling:12} {scale:5.1f} {case:>9} {run.transitions:11d} {run.lambda_invocations:11d}"
            f" {run.history_events:7d} {lags(run):>30} {run.migration_started_after:17.0f} ${dollars(run):13.5f}"
        )

    def one(polling: str, case: str) -> TimelineRun:
        return next(run for p, c, run in runs if p == polling and c == case and run.scale == 1)

    typical = one("events", "success")
    transitions, history = longest_deployment_bound(one("events", "rollback"))
    worst_cost = max(dollars(run) for polling, _, run in runs if polling != "fixed 10 s")
    point_in_time = run_timeline("events", restore_point="point-in-time")
    print(
        f"push -> migration start: {typical.migration_started_after:.0f} s with RestorePoint=snapshot, "
        f"{point_in_time.migration_started_after:.0f} s with RestorePoint=point-in-time"
    )
    print(
        f"cost: at most ${worst_cost:.5f} per deployment on these timelines (goal <= ${GOAL_USD}); the longest "
        f"execution allowed (LockWaitSeconds and every phase's timeout at {LONGEST_TIMEOUT_SECONDS} s, the rollout "
        f"failing, the rollback as long): ~{transitions} transitions, ~{history} history events (limit "
        f"{HISTORY_LIMIT}), ${transitions * STATE_TRANSITION_USD:.4f} in transitions"
    )
    before, after = one("events lost", "rollback"), one("events", "rollback")
    print(
        "notice lag, polling alone (the design before events; every event lost) -> with events: "
        + ", ".join(
            f"{name} {before.phases[name].noticed_late_seconds:.0f} -> {after.phases[name].noticed_late_seconds:.0f} s"
            for name in before.phases
        )
    )
    # The goal holds at the assumed delivery delay; the 5 s case shows how the lag follows the delay.
    delivered = [run for polling, case, run in runs if polling == "events" and not case.startswith("delay")]
    worst = max(phase.noticed_late_seconds for run in delivered for phase in run.phases.values() if phase.started)
    print(f"worst notice lag: {worst:.0f} s (goal <= {GOAL_LAG_SECONDS:.0f} s)")


if __name__ == "__main__":
    main()
