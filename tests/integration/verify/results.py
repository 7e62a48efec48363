"""Reading a VerificationResult in tests: which checks passed, and what one of them said."""

from __future__ import annotations

from deploy_pipeline.models.state import VerificationResult


def outcome(result: VerificationResult) -> dict[str, bool]:
    """Check name -> passed, in the order the checks ran."""
    return {check.name: check.passed for check in result.checks}


def detail(result: VerificationResult, name: str) -> str:
    return next(check.detail for check in result.checks if check.name == name)
