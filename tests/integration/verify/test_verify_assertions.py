"""SQL assertions: one read-only, time-boxed transaction each; errors are failed checks, never a broken run."""

from __future__ import annotations

import time

import psycopg2.extensions
from deploy_pipeline.verify import run_verification

from tests.integration.verify.results import detail, outcome
from tests.integration.verify.scratch_db import VerifyDb

Conn = psycopg2.extensions.connection


def orders(db: VerifyDb) -> None:
    db.execute("CREATE TABLE orders (id serial PRIMARY KEY, status text NOT NULL)")
    db.execute("INSERT INTO orders VALUES (1, 'paid'), (2, 'shipped')")


def test_passing_and_failing_assertions(verify_db: VerifyDb, verify_conn: Conn) -> None:
    orders(verify_db)

    result = run_verification(
        verify_conn,
        tool="none",
        assertions=[
            "SELECT 1 FROM orders WHERE status = 'paid'",
            "SELECT 1 FROM orders WHERE status = 'refunded'",
            "SELECT 1 FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'status';",
        ],
    )

    assert outcome(result) == {"assertion[1]": True, "assertion[2]": False, "assertion[3]": True}
    assert detail(result, "assertion[2]") == "returned no rows: SELECT 1 FROM orders WHERE status = 'refunded'"
    assert not result.passed


def test_write_attempts_fail_and_change_nothing(verify_db: VerifyDb, verify_conn: Conn) -> None:
    orders(verify_db)

    result = run_verification(
        verify_conn,
        tool="none",
        assertions=[
            "DELETE FROM orders RETURNING id",
            "WITH gone AS (DELETE FROM orders RETURNING id) SELECT * FROM gone",
            "SELECT 1; COMMIT; DELETE FROM orders",
            "SELECT id FROM orders FOR UPDATE",
            "SELECT nextval(pg_get_serial_sequence('orders', 'id'))",
            "CREATE TABLE sneaky (id int)",
        ],
    )

    assert not any(outcome(result).values())
    assert detail(result, "assertion[1]").startswith("cannot execute DELETE in a read-only transaction")
    assert detail(result, "assertion[2]").startswith("cannot execute SELECT in a read-only transaction")
    assert detail(result, "assertion[3]").startswith("holds 3 statements; an assertion must be one query")
    assert "read-only transaction" in detail(result, "assertion[4]")
    assert detail(result, "assertion[5]").startswith("cannot execute nextval() in a read-only transaction")
    assert detail(result, "assertion[6]").startswith("cannot execute CREATE TABLE in a read-only transaction")
    assert verify_db.rows("SELECT id, status FROM orders ORDER BY id") == [(1, "paid"), (2, "shipped")]
    assert verify_db.rows("SELECT to_regclass('sneaky')") == [(None,)]


def test_slow_assertion_is_cut_by_the_statement_timeout(verify_conn: Conn) -> None:
    started = time.monotonic()
    result = run_verification(
        verify_conn, tool="none", assertions=["SELECT pg_sleep(5)", "SELECT 1"], statement_timeout_ms=300
    )

    assert time.monotonic() - started < 4  # cut well before the 5 s sleep, with room for a loaded machine
    assert outcome(result) == {"assertion[1]": False, "assertion[2]": True}
    assert detail(result, "assertion[1]") == "canceling statement due to statement timeout (in: SELECT pg_sleep(5))"


def test_assertion_waiting_on_a_lock_gives_up(verify_db: VerifyDb, verify_conn: Conn) -> None:
    orders(verify_db)
    holder = verify_db.connect()
    try:
        with holder.cursor() as cur:
            cur.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")  # a migration holding the table
        result = run_verification(
            verify_conn, tool="none", assertions=["SELECT 1 FROM orders"], statement_timeout_ms=400
        )
    finally:
        holder.rollback()
        holder.close()

    assert detail(result, "assertion[1]") == "canceling statement due to lock timeout (in: SELECT 1 FROM orders)"


def test_syntax_error_leaves_the_connection_usable_for_the_next(verify_db: VerifyDb, verify_conn: Conn) -> None:
    orders(verify_db)

    result = run_verification(
        verify_conn,
        tool="none",
        assertions=["SELEC 1 FROM orders", "SELECT 1 FROM no_such_table", "SELECT 1 FROM orders WHERE id = 2"],
    )

    assert outcome(result) == {"assertion[1]": False, "assertion[2]": False, "assertion[3]": True}
    assert detail(result, "assertion[1]") == 'syntax error at or near "SELEC" (in: SELEC 1 FROM orders)'
    assert detail(result, "assertion[2]").startswith('relation "no_such_table" does not exist')
    assert verify_conn.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_IDLE
    with verify_conn.cursor() as cur:  # and the caller's connection still works
        cur.execute("SELECT count(*) FROM orders")
        assert cur.fetchone() == (2,)


def test_permission_denied_is_a_failed_check(verify_db: VerifyDb) -> None:
    role = f"{verify_db.name}_reader"
    verify_db.execute("CREATE TABLE secrets (v text)")
    verify_db.execute(f"CREATE ROLE {role} LOGIN")
    try:
        conn = verify_db.connect(user=role)
        try:
            result = run_verification(conn, tool="none", assertions=["SELECT 1 FROM secrets", "SELECT 1"])
        finally:
            conn.close()
    finally:
        verify_db.execute(f"DROP OWNED BY {role}")
        verify_db.execute(f"DROP ROLE {role}")

    assert outcome(result) == {"assertion[1]": False, "assertion[2]": True}
    assert detail(result, "assertion[1]").startswith("permission denied for table secrets")


def test_percent_signs_and_semicolons_in_literals_are_left_alone(verify_db: VerifyDb, verify_conn: Conn) -> None:
    orders(verify_db)

    result = run_verification(
        verify_conn,
        tool="none",
        assertions=["SELECT 1 FROM orders WHERE status LIKE 'pa%' AND ';' = ';' -- trailing; comment"],
    )

    assert result.passed, result.checks
