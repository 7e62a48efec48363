"""What a release's migrations lock, measured while they run on a copy of a real database.

`rehearse --from-database` runs the migrator on a copy with the original's data, so the locks it
takes there are the ones production will see, for about as long as the data makes them last. A
second connection samples `pg_locks` joined to `pg_stat_activity` every `interval` seconds while the
migrator runs: the relation-level locks granted to any other session of the scratch database, with
the statement that session runs. Each sample is attributed to the migration whose SQL that statement
is (Prisma, Flyway and golang-migrate send a migration file as one query; `pg_stat_activity.query`
keeps its first `track_activity_query_size` bytes, 1 kB by default, so a prefix is compared), else to
the statement itself (Alembic sends one statement at a time).

Per migration and table, the report keeps the strongest mode seen and how long it was held: from the
first to the last sample that saw it, plus one interval (the lock may have been taken up to one
interval before the first sample and released up to one after the last). A lock held for less than
one interval may not be seen at all: such a lock matters only when it has to wait behind production's
traffic, which `lint` flags from the SQL (a missing lock_timeout). Locks weaker than SHARE
UPDATE EXCLUSIVE (what plain reads and writes take) are left out: they block nothing a release worries
about. Mode names and what each blocks: PostgreSQL documentation, "Explicit Locking", Table 13.2
(Conflicting Lock Modes).

The copy has the original's rows but none of its load: on a busy production database, queries queue
behind an ACCESS EXCLUSIVE request (and the request behind them), so the report states the rows per
table it measured on and that no concurrent load was there.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

# From weakest to strongest (PostgreSQL's pg_locks.mode names).
MODES = (
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
)
REPORTED_FROM = MODES.index("ShareUpdateExclusiveLock")
NAMES = {
    "ShareUpdateExclusiveLock": "SHARE UPDATE EXCLUSIVE",
    "ShareLock": "SHARE",
    "ShareRowExclusiveLock": "SHARE ROW EXCLUSIVE",
    "ExclusiveLock": "EXCLUSIVE",
    "AccessExclusiveLock": "ACCESS EXCLUSIVE",
}
BLOCKS = {
    "ShareUpdateExclusiveLock": "blocks other schema changes and VACUUM, not reads or writes",
    "ShareLock": "blocks writes; reads go on",
    "ShareRowExclusiveLock": "blocks writes; reads go on",
    "ExclusiveLock": "blocks writes; reads go on",
    "AccessExclusiveLock": "blocks reads and writes",
}
_PREFIX = 200  # characters of a statement compared with a migration's SQL

_SAMPLE = """
SELECT clock_timestamp(), l.mode, n.nspname, c.relname, left(a.query, 1000)
FROM pg_locks AS l
JOIN pg_stat_activity AS a ON a.pid = l.pid
JOIN pg_class AS c ON c.oid = l.relation
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE l.locktype = 'relation' AND l.granted AND a.datname = current_database()
  AND l.pid <> pg_backend_pid() AND c.relkind IN ('r', 'p', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
"""
_ROWS = """
SELECT n.nspname, c.relname, greatest(c.reltuples, 0)::bigint
FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
"""


@dataclass(frozen=True)
class Sample:
    at: datetime
    mode: str
    table: str  # schema-qualified unless in public, quoted as PostgreSQL would print it
    query: str


@dataclass(frozen=True)
class HeldLock:
    """The strongest lock one migration (or statement) held on one table, and for how long."""

    what: str
    table: str
    mode: str
    seconds: float
    rows: int | None  # the copy's row estimate for the table (after ANALYZE)

    def describe(self) -> str:
        size = f"; {self.rows:,} rows in the copy" if self.rows is not None else ""
        return f"{self.what}: {NAMES[self.mode]} on {self.table} for {self.seconds:.1f} s ({BLOCKS[self.mode]}{size})"

    def as_json(self) -> dict[str, Any]:
        return {
            "migration": self.what,
            "table": self.table,
            "mode": NAMES[self.mode],
            "seconds": round(self.seconds, 2),
            "blocks": BLOCKS[self.mode],
            "rows": self.rows,
        }


@dataclass
class LockSampler:
    """Samples the scratch database's relation locks in a thread while the migrator runs."""

    database_url: str
    interval: float = 0.05
    samples: list[Sample] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    error: str | None = None  # why sampling stopped early (the report says it is incomplete)

    @contextmanager
    def sampling(self) -> Iterator[None]:
        import psycopg2

        connection = psycopg2.connect(self.database_url, application_name="ecs-migrate-deploy lock sampler")
        connection.autocommit = True
        with connection.cursor() as cur:
            cur.execute(_ROWS)
            self.rows.update({_qualified(schema, name): int(rows) for schema, name, rows in cur.fetchall()})
        stop = threading.Event()
        worker = threading.Thread(target=self._sample, args=(connection, stop), name="lock-sampler", daemon=True)
        worker.start()
        try:
            yield
        finally:
            stop.set()
            worker.join(timeout=10)
            connection.close()

    def _sample(self, connection: Any, stop: threading.Event) -> None:
        import psycopg2

        try:
            with connection.cursor() as cur:
                while not stop.is_set():
                    cur.execute(_SAMPLE)
                    self.samples.extend(
                        Sample(at, mode, _qualified(schema, name), query or "")
                        for at, mode, schema, name, query in cur.fetchall()
                    )
                    stop.wait(self.interval)
        except psycopg2.Error as exc:
            self.error = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__

    def report(self, migrations: Mapping[str, str]) -> list[HeldLock]:
        """The strongest lock per (migration, table), in the order they were first taken."""
        held: dict[tuple[str, str], list[Sample]] = {}
        for sample in self.samples:
            if sample.mode not in MODES or MODES.index(sample.mode) < REPORTED_FROM:
                continue
            held.setdefault((_label(sample.query, migrations), sample.table), []).append(sample)
        locks = []
        for (what, table), seen in held.items():
            strongest = max((s.mode for s in seen), key=MODES.index)
            times = [s.at for s in seen if s.mode == strongest]
            seconds = (max(times) - min(times)).total_seconds() + self.interval
            locks.append((min(s.at for s in seen), HeldLock(what, table, strongest, seconds, self.rows.get(table))))
        return [lock for _, lock in sorted(locks, key=lambda item: item[0])]


def _qualified(schema: str, name: str) -> str:
    quoted = f'"{name}"'
    return quoted if schema == "public" else f'"{schema}".{quoted}'


def _label(query: str, migrations: Mapping[str, str]) -> str:
    """The migration whose SQL the statement is, else the statement's first line."""
    text = query.strip()
    if text:
        for name, sql in migrations.items():
            body = sql.strip()
            if body and body[:_PREFIX] == text[:_PREFIX]:
                return name
    first = text.splitlines()[0] if text else "(statement not shown)"
    return f"statement `{first[:80]}{'…' if len(first) > 80 else ''}`"


def prisma_migrations(migrations_dir: Path | None) -> dict[str, str]:
    """Name -> SQL of each migration in a Prisma migrations folder (empty for other tools)."""
    if migrations_dir is None:
        return {}
    return {
        folder.name: (folder / "migration.sql").read_text(encoding="utf-8", errors="replace")
        for folder in sorted(migrations_dir.iterdir())
        if (folder / "migration.sql").is_file()
    }


NO_LOAD = (
    "measured on a copy without concurrent load: in production, queries queue behind an ACCESS EXCLUSIVE "
    "request, so a lock held for N s here can stall traffic for longer; tables larger than the copy's hold "
    "their locks longer"
)
