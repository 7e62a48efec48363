"""The built-in Prisma stand-in writes `_prisma_migrations` the way Prisma 6 does (compared with the real CLI below)."""

from __future__ import annotations

import hashlib
import io
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ecs_migrate_deploy.prisma_runner import deploy
from ecs_migrate_deploy.real_prisma import prisma_binary, prisma_environment, prisma_project
from tests.support.postgres import ScratchDatabase, scratch_database_named

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@contextmanager
def scratch(label: str) -> Iterator[ScratchDatabase]:
    with scratch_database_named(f"emd_test_{label}") as database:
        yield database


def write(root: Path, name: str, sql: str) -> Path:
    folder = root / "prisma" / "migrations" / name
    folder.mkdir(parents=True)
    (folder / "migration.sql").write_text(sql)
    return folder / "migration.sql"


def test_applies_pending_migrations_once_with_prisma_bookkeeping(
    tmp_path: Path, scratch_database: ScratchDatabase
) -> None:
    first = write(tmp_path, "20240101000000_init", 'CREATE TABLE "User" (id serial PRIMARY KEY, email text);')
    write(
        tmp_path,
        "20240102000000_posts",
        'CREATE TABLE "Post" (id serial PRIMARY KEY);\nALTER TABLE "Post" ADD COLUMN title text;',
    )
    out = io.StringIO()
    assert deploy(scratch_database.url, tmp_path, out) == 0
    assert "All migrations have been successfully applied." in out.getvalue()
    assert deploy(scratch_database.url, tmp_path, io.StringIO()) == 0  # nothing pending: no new rows
    with scratch_database.connect() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT migration_name, checksum, finished_at IS NOT NULL, applied_steps_count, rolled_back_at, logs "
            'FROM "_prisma_migrations" ORDER BY migration_name'
        )
        rows = cur.fetchall()
        cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'Post' ORDER BY 1")
        assert [r[0] for r in cur.fetchall()] == ["id", "title"]
    assert [r[0] for r in rows] == ["20240101000000_init", "20240102000000_posts"]
    assert rows[0][1] == hashlib.sha256(first.read_bytes()).hexdigest()
    assert all(r[2] and r[3] == 1 and r[4] is None and r[5] is None for r in rows)


def test_a_failing_script_leaves_none_of_itself_and_blocks_the_next_deploy(
    tmp_path: Path, scratch_database: ScratchDatabase
) -> None:
    write(
        tmp_path,
        "20240101000000_init",
        "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\nALTER TABLE nope ADD COLUMN x int;",
    )
    out = io.StringIO()
    assert deploy(scratch_database.url, tmp_path, out) == 1
    assert "P3018" in out.getvalue() and "Migration name: 20240101000000_init" in out.getvalue()
    with scratch_database.connect() as conn, conn.cursor() as cur:
        cur.execute('SELECT finished_at, rolled_back_at, applied_steps_count, logs FROM "_prisma_migrations"')
        finished, rolled_back, steps, logs = cur.fetchone()
        cur.execute("SELECT to_regclass('a') IS NOT NULL, to_regclass('b') IS NOT NULL")
        assert cur.fetchone() == (False, False)  # one simple-query message: one implicit transaction
    assert finished is None and rolled_back is None and steps == 0
    assert 'relation "nope" does not exist' in logs
    again = io.StringIO()
    assert deploy(scratch_database.url, tmp_path, again) == 1
    assert "P3009" in again.getvalue()


def bookkeeping(database: ScratchDatabase) -> list[tuple[object, ...]]:
    """What the verifier reads, per row: the parts that do not depend on the clock or a uuid."""
    with database.connect() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT migration_name, checksum, finished_at IS NOT NULL, rolled_back_at IS NOT NULL, "
            'applied_steps_count, logs IS NOT NULL FROM "_prisma_migrations" ORDER BY migration_name, started_at'
        )
        return list(cur.fetchall())


def schema(database: ScratchDatabase) -> dict[str, list[tuple[object, ...]]]:
    """Tables, functions (with their bodies), triggers, comments, extensions and data: what a migration makes."""
    queries = {
        "tables": "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
        "functions": "SELECT proname, prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE nspname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e') "
        "ORDER BY 1",
        "triggers": "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1",
        "comments": "SELECT description FROM pg_description d JOIN pg_class c ON c.oid = d.objoid "
        "WHERE c.relnamespace = 'public'::regnamespace UNION ALL SELECT description FROM pg_description d "
        "JOIN pg_proc p ON p.oid = d.objoid WHERE p.pronamespace = 'public'::regnamespace ORDER BY 1",
        "extensions": "SELECT extname FROM pg_extension ORDER BY 1",
    }
    with database.connect() as conn, conn.cursor() as cur:
        found: dict[str, list[tuple[object, ...]]] = {}
        for name, query in queries.items():
            cur.execute(query)
            found[name] = list(cur.fetchall())
        if found["tables"] and ("Account",) in found["tables"]:
            cur.execute('SELECT email, note FROM "Account" ORDER BY email')
            found["accounts"] = list(cur.fetchall())
        return found


@pytest.mark.parametrize("example", ["shop", "broken", "plpgsql"])
def test_builtin_runner_writes_what_real_prisma_writes(example: str, tmp_path: Path) -> None:
    """The rehearsal's fallback runner against the real `prisma migrate deploy` (6.19.3, package.json)
    on the bundled examples: same exit codes, same bookkeeping rows, same schema, same refusal after a
    failure. `plpgsql` holds what splitting a script on `;` breaks: dollar-quoted function and trigger
    bodies, a DO block, semicolons in literals and comments, COMMENT ON, CREATE EXTENSION IF NOT EXISTS."""
    binary = prisma_binary()
    assert binary is not None, "Prisma 6 is not installed in node_modules: run `make install`"
    migrations = EXAMPLES / example / "prisma" / "migrations"
    with scratch("real") as real_db, scratch("builtin") as builtin_db, prisma_project(migrations, binary) as project:
        real = [
            subprocess.run(
                [str(binary), "migrate", "deploy"],
                cwd=project,
                env=prisma_environment(project, real_db.url),
                capture_output=True,
                timeout=120,
            ).returncode
            for _ in range(2)
        ]
        builtin = [deploy(builtin_db.url, EXAMPLES / example, io.StringIO()) for _ in range(2)]
        assert real == builtin
        assert real[0] == (1 if example == "broken" else 0)
        assert bookkeeping(real_db) == bookkeeping(builtin_db)
        assert schema(real_db) == schema(builtin_db)
