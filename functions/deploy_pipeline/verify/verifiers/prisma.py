"""Prisma Migrate: `_prisma_migrations`, one row per attempt to apply a migration.

A failed `migrate deploy` leaves a row with finished_at and rolled_back_at NULL (and the statements
before the failing one applied: Prisma's migrations are not atomic). `migrate resolve --rolled-back`
sets rolled_back_at on that row, and the fixed re-deploy adds a second row with the same name. So a
name is applied when ANY of its rows finished and was not rolled back, and `migrate status` saying
"up to date" is not evidence: it is satisfied by a rolled-back row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from deploy_pipeline.verify.evidence import log_summary, stamp
from deploy_pipeline.verify.read_only import ReadOnlySession
from deploy_pipeline.verify.verifiers.base import (
    LISTED_ROWS,
    BookkeepingTable,
    CheckQuery,
    Progress,
    Verdict,
    Verifier,
)

# Prisma's names are "<14-digit timestamp>_<name>" and Prisma orders them bytewise: compare in
# the "C" collation, not the database's (where "_" may sort after letters).
_FAILED = """
SELECT migration_name, started_at, left(logs, 2000), count(*) OVER ()
FROM _prisma_migrations
WHERE finished_at IS NULL AND rolled_back_at IS NULL
ORDER BY started_at, migration_name
LIMIT %s
"""

_OUT_OF_ORDER = """
WITH applied AS (
    SELECT migration_name, min(finished_at) AS finished_at
    FROM _prisma_migrations
    WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL
    GROUP BY migration_name
), in_apply_order AS (
    SELECT migration_name, finished_at,
           lag(migration_name) OVER (ORDER BY finished_at, migration_name COLLATE "C") AS applied_before
    FROM applied
)
SELECT applied_before, migration_name, finished_at, count(*) OVER ()
FROM in_apply_order
WHERE applied_before COLLATE "C" > migration_name COLLATE "C"
ORDER BY finished_at, migration_name COLLATE "C"
LIMIT 1
"""

_EXPECTED = """
SELECT count(*) FILTER (WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL),
       count(*) FILTER (WHERE finished_at IS NULL AND rolled_back_at IS NULL),
       count(*) FILTER (WHERE rolled_back_at IS NOT NULL),
       max(finished_at) FILTER (WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL)
FROM _prisma_migrations
WHERE migration_name = %s
"""

_APPLIED_CHECKSUMS = """
SELECT migration_name, checksum
FROM _prisma_migrations
WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL
ORDER BY migration_name COLLATE "C"
"""

_PROGRESS = """
SELECT count(DISTINCT migration_name), max(migration_name COLLATE "C")
FROM _prisma_migrations
WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL
"""

_RECENT = """
SELECT migration_name FROM _prisma_migrations
WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL
ORDER BY finished_at DESC, migration_name COLLATE "C" DESC
LIMIT %s
"""


class PrismaVerifier(Verifier):
    tool: ClassVar[str] = "prisma"
    table: ClassVar[BookkeepingTable | None] = BookkeepingTable(
        "_prisma_migrations",
        ("id", "checksum", "finished_at", "migration_name", "logs", "rolled_back_at", "started_at"),
    )

    def health_checks(self) -> Mapping[str, CheckQuery]:
        return {"no-failed-migrations": self._no_failed, "applied-in-order": self._in_order}

    def _no_failed(self, session: ReadOnlySession) -> Verdict:
        rows = session.fetch(_FAILED, (LISTED_ROWS,))
        if not rows:
            return Verdict(True)
        total = int(rows[0][3])
        named = "; ".join(
            f"{name} (started {stamp(started)}{', logs: ' + log_summary(logs) if logs else ''})"
            for name, started, logs, _ in rows
        )
        more = f"; and {total - len(rows)} more" if total > len(rows) else ""
        return Verdict(
            False,
            f"{total} migration{'s' if total != 1 else ''} failed or unfinished "
            f"(finished_at and rolled_back_at NULL): {named}{more}",
        )

    def _in_order(self, session: ReadOnlySession) -> Verdict:
        rows = session.fetch(_OUT_OF_ORDER)
        if not rows:
            return Verdict(True)
        before, name, finished, total = rows[0]
        others = f" ({int(total) - 1} more out of order)" if int(total) > 1 else ""
        return Verdict(
            False,
            f"{name} was applied at {stamp(finished)}, after {before} which sorts later: "
            f"an older migration was merged after newer ones ran{others}",
        )

    def expected_check(self, session: ReadOnlySession, migration: str) -> Verdict:
        applied, failed, rolled_back, finished = session.fetch(_EXPECTED, (migration,))[0]
        if applied:
            return Verdict(True, f"{migration} applied at {stamp(finished)}")
        if failed:
            return Verdict(False, f"{migration} failed and is not applied")
        if rolled_back:
            return Verdict(
                False, f"{migration} was marked rolled back (migrate resolve --rolled-back) and not applied again"
            )
        return Verdict(False, f"{migration} is not applied (pending: no row in _prisma_migrations)")

    def progress(self, session: ReadOnlySession) -> Progress:
        count, latest = session.fetch(_PROGRESS)[0]
        return Progress(int(count), latest)

    def recent_applied(self, session: ReadOnlySession, count: int) -> list[str] | None:
        return [str(name) for (name,) in reversed(session.fetch(_RECENT, (count,)))]

    def applied_checksums(self, session: ReadOnlySession) -> list[tuple[str, str]] | None:
        """Applied rows only: a rolled-back row keeps the checksum of the file as it was when it failed,
        and the fixed file is then applied under a second row (prisma/prisma#9829)."""
        return [(str(name), str(checksum)) for name, checksum in session.fetch(_APPLIED_CHECKSUMS)]
