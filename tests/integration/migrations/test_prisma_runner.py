"""The built-in Prisma stand-in writes `_prisma_migrations` the way Prisma 6 does (EMULATION-NOTES.md)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from ecs_migrate_deploy.prisma_runner import deploy, split_statements
from tests.conftest import ScratchDatabase


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


def test_failure_is_not_atomic_and_blocks_the_next_deploy(tmp_path: Path, scratch_database: ScratchDatabase) -> None:
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
        assert cur.fetchone() == (True, True)  # statements before the failing one stayed applied
    assert finished is None and rolled_back is None and steps == 0
    assert 'relation "nope" does not exist' in logs
    again = io.StringIO()
    assert deploy(scratch_database.url, tmp_path, again) == 1
    assert "P3009" in again.getvalue()


def test_statement_splitter_respects_quotes_comments_and_dollar_bodies() -> None:
    script = """
    -- a comment; not a statement
    INSERT INTO t VALUES ('a;b', 'it''s');
    /* block ; comment */
    CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END; $body$ LANGUAGE plpgsql;
    SELECT "odd;name" FROM t
    """
    statements = split_statements(script)
    assert len(statements) == 3
    assert statements[1].startswith("/* block ; comment */\n    CREATE FUNCTION")
    assert statements[2] == 'SELECT "odd;name" FROM t'
