"""Hardening tests: hostile input, identifiers, secrets in what the pipeline emits, least privilege.

The workflow fixture (`make_pipeline`: an emulated stack whose secret points at a scratch database
with a known password) is the workflow tests' own, shared rather than copied (tests/support/pipeline.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.pipeline import PipelineFactory, pipeline_factory
from tests.support.postgres import ScratchDatabase


@pytest.fixture
def make_pipeline(scratch_database: ScratchDatabase) -> Iterator[PipelineFactory]:
    """The workflow tests' `make_pipeline` (tests/workflow/conftest.py)."""
    with pipeline_factory(scratch_database) as build:
        yield build
