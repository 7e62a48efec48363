"""Verify at scale: 10,000 Prisma migration rows and 2,000 tables, one run_verification.

Prints the statements the verifier sent (counted by a recording connection, not estimated) and
the median wall time of several runs; asserts nothing. The goal is a constant statement count
and well under 250 ms. Needs a PostgreSQL it may create a database in: 127.0.0.1:5432 (user
postgres) or TEST_DATABASE_URL.

    .venv/bin/python benchmarks/verify_at_scale.py [--migrations 10000] [--tables 2000] [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from typing import Any

import psycopg2
import psycopg2.extensions
from deploy_pipeline.verify import capture_fingerprint, run_verification
from psycopg2 import sql

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

PRISMA_DDL = """
CREATE TABLE _prisma_migrations (
    id VARCHAR(36) PRIMARY KEY NOT NULL, checksum VARCHAR(64) NOT NULL, finished_at TIMESTAMPTZ,
    migration_name VARCHAR(255) NOT NULL, logs TEXT, rolled_back_at TIMESTAMPTZ,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(), applied_steps_count INTEGER NOT NULL DEFAULT 0
)
"""

# Timestamp-named migrations one minute apart. Every twentieth row is an attempt that failed and
# was resolved with --rolled-back; the next row re-applies the same name, as Prisma leaves it.
PRISMA_ROWS = """
INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, finished_at, rolled_back_at, logs,
                                applied_steps_count)
SELECT gen_random_uuid()::text, md5(i::text) || md5(i::text),
       to_char(timestamp '2020-01-01' + named * interval '1 minute', 'YYYYMMDDHH24MISS') || '_migration_' || named,
       now() - (%(n)s - i) * interval '1 minute' - interval '1 second',
       CASE WHEN failed THEN NULL ELSE now() - (%(n)s - i) * interval '1 minute' END,
       CASE WHEN failed THEN now() - (%(n)s - i) * interval '1 minute' END,
       CASE WHEN failed THEN E'external connector error\nNo such table: nope' END,
       CASE WHEN failed THEN 0 ELSE 1 END
FROM generate_series(1, %(n)s) AS i,
     LATERAL (SELECT i %% 20 = 0 AS failed) AS attempt,
     LATERAL (SELECT CASE WHEN failed THEN i + 1 ELSE i END AS named) AS migration
"""

# 2,000 tables of 6 columns, a primary key, a foreign key, a check, a unique and a plain index.
TABLES = """
DO $$
BEGIN
    FOR t IN %(first)s..%(last)s LOOP
        EXECUTE format(
            'CREATE TABLE app_%%1$s (id bigserial PRIMARY KEY, tenant_id int NOT NULL, name text NOT NULL DEFAULT '''','
            ' email varchar(320), amount numeric(12, 2) CHECK (amount >= 0), created_at timestamptz DEFAULT now(),'
            ' parent_id bigint REFERENCES app_%%1$s (id), UNIQUE (tenant_id, email))', t);
        EXECUTE format('CREATE INDEX app_%%1$s_created_idx ON app_%%1$s (created_at)', t);
    END LOOP;
END
$$
"""
TABLES_PER_TRANSACTION = 200


class CountingCursor(psycopg2.extensions.cursor):
    def execute(self, query: Any, vars: Any = None) -> Any:
        self.connection.statements += 1
        return super().execute(query, vars)


class CountingConnection(psycopg2.extensions.connection):
    """Counts every statement sent through a cursor, and every rollback (each ends one transaction)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.statements = 0
        self.rollbacks = 0

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cursor_factory", CountingCursor)
        return super().cursor(*args, **kwargs)

    def rollback(self) -> None:
        self.rollbacks += 1
        super().rollback()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--migrations", type=int, default=10_000)
    parser.add_argument("--tables", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=7)
    options = parser.parse_args()

    server = os.environ.get("TEST_DATABASE_URL") or DEFAULT_SERVER_URL
    name = f"emd_bench_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(server, connect_timeout=5)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = f"{server.rsplit('/', 1)[0]}/{name}"
    try:
        return run(url, options.migrations, options.tables, options.runs)
    finally:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()


def run(url: str, migrations: int, tables: int, runs: int) -> int:
    started = time.perf_counter()
    setup = psycopg2.connect(url)
    setup.autocommit = True
    with setup.cursor() as cur:
        cur.execute(PRISMA_DDL)
        cur.execute(PRISMA_ROWS, {"n": migrations})
        for first in range(1, tables + 1, TABLES_PER_TRANSACTION):  # one transaction would run out of locks
            cur.execute(TABLES, {"first": first, "last": min(first + TABLES_PER_TRANSACTION - 1, tables)})
        cur.execute("ANALYZE")
        cur.execute("SELECT count(*), count(DISTINCT migration_name) FROM _prisma_migrations")
        rows, names = cur.fetchone()
        cur.execute("SELECT max(migration_name) FROM _prisma_migrations WHERE finished_at IS NOT NULL")
        (expected,) = cur.fetchone()
    setup.close()
    print(
        f"setup: {rows} _prisma_migrations rows ({names} names), {tables} tables in {time.perf_counter() - started:.1f} s"
    )

    connection = psycopg2.connect(url, connection_factory=CountingConnection)
    try:
        t0 = time.perf_counter()
        baseline = capture_fingerprint(connection)
        capture_ms = (time.perf_counter() - t0) * 1000
        print(
            f"capture_fingerprint: {baseline.object_count} objects, {len(baseline.to_bytes()) / 1024:.0f} KiB stored, "
            f"{connection.statements} statements, {capture_ms:.0f} ms"
        )
        durations, statements, transactions = [], set(), set()
        for _ in range(runs):
            connection.statements = connection.rollbacks = 0
            t0 = time.perf_counter()
            result = run_verification(connection, tool="prisma", expected_migration=expected, baseline=baseline)
            durations.append((time.perf_counter() - t0) * 1000)
            statements.add(connection.statements)
            transactions.add(connection.rollbacks)
        failed = [check.name for check in result.checks if not check.passed]
        print(
            f"run_verification(prisma, expected, baseline): passed={result.passed} failed={failed} "
            f"applied={result.applied_count} latest={result.latest_applied}"
        )
        print(
            f"  statements per run: {sorted(statements)} (+ {sorted(transactions)} transaction(s): "
            "psycopg2's BEGIN and the closing ROLLBACK each)"
        )
        print(
            f"  time over {runs} runs: median {statistics.median(durations):.0f} ms, "
            f"min {min(durations):.0f} ms, max {max(durations):.0f} ms (goal < 250 ms)"
        )
    finally:
        connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
