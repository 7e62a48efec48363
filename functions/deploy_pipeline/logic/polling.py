"""How long Step Functions waits before the next check: adaptive, so a deployment costs few transitions.

Each Wait → Check → Choice round costs three state transitions. Polling every 10 s would cost
~270 transitions for a 15-minute deployment; growing the interval with the time already spent
keeps the count near a dozen rounds while adding at most ~50 % latency to a long phase.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

FIRST_WAIT_SECONDS = {"lock": 30, "snapshot": 30, "migration": 15, "rollout": 30, "rollback": 30}
MIN_WAIT_SECONDS = 10
MAX_WAIT_SECONDS = 300
GROWTH = 0.6


def _system_clock() -> datetime:
    return datetime.now(UTC)


# The only source of "now" in the pipeline; the local emulator replaces it with a clock that also
# counts the Wait-state time it skipped, so timeouts and TTLs behave as on AWS.
clock: Callable[[], datetime] = _system_clock


def now() -> datetime:
    return clock()


def elapsed_seconds(started_at: datetime) -> float:
    return (now() - started_at).total_seconds()


def next_wait(started_at: datetime, timeout_seconds: int) -> int:
    """Wait ~60 % of the time spent so far, within [10 s, 300 s], never far past the timeout."""
    spent = max(elapsed_seconds(started_at), 0.0)
    wait = min(max(int(spent * GROWTH), MIN_WAIT_SECONDS), MAX_WAIT_SECONDS)
    remaining = int(timeout_seconds - spent)
    return max(min(wait, remaining + 1), 1)
