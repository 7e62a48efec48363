"""Run a whole verification: the tool's checks, the expected migration, the migrations' checksums, the
assertions, the schema diff.

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
from deploy_pipeline.models.migration_labels import LabelChecksums
from deploy_pipeline.models.state import (
    EXPECTED_MIGRATION_CHECK,
    MIGRATION_CHECKSUMS_CHECK,
    AppliedMigrations,
    CheckOutcome,
    VerificationResult,
)
from deploy_pipeline.verify.assertions import run_assertions
from deploy_pipeline.verify.evidence import shorten
from deploy_pipeline.verify.fingerprint import (
    DIFF_LIMIT,
    SchemaFingerprint,
    cap,
    count_changes,
    diff_fingerprints,
    read_fingerprint,
)
from deploy_pipeline.verify.read_only import QueryFailed, ReadOnlySession
from deploy_pipeline.verify.verifiers import VERIFIERS, Progress, Verdict, Verifier
from deploy_pipeline.verify.verifiers.base import CheckQuery, listed

TABLE_CHECK = "bookkeeping-table"
EXPECTED_CHECK = EXPECTED_MIGRATION_CHECK
CHECKSUMS_CHECK = MIGRATION_CHECKSUMS_CHECK
PROGRESS_CHECK = "applied-summary"
FINGERPRINT_CHECK = "schema-fingerprint"

# VerificationResult.latest_applied is a MigrationName; a name outside that pattern is reported
# in a check's detail instead of failing the result's validation.
RECENT_LIMIT = 20  # names of applied migrations in a result (the count is always whole)
_MIGRATION_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,255}$")


def run_verification(
    connection: psycopg2.extensions.connection,
    *,
    tool: str,
    expected_migration: str | None = None,
    checksums: LabelChecksums | None = None,
    assertions: Sequence[str] = (),
    baseline: SchemaFingerprint | None = None,
    before: Progress | None = None,
    statement_timeout_ms: int = 5000,
) -> VerificationResult:
    """Every check against the database on `connection` (idle; returned as found, nothing changed).

    `checksums`: the image's checksums label; each applied migration's checksum is compared with it
    (CHECKSUMS_CHECK, a warning: see `_checksums_check`). `before`: the tool's progress before the
    migration (CaptureBaseline), to say what this deployment applied.
    """
    verifier = VERIFIERS.get(tool)
    if verifier is None:
        raise ConfigurationError(f"unknown verify tool {tool!r}; known: {', '.join(sorted(VERIFIERS))}")
    checks: list[CheckOutcome] = []
    schema_diff: dict[str, list[str]] = {}
    schema_counts: dict[str, dict[str, int]] = {}
    with ReadOnlySession(connection, statement_timeout_ms=statement_timeout_ms, isolation="repeatable read") as session:
        progress = _bookkeeping_checks(session, verifier, expected_migration, checks)
        applied_now = _applied_now(session, verifier, before, progress) if _table_found(checks) else None
        if checksums is not None:
            checks.append(_checksums_check(session, verifier, checksums, table_found=_table_found(checks)))
        if baseline is not None:
            try:
                full_diff = diff_fingerprints(baseline, read_fingerprint(session), limit=None)
                schema_diff = {direction: cap(keys, DIFF_LIMIT) for direction, keys in full_diff.items()}
                schema_counts = count_changes(full_diff)
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
        passed=all(check.passed for check in checks if check.severity == "error"),
        applied_count=progress.applied_count,
        latest_applied=latest,
        checks=checks,
        schema_diff=schema_diff,
        schema_counts=schema_counts,
        applied_now=applied_now,
    )


def read_progress(
    connection: psycopg2.extensions.connection, *, tool: str, statement_timeout_ms: int = 5000
) -> Progress | None:
    """The tool's count and latest applied migration (no table yet: none applied), or None when it
    cannot be read (an unknown tool, a failed query): what was applied is then not reported."""
    verifier = VERIFIERS.get(tool)
    if verifier is None:
        return None
    with ReadOnlySession(connection, statement_timeout_ms=statement_timeout_ms) as session:
        try:
            if verifier.table is not None and not verifier.table_check(session).passed:
                return Progress(0, None)
            progress = verifier.progress(session)
        except QueryFailed:
            return None
    latest = progress.latest_applied
    return Progress(progress.applied_count, shorten(latest) if latest else None)


def _applied_now(
    session: ReadOnlySession, verifier: Verifier, before: Progress | None, after: Progress
) -> AppliedMigrations | None:
    if before is None:
        return None
    count = max(after.applied_count - before.applied_count, 0)
    try:
        names = verifier.recent_applied(session, min(count, RECENT_LIMIT)) if count else []
    except QueryFailed:
        names = None
    return AppliedMigrations(
        count=count,
        before=before.latest_applied,
        after=shorten(after.latest_applied) if after.latest_applied else None,
        names=[shorten(name) for name in names or []],
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


def _table_found(checks: list[CheckOutcome]) -> bool:
    return all(check.passed for check in checks if check.name == TABLE_CHECK)


def _checksums_check(
    session: ReadOnlySession, verifier: Verifier, checksums: LabelChecksums, *, table_found: bool
) -> CheckOutcome:
    """Applied migrations whose file changed after they were applied (drift), as a warning.

    A warning, not a failure: what is applied is what ran, and the release's own migrations passed
    the other checks; an edited old migration means the next fresh environment (or a `migrate
    reset`) builds a different schema than production has. Prisma itself only warns in production:
    `migrate deploy` prints "WARNING The following migrations have been modified since they were
    applied" and carries on (prisma/prisma#9154), while `migrate dev` asks to reset the database
    (Prisma docs, "About migration histories": "Prisma Migrate detects that a migration has changed,
    and asks to reset"). Failing the deployment, and rolling back a release whose migration is done,
    would punish the release for an old file. So it is recorded and notified, and the deployment goes
    on; a comparison that cannot be made is a warning too (the check is not working).
    """

    def warning(passed: bool, detail: str) -> CheckOutcome:
        return CheckOutcome(name=CHECKSUMS_CHECK, passed=passed, detail=detail, severity="warning")

    if not table_found:
        return warning(False, f"not compared: see the {TABLE_CHECK} check")
    try:
        rows = verifier.applied_checksums(session)
    except QueryFailed as exc:
        return warning(False, f"not compared: query failed: {exc}")
    if rows is None:
        return warning(False, f"not compared: {verifier.tool}'s table keeps no checksum of the migration files")
    verdicts = [(name, checksums.matches(name, checksum)) for name, checksum in rows]
    edited = sorted({name for name, same in verdicts if same is False})
    unlisted = len({name for name, same in verdicts if same is None})
    compared = len({name for name, same in verdicts if same is not None})
    others = f"; {unlisted} applied migration{'s are' if unlisted != 1 else ' is'} not in the image" if unlisted else ""
    if edited:
        return warning(
            False,
            f"{len(edited)} applied migration{'s were' if len(edited) != 1 else ' was'} edited after "
            f"{'they were' if len(edited) != 1 else 'it was'} applied (the image's migration.sql has another "
            f"checksum): {listed(edited, len(edited))}{others}. Restore the file as applied; a fresh database "
            "built from the image's migrations would differ from this one",
        )
    return warning(True, f"{compared} applied migrations match the image's checksums{others}")


def _check(name: str, query: CheckQuery, session: ReadOnlySession) -> CheckOutcome:
    try:
        verdict: Verdict = query(session)
    except QueryFailed as exc:
        verdict = Verdict(False, f"query failed: {exc}")
    return CheckOutcome(name=name, passed=verdict.passed, detail=verdict.detail)
