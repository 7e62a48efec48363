"""Adaptive waits: short at first, growing with the time spent, capped, and bounded by the timeout."""

from __future__ import annotations

from datetime import timedelta

from deploy_pipeline.logic.polling import GROWTH, MAX_WAIT_SECONDS, MIN_WAIT_SECONDS, next_wait, now


def test_wait_grows_with_time_spent_within_bounds() -> None:
    assert next_wait(now(), 3600) == MIN_WAIT_SECONDS
    assert next_wait(now() - timedelta(seconds=100), 3600) == int(100 * GROWTH)
    assert next_wait(now() - timedelta(seconds=3000), 36000) == MAX_WAIT_SECONDS


def test_wait_does_not_overshoot_the_timeout_much() -> None:
    assert next_wait(now() - timedelta(seconds=590), 600) <= 11
