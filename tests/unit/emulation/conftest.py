"""Fixtures for the emulation harness's own tests: a small world (tests/support/emulation.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ecs_migrate_deploy.emulation import Emulator
from tests.support.emulation import small_spec


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(small_spec()) as emu:
        yield emu
