"""What the verifier sends: a constant number of statements, all in read-only transactions, nothing left open."""

from __future__ import annotations

from collections.abc import Callable

import psycopg2.extensions
import pytest
from deploy_pipeline.verify import capture_fingerprint, run_verification

from tests.integration.verify.scratch_db import RecordingConnection, VerifyDb
from tests.integration.verify.tool_tables import PRISMA_DDL

START = "SET TRANSACTION ISOLATION LEVEL"


def prisma_history(db: VerifyDb, migrations: int, tables: int) -> None:
    db.execute(PRISMA_DDL)
    db.execute(
        "INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, finished_at, applied_steps_count)"
        " SELECT i::text, repeat('a', 64), to_char(i, 'FM00000000000000') || '_m',"
        "        now() + i * interval '1 second', now() + i * interval '1 second', 1"
        " FROM generate_series(1, %s) AS i",
        (migrations,),
    )
    for table in range(tables):
        db.execute(f"CREATE TABLE t{table} (id serial PRIMARY KEY, v text NOT NULL DEFAULT '')")
        db.execute(f"CREATE INDEX t{table}_v_idx ON t{table} (v)")


def verify_and_record(open_connection: Callable[[], RecordingConnection]) -> RecordingConnection:
    connection = open_connection()
    baseline = capture_fingerprint(connection)
    connection.statements.clear()
    connection.rollbacks = 0
    result = run_verification(
        connection,
        tool="prisma",
        expected_migration="00000000000001_m",
        assertions=["SELECT 1", "SELECT 2"],
        baseline=baseline,
    )
    assert result.passed, result.checks
    return connection


@pytest.mark.parametrize("size", [(3, 2), (600, 40)])
def test_statement_count_does_not_grow_with_migrations_or_tables(
    verify_db: VerifyDb, recording_connect: Callable[[], RecordingConnection], size: tuple[int, int]
) -> None:
    prisma_history(verify_db, *size)

    connection = verify_and_record(recording_connect)

    # 1 transaction for the tool's checks and the fingerprint, 1 per assertion; each opens with
    # 2 statements (read-only + limits): 2 + 5 Prisma queries + 1 catalog query, + 2 * (2 + 1).
    assert len(connection.statements) == 14
    assert connection.rollbacks == 3


def test_every_transaction_is_read_only_and_the_connection_is_left_idle(
    verify_db: VerifyDb, recording_connect: Callable[[], RecordingConnection]
) -> None:
    prisma_history(verify_db, 3, 1)

    connection = verify_and_record(recording_connect)

    starts = [i for i, statement in enumerate(connection.statements) if statement.startswith(START)]
    assert starts == [0, 8, 11]
    assert all(connection.statements[i].endswith("READ ONLY") for i in starts)
    assert all("statement_timeout" in connection.statements[i + 1] for i in starts)
    assert connection.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_IDLE
    assert connection.autocommit is False


def test_autocommit_connection_is_given_back_in_autocommit(verify_db: VerifyDb) -> None:
    connection = verify_db.connect()
    connection.autocommit = True
    try:
        assert run_verification(connection, tool="none", assertions=["SELECT 1"]).passed
        assert connection.autocommit is True
    finally:
        connection.close()


def test_connection_with_an_open_transaction_is_refused(verify_db: VerifyDb) -> None:
    connection = verify_db.connect()
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
        with pytest.raises(ValueError, match="no transaction open"):
            run_verification(connection, tool="none")
    finally:
        connection.close()
