"""Alembic: `alembic_version` holds the current head revision(s), nothing else.

There is no history and no failure row: a failed `alembic upgrade` on PostgreSQL rolls its
transaction back and leaves the previous head. Two rows mean the database sits on two branch
heads (`upgrade heads` on an unmerged history), which a release is not expected to do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from deploy_pipeline.verify.read_only import ReadOnlySession
from deploy_pipeline.verify.verifiers.base import (
    LISTED_ROWS,
    BookkeepingTable,
    CheckQuery,
    Progress,
    Verdict,
    Verifier,
    listed,
)

# Alembic revisions are hex ids or chosen slugs: compare in "C" so the listing is stable.
_HEADS = """
SELECT version_num, count(*) OVER ()
FROM alembic_version
ORDER BY version_num COLLATE "C"
LIMIT %s
"""

_EXPECTED = """
SELECT count(*) FILTER (WHERE version_num = %s), count(*), min(version_num COLLATE "C")
FROM alembic_version
"""

_PROGRESS = """
SELECT count(*), min(version_num COLLATE "C")
FROM alembic_version
"""


class AlembicVerifier(Verifier):
    tool: ClassVar[str] = "alembic"
    table: ClassVar[BookkeepingTable | None] = BookkeepingTable("alembic_version", ("version_num",))

    def health_checks(self) -> Mapping[str, CheckQuery]:
        return {"single-head": self._single_head}

    def _single_head(self, session: ReadOnlySession) -> Verdict:
        rows = session.fetch(_HEADS, (LISTED_ROWS,))
        total = int(rows[0][1]) if rows else 0
        if total <= 1:
            return Verdict(True, "no revision applied" if total == 0 else "")
        heads = listed([str(row[0]) for row in rows], total)
        return Verdict(False, f"alembic_version holds {total} heads: {heads} (merge them with `alembic merge`)")

    def expected_check(self, session: ReadOnlySession, migration: str) -> Verdict:
        """Equal to a head: alembic_version names only heads, so an ancestor of the head cannot be told
        from a revision never applied without the migration scripts. Name the release's head revision."""
        matches, heads, head = session.fetch(_EXPECTED, (migration,))[0]
        if matches:
            return Verdict(True, f"{migration} is the head")
        if not heads:
            return Verdict(False, f"{migration} is not applied: alembic_version is empty")
        where = f"at {head}" if heads == 1 else f"on {heads} heads"
        return Verdict(False, f"{migration} is not the head: the database is {where}")

    def progress(self, session: ReadOnlySession) -> Progress:
        count, head = session.fetch(_PROGRESS)[0]
        return Progress(int(count), head if count == 1 else None)
