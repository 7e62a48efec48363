"""Run a whole verification: the tool's checks, the expected migration, the assertions, the schema diff.

A failed check is an answer, not an exception: the result names every check and says which
failed, so one Lambda run tells the operator everything that is wrong. Exceptions are kept for
"cannot answer": an unknown tool (ConfigurationError) or a database that went away
(DatabaseUnreachable).

The tool's checks and the fingerprint share one REPEATABLE READ, read-only transaction: they see
the same snapshot, even if something writes to the database meanwhile.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import psycopg2.extensions

from deploy_pipeline.errors import ConfigurationError
from deploy_pipeline.models.state import CheckOutcome, VerificationResult
from deploy_pipeline.verify.assertions import run_assertions
from deploy_pipeline.verify.evidence import shorten
from deploy_pipeline.verify.fingerprint import SchemaFingerprint, diff_fingerprints, read_fingerprint
from deploy_pipeline.verify.read_only import QueryFailed, ReadOnlySession
from deploy_pipeline.verify.verifiers import VERIFIERS, Progress, Verdict, Verifier
from deploy_pipeline.verify.verifiers.base import CheckQuery

TABLE_CHECK = "bookkeeping-table"
EXPECTED_CHECK = "expected-migration"
PROGRESS_CHECK = "applied-summary"
FINGERPRINT_CHECK = "schema-fingerprint"

# VerificationResult.latest_applied is a MigrationName; a name outside that pattern is reported
# in a check's detail instead of failing the result's validation.
_MIGRATION_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,255}$")


def run_verification(
    connection: psycopg2.extensions.connection,
    *,
    tool: str,
    expected_migration: str | None = None,
    assertions: Sequence[str] = (),
    baseline: SchemaFingerprint | None = None,
    statement_timeout_ms: int = 5000,
) -> VerificationResult:
    """Every check against the database on `connection` (idle; returned as found, nothing changed)."""
    verifier = VERIFIERS.get(tool)
    if verifier is None:
        raise ConfigurationError(f"unknown verify tool {tool!r}; known: {', '.join(sorted(VERIFIERS))}")
    checks: list[CheckOutcome] = []
    schema_diff: dict[str, list[str]] = {}
    with ReadOnlySession(connection, statement_timeout_ms=statement_timeout_ms, isolation="repeatable read") as session:
        progress = _bookkeeping_checks(session, verifier, expected_migration, checks)
        if baseline is not None:
            try:
                schema_diff = diff_fingerprints(baseline, read_fingerprint(session))
            except QueryFailed as exc:
                checks.append(
                    CheckOutcome(name=FINGERPRINT_CHECK, passed=False, detail=f"could not read the catalog: {exc}")
                )
        session.end_transaction()
        checks.extend(run_assertions(session, assertions))
    latest = progress.latest_applied
    if latest is not None and not _MIGRATION_NAME.match(latest):
        checks.append(CheckOutcome(name=PROGRESS_CHECK, passed=True, detail=f"latest applied: {shorten(latest)}"))
        latest = None
    return VerificationResult(
        tool=tool,
        passed=all(check.passed for check in checks),
        applied_count=progress.applied_count,
        latest_applied=latest,
        checks=checks,
        schema_diff=schema_diff,
    )


def _bookkeeping_checks(
    session: ReadOnlySession, verifier: Verifier, expected_migration: str | None, checks: list[CheckOutcome]
) -> Progress:
    """The table check gates the rest: without the table, only "expected migration" has something to say."""
    if verifier.table is not None:
        table = _check(TABLE_CHECK, verifier.table_check, session)
        checks.append(table)
        if not table.passed:
            if expected_migration is not None:
                checks.append(
                    CheckOutcome(
                        name=EXPECTED_CHECK,
                        passed=False,
                        detail=f"{expected_migration} cannot be confirmed: see the {TABLE_CHECK} check",
                    )
                )
            return Progress(0, None)
        for name, query in verifier.health_checks().items():
            checks.append(_check(name, query, session))
    if expected_migration is not None:
        checks.append(_check(EXPECTED_CHECK, lambda s: verifier.expected_check(s, expected_migration), session))
    try:
        return verifier.progress(session)
    except QueryFailed as exc:
        checks.append(CheckOutcome(name=PROGRESS_CHECK, passed=False, detail=f"query failed: {exc}"))
        return Progress(0, None)


def _check(name: str, query: CheckQuery, session: ReadOnlySession) -> CheckOutcome:
    try:
        verdict: Verdict = query(session)
    except QueryFailed as exc:
        verdict = Verdict(False, f"query failed: {exc}")
    return CheckOutcome(name=name, passed=verdict.passed, detail=verdict.detail)
