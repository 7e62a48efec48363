"""What every migration tool's verifier provides, and the check they all share: is the table there, in this tool's shape.

Each verifier knows its bookkeeping table, what a failed or unfinished migration looks like in
it, and what "applied" and "latest" mean for its tool. Every check is one parameterised query
against a table name that is a constant of the verifier, so a verification costs the same few
statements whether the table holds ten rows or ten thousand.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from deploy_pipeline.verify.evidence import shorten
from deploy_pipeline.verify.read_only import ReadOnlySession

LISTED_ROWS = 5
"""Failed rows named in a detail; the rest are counted."""


@dataclass(frozen=True)
class Verdict:
    """A check's answer; the runner adds the check's name."""

    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class Progress:
    """How far the tool says the database is."""

    applied_count: int
    latest_applied: str | None


@dataclass(frozen=True)
class BookkeepingTable:
    """The tool's table: found through search_path as the tool finds it, and recognised by its columns."""

    name: str
    columns: tuple[str, ...]
    # A column another tool's same-named table has and this tool's has not -> that tool's name.
    foreign_columns: Mapping[str, str] = field(default_factory=dict)


# One row whatever happens: current_schemas for the "not found" message, and the table's columns.
_TABLE_SHAPE = """
SELECT current_schemas(false)::text[],
       n.nspname::text,
       c.relname::text,
       ARRAY(SELECT a.attname::text FROM pg_attribute AS a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum)
FROM (SELECT to_regclass(%s) AS oid) AS wanted
LEFT JOIN pg_class AS c ON c.oid = wanted.oid
LEFT JOIN pg_namespace AS n ON n.oid = c.relnamespace
"""

CheckQuery = Callable[[ReadOnlySession], Verdict]


class Verifier(ABC):
    """One migration tool's reading of its bookkeeping table."""

    tool: ClassVar[str]
    table: ClassVar[BookkeepingTable | None]

    def table_check(self, session: ReadOnlySession) -> Verdict:
        """The bookkeeping table exists where the application's search_path finds it, with this tool's columns."""
        table = self.table
        if table is None:
            return Verdict(True, "this tool keeps no bookkeeping table")
        rows = session.fetch(_TABLE_SHAPE, (table.name,))
        search_path, schema, relname, columns = rows[0]
        if relname is None:
            return Verdict(
                False,
                f"table {table.name} not found on the search_path ({', '.join(search_path) or 'empty'}): "
                f"nothing was migrated with {self.tool} here, or the secret points at another database",
            )
        missing = [column for column in table.columns if column not in columns]
        if missing:
            return Verdict(False, f"{table.name} has no column {missing[0]!r}: is verify tool {self.tool} right?")
        for column, other_tool in table.foreign_columns.items():
            if column in columns:
                return Verdict(
                    False,
                    f"{table.name} has a column {column!r}, as {other_tool} writes it: is verify tool {self.tool} right?",
                )
        return Verdict(True, f"{schema}.{relname}")

    def health_checks(self) -> Mapping[str, CheckQuery]:
        """Named checks of the table's state (failed rows, order, heads); none by default."""
        return {}

    @abstractmethod
    def expected_check(self, session: ReadOnlySession, migration: str) -> Verdict:
        """Whether `migration` (as the release names it) is applied."""

    @abstractmethod
    def progress(self, session: ReadOnlySession) -> Progress:
        """Applied count and latest applied migration, as the tool counts them."""

    def recent_applied(self, session: ReadOnlySession, count: int) -> list[str] | None:
        """The `count` migrations applied last, oldest first, where the tool keeps a row per migration;
        None for tools that keep only the current version (Alembic, golang-migrate)."""
        return None

    def applied_checksums(self, session: ReadOnlySession) -> list[tuple[str, str]] | None:
        """(name, checksum) of each applied migration, where the tool keeps the checksum the image's
        checksums label lists (sha256 hex of the migration file); None for tools that keep none, or
        another kind (Flyway's CRC32)."""
        return None


def listed(names: list[str], total: int) -> str:
    """ "a, b, c and 4 more": bounded, for a detail."""
    shown = ", ".join(shorten(name, 120) for name in names[:LISTED_ROWS])
    rest = total - min(len(names), LISTED_ROWS)
    return f"{shown} and {rest} more" if rest > 0 else shown


def leading_version(migration: str) -> str | None:
    """The version a file-named migration starts with: "20240101120000_add_users" -> "20240101120000"."""
    digits = migration.split("_", 1)[0]
    return digits if digits.isdigit() else None
