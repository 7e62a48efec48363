"""One execution's history holds at most 25,000 events (Step Functions quotas: "Maximum execution
history size: 25,000 events"); past it the execution fails. Every wait loop at the largest timeout the
template allows must fit, all of them in one execution."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from deploy_pipeline.logic import polling
from deploy_pipeline.logic.lock import LOCK_MAX_ROUNDS, LOCK_MAX_WAIT_SECONDS, lock_wait
from deploy_pipeline.logic.polling import FIRST_WAIT_SECONDS, next_wait

from tests.static.static_support import template

HISTORY_LIMIT = 25_000
# History events per round, by the HistoryEvent types of the Step Functions API (and as the emulated
# history has them; benchmarks/deployment_cost.py counts them from a run):
# Every wait (the lock's and each phase's) is a waitForTaskToken task (entered, scheduled, started,
# submitted, succeeded or timed out, exited), then a Lambda task (entered, scheduled, started,
# succeeded, exited: AcquireLock or the phase's check) and a Choice (entered, exited).
EVENTS_PER_ROUND = 13
FIXED_EVENTS = 200  # every other state of the longest path, once, with generous retries


@contextmanager
def fake_clock() -> Iterator[list[datetime]]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    current = [start]
    saved = polling.clock
    polling.clock = lambda: current[0]
    try:
        yield current
    finally:
        polling.clock = saved


def rounds(budget: int, first: int, following: Callable[[datetime, int], int]) -> int:
    """How many check rounds a loop makes before `budget` seconds are spent."""
    with fake_clock() as current:
        started = current[0]
        count, wait = 0, first
        while (current[0] - started).total_seconds() < budget:
            count += 1
            current[0] += timedelta(seconds=wait)
            wait = following(started, budget)
        return count


def max_parameter(name: str) -> int:
    return int(template()["Parameters"][name]["MaxValue"])


def test_every_wait_loop_at_its_largest_timeout_fits_one_execution_history(capsys: pytest.CaptureFixture[str]) -> None:
    loops = {
        "lock": rounds(
            max_parameter("LockWaitSeconds"),
            FIRST_WAIT_SECONDS["lock"],
            lambda started, budget: lock_wait(started, budget, first=False),
        ),
        "snapshot": rounds(max_parameter("SnapshotTimeoutSeconds"), FIRST_WAIT_SECONDS["snapshot"], next_wait),
        "migration": rounds(max_parameter("MigrationTimeoutSeconds"), FIRST_WAIT_SECONDS["migration"], next_wait),
        "rollout": rounds(max_parameter("RolloutTimeoutSeconds"), FIRST_WAIT_SECONDS["rollout"], next_wait),
        "rollback": rounds(max_parameter("RolloutTimeoutSeconds"), FIRST_WAIT_SECONDS["rollback"], next_wait),
    }
    total = FIXED_EVENTS + EVENTS_PER_ROUND * sum(loops.values())
    with capsys.disabled():
        print(f"\nworst-case history: {total} events of {HISTORY_LIMIT} ({loops} rounds)")
    assert total < HISTORY_LIMIT


def test_the_lock_wait_capped_at_90_s_whatever_the_budget_would_not_have_fit() -> None:
    """The check above can fail: the lock's waits capped at 90 s for every budget (LOCK_MAX_ROUNDS
    ignored), with every phase at its largest timeout, overflow the history."""
    phases = sum(
        rounds(max_parameter(name), FIRST_WAIT_SECONDS[phase], next_wait)
        for name, phase in (
            ("SnapshotTimeoutSeconds", "snapshot"),
            ("MigrationTimeoutSeconds", "migration"),
            ("RolloutTimeoutSeconds", "rollout"),
            ("RolloutTimeoutSeconds", "rollback"),
        )
    )
    lock = rounds(
        max_parameter("LockWaitSeconds"),
        FIRST_WAIT_SECONDS["lock"],
        lambda started, budget: min(next_wait(started, budget), LOCK_MAX_WAIT_SECONDS),
    )
    assert FIXED_EVENTS + EVENTS_PER_ROUND * (lock + phases) > HISTORY_LIMIT


def test_the_lock_waits_stay_within_their_rounds_at_any_budget() -> None:
    for budget in (60, 1800, 36_000, 86_400):
        waits = rounds(budget, FIRST_WAIT_SECONDS["lock"], lambda started, b: lock_wait(started, b, first=False))
        assert waits <= LOCK_MAX_ROUNDS + 10, (budget, waits)
