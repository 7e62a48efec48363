"""Fixtures of the workflow tests: the emulated stack (tests/support/pipeline.py) on a scratch database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.pipeline import PipelineFactory, pipeline_factory
from tests.support.postgres import ScratchDatabase


@pytest.fixture
def make_pipeline(scratch_database: ScratchDatabase) -> Iterator[PipelineFactory]:
    """Build the emulated stack; the secret points at the scratch database (with a password set
    on a dedicated role, so the tests can prove it never appears in what the pipeline emits)."""
    with pipeline_factory(scratch_database) as build:
        yield build
