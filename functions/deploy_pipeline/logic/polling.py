"""How long Step Functions waits before the next check: adaptive, so a deployment costs few transitions.

Since the waits became event-driven (logic/wakeups.py), this interval is the fallback: a wait ends
when AWS's event for the phase arrives, and at the latest after this interval, when the check runs as
it always did. The figures below are the polling alone, i.e. with every event lost.

Each Wait → Check → Choice round costs three state transitions (Standard workflows bill per
transition), and a phase's check notices completion only when it runs. The wait after a check is
GROWTH x the time the phase has taken so far (within [MIN, MAX]), so the number of checks grows
with the logarithm of a phase's duration while the delay in noticing its end stays a bounded
fraction of it: at most GROWTH (75 %), ~30 % on average. The first wait is the phase's shortest
plausible duration: migrations often finish in seconds ("nothing to apply"), a snapshot takes a
minute or more, and an ECS rollout waits for health checks and connection draining.

Measured with benchmarks/deployment_cost.py on a typical timeline (snapshot 5 min, migration 2 min,
rollout 8 min), every transition counted from the execution history:
- polling every 10 s: 285 transitions, 99 Lambda invocations; each end noticed within 10 s;
- first waits 30/15/30 s and GROWTH 0.6 (the previous tuning): 72 transitions, 28 invocations;
  ends noticed ~8 s, ~45 s and ~12 s late;
- these values: 57 transitions, 23 invocations; ends noticed ~20 s, ~17 s and ~84 s late. Over phase
  durations from half to twice the typical ones, 59 transitions on average, notices ~30 % late on
  average and at most ~75 % (the previous tuning: 74 transitions, ~27 % and ~60 %).
Fewer transitions would need a larger GROWTH (1.0: ~54 transitions, up to 100 % late) or longer first
waits, which make the common fast migration wait for nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

FIRST_WAIT_SECONDS = {"lock": 30, "snapshot": 60, "migration": 15, "rollout": 60, "rollback": 60}
MIN_WAIT_SECONDS = 10
MAX_WAIT_SECONDS = 300
GROWTH = 0.75


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
    """Wait GROWTH x the time spent so far, within [MIN, MAX] seconds, never far past the timeout."""
    spent = max(elapsed_seconds(started_at), 0.0)
    wait = min(max(int(spent * GROWTH), MIN_WAIT_SECONDS), MAX_WAIT_SECONDS)
    remaining = int(timeout_seconds - spent)
    return max(min(wait, remaining + 1), 1)


def request_time(when: datetime) -> str:
    """A request time as a fixed-width UTC ISO string: such strings order like the times they name
    (the deployments table compares them in a condition expression)."""
    return when.astimezone(UTC).isoformat(timespec="microseconds")
