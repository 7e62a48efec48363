"""Fixtures of the operator CLI tests: a moto server in this process, and the stack the CLI finds on it
(tests/support/operator_stack.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.moto_server import MotoServer, running_moto_server
from tests.support.operator_stack import StackFactory, stack_factory
from tests.support.postgres import ScratchDatabase


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    with running_moto_server() as server:
        yield server


@pytest.fixture
def make_stack(moto_server: MotoServer, scratch_database: ScratchDatabase, tmp_path: Path) -> Iterator[StackFactory]:
    """Reset the server, build the world through it, and register the stack the CLI discovers."""
    with stack_factory(moto_server, scratch_database, tmp_path) as build:
        yield build
