"""Rails (Active Record): `schema_migrations(version varchar)`, one row per applied migration.

Rails records a version after its migration committed and keeps no failure state or apply time,
so presence is all there is to check. Same table name as golang-migrate, different shape: a
`dirty` column means the wrong verify tool was configured.
"""

from __future__ import annotations

from typing import ClassVar

from deploy_pipeline.verify.read_only import ReadOnlySession
from deploy_pipeline.verify.verifiers.base import BookkeepingTable, Progress, Verdict, Verifier, leading_version

_EXPECTED = """
SELECT count(*)
FROM schema_migrations
WHERE version = %s
"""

# Numeric order without a cast that a stray non-numeric version would break: longer is larger.
_PROGRESS = """
SELECT count(*) OVER (), version
FROM schema_migrations
ORDER BY length(version) DESC, version COLLATE "C" DESC
LIMIT 1
"""

_RECENT = """
SELECT version FROM schema_migrations
ORDER BY length(version) DESC, version COLLATE "C" DESC
LIMIT %s
"""


class RailsVerifier(Verifier):
    tool: ClassVar[str] = "rails"
    table: ClassVar[BookkeepingTable | None] = BookkeepingTable(
        "schema_migrations", ("version",), foreign_columns={"dirty": "golang-migrate"}
    )

    def expected_check(self, session: ReadOnlySession, migration: str) -> Verdict:
        """By version ("20240101120000") or file name ("20240101120000_create_users")."""
        version = leading_version(migration) or migration
        (rows,) = session.fetch(_EXPECTED, (version,))[0]
        if rows:
            return Verdict(True, f"{version} applied")
        return Verdict(False, f"{version} is not applied (pending: no row in schema_migrations)")

    def progress(self, session: ReadOnlySession) -> Progress:
        rows = session.fetch(_PROGRESS)
        return Progress(int(rows[0][0]), rows[0][1]) if rows else Progress(0, None)

    def recent_applied(self, session: ReadOnlySession, count: int) -> list[str] | None:
        return [str(name) for (name,) in reversed(session.fetch(_RECENT, (count,)))]
