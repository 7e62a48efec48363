"""The database a release meets: "my database is at v1, I push v2".

A rehearsal on an empty database answers a different question from the one a release asks. The
scratch database can first be given a base state:
- `--from-database URL` copies an existing database (schema and data, e.g. a restored staging copy)
  with `pg_dump | pg_restore`. pg_dump reads in one repeatable-read snapshot and writes nothing to
  the source; the copy is the scratch database, dropped with it.
- `--base-ref GIT_REF` applies the project's migrations as they were at that commit (read with
  `git archive`, the working tree is not touched), so the release then applies only what is new.
Afterwards the scratch database's Prisma history is compared with the files (drift: a migration
edited after it was applied).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


class BaseStateError(Exception):
    """The base state could not be built: nothing was rehearsed (the original database is untouched)."""


@dataclass(frozen=True)
class CopiedDatabase:
    """What the copy holds: the user reads the rehearsal's timings against these numbers."""

    tables: int
    rows: int
    seconds: float

    def describe(self, source: str) -> str:
        return f"copy of {source}: {self.tables} tables, about {self.rows:,} rows, copied in {self.seconds:.1f}s"


def copy_database(source_url: str, target_url: str) -> CopiedDatabase:
    """Schema and data of `source_url` into the (empty) database at `target_url`.

    Owners and grants are left out (`--no-owner --no-privileges`): the roles of the source's server
    need not exist here, and the rehearsal connects as one user. Row counts are the planner's
    estimates after ANALYZE, which is exact for small tables and close for large ones.
    """
    for tool in ("pg_dump", "pg_restore"):
        if shutil.which(tool) is None:
            raise BaseStateError(f"--from-database needs {tool} (Debian/Ubuntu: apt-get install postgresql-client)")
    started = time.monotonic()
    dump = subprocess.Popen(
        ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--dbname", source_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    restore = subprocess.run(
        ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--dbname", target_url],
        stdin=dump.stdout,
        capture_output=True,
        text=True,
    )
    assert dump.stdout is not None and dump.stderr is not None
    dump.stdout.close()
    dump_error = dump.stderr.read().decode(errors="replace").strip()
    if dump.wait() != 0:
        raise BaseStateError(f"pg_dump of --from-database failed: {_first_line(dump_error)}")
    if restore.returncode != 0:
        raise BaseStateError(f"pg_restore into the scratch database failed: {_first_line(restore.stderr)}")
    import psycopg2  # only here: `lint` uses this module's checkout and needs no database driver

    with psycopg2.connect(target_url) as connection, connection.cursor() as cur:
        connection.autocommit = True
        cur.execute("ANALYZE")
        cur.execute(
            "SELECT count(*), coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
        )
        tables, rows = cur.fetchone() or (0, 0)
    connection.close()
    return CopiedDatabase(int(tables), int(rows), time.monotonic() - started)


def check_ref(folder: Path, ref: str) -> None:
    """BaseStateError unless `folder` is in a git repository where `ref` names a commit."""
    _git(folder.resolve(), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")


@contextmanager
def checkout(folder: Path, ref: str) -> Iterator[Path]:
    """`folder` as it was at commit `ref`, in a temporary directory (the working tree is not touched)."""
    folder = folder.resolve()
    top = _git(folder, "rev-parse", "--show-toplevel").strip()
    check_ref(folder, ref)
    relative = folder.relative_to(top)
    root = Path(tempfile.mkdtemp(prefix="emd-base-"))
    try:
        archive = root / "base.tar"
        _git(Path(top), "archive", "--format=tar", "--output", str(archive), ref, "--", str(relative) or ".")
        with tarfile.open(archive) as tar:
            tar.extractall(root / "tree", filter="data")
        base = root / "tree" / relative
        if not base.is_dir():
            raise BaseStateError(f"{relative} does not exist at {ref}")
        yield base
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _git(cwd: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        raise BaseStateError("--base-ref needs git") from None
    if done.returncode != 0:
        message = _first_line(done.stderr) or f"git {args[0]} failed"
        if args[:2] == ("rev-parse", "--verify"):
            message = f"{args[-1].removesuffix('^{commit}')} is not a commit of this repository"
        raise BaseStateError(f"--base-ref: {message}")
    return done.stdout


def prisma_drift(database_url: str, migrations_dir: Path) -> list[str]:
    """Applied migrations whose file changed since (checksum in `_prisma_migrations` != sha256 of the file).

    Prisma stores the sha256 of migration.sql when it applies it; `migrate dev` refuses a modified
    applied migration, `migrate deploy` does not look. A file edited after it reached a database is
    what this finds (a file that no longer exists is not drift: it is history).
    """
    import psycopg2

    with psycopg2.connect(database_url) as connection, connection.cursor() as cur:
        cur.execute("SELECT to_regclass('_prisma_migrations') IS NOT NULL")
        row = cur.fetchone()
        if not row or not row[0]:
            return []
        cur.execute(
            'SELECT migration_name, checksum FROM "_prisma_migrations" '
            "WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY migration_name"
        )
        applied = cur.fetchall()
    connection.close()
    drifted = []
    for name, checksum in applied:
        script = migrations_dir / name / "migration.sql"
        if script.is_file() and hashlib.sha256(script.read_bytes()).hexdigest() != checksum:
            drifted.append(name)
    return drifted


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")
