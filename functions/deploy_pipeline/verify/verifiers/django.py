"""Django: `django_migrations(app, name, applied)`, one row per applied migration.

Django writes the row after the migration succeeded and keeps no failure state. Its migrations
form a dependency graph per app, not a sequence, so there is no order to check either: this
verifier checks presence and reports progress.
"""

from __future__ import annotations

from typing import ClassVar

from deploy_pipeline.verify.evidence import stamp
from deploy_pipeline.verify.read_only import ReadOnlySession
from deploy_pipeline.verify.verifiers.base import BookkeepingTable, Progress, Verdict, Verifier

_EXPECTED = """
SELECT count(*), max(applied)
FROM django_migrations
WHERE app || '.' || name = %s OR name = %s
"""

_PROGRESS = """
SELECT count(*) OVER (), app || '.' || name
FROM django_migrations
ORDER BY applied DESC, id DESC
LIMIT 1
"""

_RECENT = """
SELECT app || '.' || name FROM django_migrations
ORDER BY applied DESC, id DESC
LIMIT %s
"""


class DjangoVerifier(Verifier):
    tool: ClassVar[str] = "django"
    table: ClassVar[BookkeepingTable | None] = BookkeepingTable("django_migrations", ("id", "app", "name", "applied"))

    def expected_check(self, session: ReadOnlySession, migration: str) -> Verdict:
        """By "app.name" ("shop.0002_orders") or by name alone ("0002_orders", any app)."""
        rows, applied = session.fetch(_EXPECTED, (migration, migration))[0]
        if rows:
            return Verdict(True, f"{migration} applied at {stamp(applied)}")
        return Verdict(False, f"{migration} is not applied (pending: no row in django_migrations)")

    def progress(self, session: ReadOnlySession) -> Progress:
        rows = session.fetch(_PROGRESS)
        return Progress(int(rows[0][0]), rows[0][1]) if rows else Progress(0, None)

    def recent_applied(self, session: ReadOnlySession, count: int) -> list[str] | None:
        return [str(name) for (name,) in reversed(session.fetch(_RECENT, (count,)))]
