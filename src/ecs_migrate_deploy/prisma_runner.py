"""A stand-in for `prisma migrate deploy` where Prisma's schema engine cannot run (no download here).

It applies `migrations/<name>/migration.sql` in name order and keeps `_prisma_migrations` exactly as
Prisma 6 does (tests/integration/migrations/test_prisma_runner.py compares the rows it leaves with
those of the real CLI, 6.19.3): checksum = sha256 hex of the file's bytes; a row is inserted with
`started_at` before the script runs; on success `finished_at` and `applied_steps_count = 1` are set; on failure the row keeps `finished_at IS NULL`, `logs` holds the
error, and the exit code is 1. A later run refuses to continue (P3009) while such a row exists.

The script is never split: it goes to PostgreSQL whole, as one simple-query message, as Prisma's
schema engine sends it. PostgreSQL runs such a message as one implicit transaction ("When a simple
Query message contains more than one SQL statement ... those statements are executed as a single
transaction, unless explicit transaction control commands are included", PostgreSQL documentation,
"Multiple Statements in a Simple Query"): a failing script leaves none of its statements applied,
unless it commits by itself.

Run as `python -m ecs_migrate_deploy.prisma_runner [DIR]` with DATABASE_URL set.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # psycopg2 is imported where a migration runs: `lint` and `image-labels` only list them
    import psycopg2.extensions

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)
"""


@dataclass(frozen=True)
class Migration:
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def find_migrations_dir(root: Path) -> Path | None:
    """Where Prisma would read the migrations of the project in `root`.

    `prisma.config.ts`'s `migrations: { path: "…" }` first (Prisma 6.6+ and 7 read it there), then
    `migrations/` beside the configured schema, Prisma's default `prisma/migrations`, `migrations/`,
    and `root` itself (when it is the migrations folder).
    """
    configured = _configured_paths(root)
    candidates = [root / path for path in configured]
    candidates += [root / "prisma" / "migrations", root / "prisma" / "schema" / "migrations", root / "migrations", root]
    for candidate in candidates:
        if any(candidate.glob("*/migration.sql")):
            return candidate
    return _folder_with_lock_file(root) if _config_file(root) else None


def _folder_with_lock_file(root: Path, depth: int = 4) -> Path | None:
    """The one folder holding Prisma's `migration_lock.toml` (written in every migrations folder) and
    migrations, at most `depth` levels down, for a project whose config computes the path
    (`path.join(…)`: TypeScript we do not run). None when there are several (a monorepo root).
    node_modules and hidden folders are not searched."""
    found: list[Path] = []
    for directory, subdirs, files in os.walk(root):
        level = len(Path(directory).relative_to(root).parts)
        subdirs[:] = [d for d in sorted(subdirs) if d != "node_modules" and not d.startswith(".") and level < depth]
        if "migration_lock.toml" in files and any(Path(directory).glob("*/migration.sql")):
            found.append(Path(directory))
    return found[0] if len(found) == 1 else None


_CONFIG_NAMES = ("prisma.config.ts", "prisma.config.mts", "prisma.config.js", ".config/prisma.ts")
_CONFIG_MIGRATIONS = re.compile(r"migrations\s*:\s*\{[^}]*?\bpath\s*:\s*[\"'`]([^\"'`]+)[\"'`]", re.S)
_CONFIG_SCHEMA = re.compile(r"\bschema\s*:\s*[\"'`]([^\"'`]+)[\"'`]")


def _config_file(root: Path) -> Path | None:
    return next((root / name for name in _CONFIG_NAMES if (root / name).is_file()), None)


def _configured_paths(root: Path) -> list[str]:
    """Migrations folders named by `prisma.config.ts` (read as text: we do not run TypeScript)."""
    config = _config_file(root)
    if config is None:
        return []
    text = config.read_text(encoding="utf-8", errors="replace")
    paths = _CONFIG_MIGRATIONS.findall(text)
    schema = _CONFIG_SCHEMA.search(text)
    if schema:
        schema_path = Path(schema.group(1))
        paths.append(str((schema_path if not schema_path.suffix else schema_path.parent) / "migrations"))
    return paths


def list_migrations(directory: Path) -> list[Migration]:
    """Every folder of `directory`, in name order (files such as migration_lock.toml are not migrations).

    A folder without `migration.sql` is listed too: Prisma refuses it (P3015) and so does `deploy`.
    """
    return sorted(
        (Migration(p.name, p / "migration.sql") for p in directory.iterdir() if p.is_dir()),
        key=lambda m: m.name,
    )


def deploy(database_url: str, root: Path, out: TextIO = sys.stdout) -> int:
    """Apply pending migrations like `prisma migrate deploy`; returns the process exit code."""
    directory = find_migrations_dir(root)
    if directory is None:
        print(f"No migration found in {root}/prisma/migrations", file=out)
        return 0
    migrations = list_migrations(directory)
    missing = next((m for m in migrations if not m.path.is_file()), None)
    if missing is not None:
        print(
            f"Error: P3015\n\nCould not find the migration file at {missing.path}. "
            "Please delete the directory or restore the migration file.",
            file=out,
        )
        return 1
    print(f"{len(migrations)} migration{'s' if len(migrations) != 1 else ''} found in {directory}", file=out)
    import psycopg2

    connection = psycopg2.connect(database_url)
    connection.autocommit = True
    try:
        with connection.cursor() as cur:
            cur.execute(CREATE_TABLE)
            cur.execute('SELECT migration_name, finished_at, rolled_back_at FROM "_prisma_migrations"')
            rows = cur.fetchall()
        failed = [name for name, finished, rolled_back in rows if finished is None and rolled_back is None]
        if failed:
            print(
                "Error: P3009\n\nmigrate found failed migrations in the target database, new migrations will not be "
                f"applied.\nThe `{failed[0]}` migration started at ... failed",
                file=out,
            )
            return 1
        applied = {name for name, finished, rolled_back in rows if finished is not None and rolled_back is None}
        done: list[str] = []
        for migration in migrations:
            if migration.name in applied:
                continue
            if not _apply(connection, migration, out):
                return 1
            done.append(migration.name)
    finally:
        connection.close()
    if done:
        print("\nThe following migration(s) have been applied:\n\nmigrations/", file=out)
        for name in done:
            print(f"  └─ {name}/\n    └─ migration.sql", file=out)
        print("\nAll migrations have been successfully applied.", file=out)
    else:
        print("\nNo pending migrations to apply.", file=out)
    return 0


def _apply(connection: psycopg2.extensions.connection, migration: Migration, out: TextIO) -> bool:
    row_id = str(uuid.uuid4())
    print(f"Applying migration `{migration.name}`", file=out)
    with connection.cursor() as cur:
        cur.execute(
            'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) '
            "VALUES (%s, %s, %s, now(), 0)",
            (row_id, migration.checksum, migration.name),
        )
        from psycopg2 import Error as DatabaseError

        try:
            cur.execute(migration.sql)  # no parameters: psycopg2 sends the text as it is
        except DatabaseError as exc:
            code = exc.pgcode or "unknown"
            message = (exc.pgerror or str(exc)).strip()
            logs = f"Database error code: {code}\n\nDatabase error:\n{message}"
            cur.execute('UPDATE "_prisma_migrations" SET logs = %s WHERE id = %s', (logs, row_id))
            print(
                f"Error: P3018\n\nA migration failed to apply. New migrations cannot be applied before the "
                f"error is recovered from. Read more about how to resolve migration issues in a production "
                f"database: https://pris.ly/d/migrate-resolve\n\nMigration name: {migration.name}\n\n{logs}",
                file=out,
            )
            return False
        cur.execute(
            'UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = %s',
            (row_id,),
        )
    return True


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    args = [a for a in args if a not in ("migrate", "deploy")]
    url = os.environ.get("DATABASE_URL")
    if not url:
        print("Error: Environment variable not found: DATABASE_URL.", file=sys.stderr)
        return 1
    root = Path(args[0]) if args else Path.cwd()
    return deploy(url, root)


if __name__ == "__main__":
    sys.exit(main())
