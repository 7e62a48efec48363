"""Flyway: `flyway_schema_history`, one row per migration run, ranked in the order they ran.

`success = false` is a failed migration (kept on databases without transactional DDL, or until
`flyway repair`). Versioned migrations carry a version; repeatable ones (R__*.sql) have NULL and
count as applied without being "latest".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from deploy_pipeline.verify.evidence import stamp
from deploy_pipeline.verify.read_only import ReadOnlySession
from deploy_pipeline.verify.verifiers.base import (
    LISTED_ROWS,
    BookkeepingTable,
    CheckQuery,
    Progress,
    Verdict,
    Verifier,
)

_FAILED = """
SELECT installed_rank, coalesce(version, 'repeatable'), script, installed_on, count(*) OVER ()
FROM flyway_schema_history
WHERE NOT success
ORDER BY installed_rank
LIMIT %s
"""

# Versions compare numerically part by part (1.10 after 1.9), as Flyway does. A version that is
# not dot-separated digits cannot be compared that way and is left out of this check.
_OUT_OF_ORDER = """
WITH versioned AS (
    SELECT installed_rank, version, string_to_array(version, '.')::numeric[] AS parts
    FROM flyway_schema_history
    WHERE success AND version ~ '^[0-9]+(\\.[0-9]+)*$' AND type NOT IN ('SCHEMA', 'DELETE')
      AND type !~ '^UNDO'
), ranked AS (
    SELECT installed_rank, version, parts,
           lag(version) OVER (ORDER BY installed_rank) AS ran_before,
           lag(parts) OVER (ORDER BY installed_rank) AS ran_before_parts
    FROM versioned
)
SELECT ran_before, version, installed_rank, count(*) OVER ()
FROM ranked
WHERE ran_before_parts > parts
ORDER BY installed_rank
LIMIT 1
"""

_EXPECTED = """
SELECT count(*) FILTER (WHERE success), count(*) FILTER (WHERE NOT success)
FROM flyway_schema_history
WHERE version = %s OR script = %s
"""

_PROGRESS = """
SELECT (SELECT count(*) FROM flyway_schema_history WHERE success),
       (SELECT version FROM flyway_schema_history WHERE success AND version IS NOT NULL
        ORDER BY installed_rank DESC LIMIT 1)
"""

_RECENT = """
SELECT coalesce(version, description) FROM flyway_schema_history
WHERE success
ORDER BY installed_rank DESC
LIMIT %s
"""


class FlywayVerifier(Verifier):
    tool: ClassVar[str] = "flyway"
    table: ClassVar[BookkeepingTable | None] = BookkeepingTable(
        "flyway_schema_history", ("installed_rank", "version", "type", "script", "success")
    )

    def health_checks(self) -> Mapping[str, CheckQuery]:
        return {"no-failed-migrations": self._no_failed, "applied-in-order": self._in_order}

    def _no_failed(self, session: ReadOnlySession) -> Verdict:
        rows = session.fetch(_FAILED, (LISTED_ROWS,))
        if not rows:
            return Verdict(True)
        total = int(rows[0][4])
        named = "; ".join(
            f"{version} {script} (rank {rank}, {stamp(installed)})" for rank, version, script, installed, _ in rows
        )
        more = f"; and {total - len(rows)} more" if total > len(rows) else ""
        return Verdict(False, f"{total} failed migration{'s' if total != 1 else ''} (success = false): {named}{more}")

    def _in_order(self, session: ReadOnlySession) -> Verdict:
        rows = session.fetch(_OUT_OF_ORDER)
        if not rows:
            return Verdict(True)
        before, version, rank, total = rows[0]
        others = f" ({int(total) - 1} more out of order)" if int(total) > 1 else ""
        return Verdict(
            False, f"version {version} ran (rank {rank}) after version {before}: applied out of order{others}"
        )

    def expected_check(self, session: ReadOnlySession, migration: str) -> Verdict:
        """By version ("2.1") or by script name ("V2_1__add_users.sql")."""
        succeeded, failed = session.fetch(_EXPECTED, (migration, migration))[0]
        if succeeded:
            return Verdict(True, f"{migration} applied")
        if failed:
            return Verdict(False, f"{migration} failed (success = false)")
        return Verdict(False, f"{migration} is not applied (pending: no row in flyway_schema_history)")

    def progress(self, session: ReadOnlySession) -> Progress:
        count, latest = session.fetch(_PROGRESS)[0]
        return Progress(int(count), latest)

    def recent_applied(self, session: ReadOnlySession, count: int) -> list[str] | None:
        return [str(name) for (name,) in reversed(session.fetch(_RECENT, (count,)))]
