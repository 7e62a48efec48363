"""Hardening tests: hostile input, identifiers, secrets in what the pipeline emits, least privilege.

The workflow fixture (`make_pipeline`: an emulated stack whose secret points at a scratch database
with a known password) is the workflow tests' own, shared rather than copied.
"""

from __future__ import annotations

from tests.workflow.conftest import make_pipeline

__all__ = ["make_pipeline"]
