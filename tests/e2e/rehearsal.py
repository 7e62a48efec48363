"""Running `ecs-migrate-deploy rehearse` as a user does (a subprocess), and reading what it left."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg2
from psycopg2 import sql

from tests.support.postgres import server_url

ROOT = Path(__file__).resolve().parents[2]


def rehearse(*args: str, database_url: str | None = None) -> tuple[int, dict[str, Any] | None, str]:
    env = {**os.environ, "TEST_DATABASE_URL": database_url or server_url()}
    done = subprocess.run(
        [sys.executable, "-m", "ecs_migrate_deploy.cli", "rehearse", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    payload = json.loads(done.stdout) if done.stdout.strip().startswith("{") else None
    return done.returncode, payload, done.stderr


def query(database: str, statement: str) -> list[tuple[Any, ...]]:
    base = server_url().rsplit("/", 1)[0]
    with psycopg2.connect(f"{base}/{database}") as conn, conn.cursor() as cur:
        cur.execute(statement)
        rows = list(cur.fetchall())
    conn.close()
    return rows


def database_exists(name: str) -> bool:
    with psycopg2.connect(server_url()) as conn, conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        found = cur.fetchone() is not None
    conn.close()
    return found


def live_view(*args: str) -> subprocess.CompletedProcess[str]:
    """`rehearse ARGS` without --json: what a person sees (stdout) and its exit code."""
    return subprocess.run(
        [sys.executable, "-m", "ecs_migrate_deploy.cli", "rehearse", *args],
        cwd=ROOT,
        env={**os.environ, "TEST_DATABASE_URL": server_url()},
        capture_output=True,
        text=True,
        timeout=300,
    )


@contextmanager
def original_database(prefix: str) -> Iterator[str]:
    """A new database on the test server standing for a user's own (what `--from-database` copies):
    its URL, dropped afterwards."""
    admin = psycopg2.connect(server_url())
    admin.autocommit = True
    name = f"{prefix}_{os.urandom(4).hex()}"
    with admin.cursor() as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield server_url().rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()
