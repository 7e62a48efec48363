"""golang-migrate: `schema_migrations(version bigint, dirty boolean)`, a single row.

Only the current version is kept. `dirty = true` means the migration to that version failed
halfway; golang-migrate refuses to run until someone fixes the database and runs `migrate force`.
Versions apply in ascending order, so every version up to the current one is applied.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from deploy_pipeline.verify.read_only import ReadOnlySession
from deploy_pipeline.verify.verifiers.base import (
    BookkeepingTable,
    CheckQuery,
    Progress,
    Verdict,
    Verifier,
    leading_version,
)

_STATE = """
SELECT count(*), max(version), bool_or(dirty)
FROM schema_migrations
"""


class GolangMigrateVerifier(Verifier):
    tool: ClassVar[str] = "golang-migrate"
    table: ClassVar[BookkeepingTable | None] = BookkeepingTable("schema_migrations", ("version", "dirty"))

    def health_checks(self) -> Mapping[str, CheckQuery]:
        return {"no-failed-migrations": self._not_dirty}

    def _not_dirty(self, session: ReadOnlySession) -> Verdict:
        rows, version, dirty = session.fetch(_STATE)[0]
        if dirty:
            return Verdict(
                False,
                f"version {version} is dirty: its migration failed halfway; fix the database, then `migrate force`",
            )
        if rows > 1:
            return Verdict(False, f"schema_migrations holds {rows} rows; golang-migrate keeps exactly one")
        return Verdict(True)

    def expected_check(self, session: ReadOnlySession, migration: str) -> Verdict:
        """Applied when the current version is past it, or is it and clean. Accepts "42" or "42_add_users"."""
        wanted = leading_version(migration)
        if wanted is None:
            return Verdict(False, f"{migration!r} is not a golang-migrate version (digits, optionally _name)")
        rows, version, dirty = session.fetch(_STATE)[0]
        if rows == 0:
            return Verdict(False, f"{migration} is not applied: schema_migrations is empty")
        if version > int(wanted) or (version == int(wanted) and not dirty):
            return Verdict(True, f"at version {version}")
        if version == int(wanted):
            return Verdict(False, f"{migration} is dirty: it failed halfway")
        return Verdict(False, f"{migration} is not applied: the database is at version {version}")

    def progress(self, session: ReadOnlySession) -> Progress:
        """golang-migrate does not count migrations: 1 when a version is recorded."""
        rows, version, _ = session.fetch(_STATE)[0]
        return Progress(min(int(rows), 1), None if version is None else str(version))
