"""Shared fixtures: a real PostgreSQL scratch database per test (tests/support/postgres.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.postgres import ScratchDatabase, scratch_database_named


@pytest.fixture
def scratch_database() -> Iterator[ScratchDatabase]:
    """A database created for this test and dropped after it; never one the test did not create."""
    with scratch_database_named("emd_test") as database:
        yield database
