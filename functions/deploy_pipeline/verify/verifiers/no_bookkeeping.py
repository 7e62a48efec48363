"""`none`: the release's migrations keep no table we can read; only the SQL assertions speak."""

from __future__ import annotations

from typing import ClassVar

from deploy_pipeline.verify.read_only import ReadOnlySession
from deploy_pipeline.verify.verifiers.base import BookkeepingTable, Progress, Verdict, Verifier


class NoBookkeepingVerifier(Verifier):
    tool: ClassVar[str] = "none"
    table: ClassVar[BookkeepingTable | None] = None

    def expected_check(self, session: ReadOnlySession, migration: str) -> Verdict:
        """Fails rather than pretends: asking for a migration here is a configuration mistake worth seeing."""
        return Verdict(
            False,
            f"verify tool 'none' keeps no bookkeeping table, so {migration} cannot be checked: "
            "configure the migration tool, or express the expectation as an SQL assertion",
        )

    def progress(self, session: ReadOnlySession) -> Progress:
        return Progress(0, None)
