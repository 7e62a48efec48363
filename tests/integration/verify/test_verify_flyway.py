"""The Flyway verifier on `flyway_schema_history` in Flyway 10's shape."""

from __future__ import annotations

import psycopg2.extensions
from deploy_pipeline.verify import run_verification

from tests.integration.verify.results import detail, outcome
from tests.integration.verify.scratch_db import VerifyDb
from tests.integration.verify.tool_tables import flyway_history

Conn = psycopg2.extensions.connection


def test_flyway_clean_with_a_repeatable_migration(verify_db: VerifyDb, verify_conn: Conn) -> None:
    flyway_history(
        verify_db,
        [
            ("1", "V1__init.sql", True),
            ("1.1", "V1_1__users.sql", True),
            (None, "R__views.sql", True),
            ("2", "V2__orders.sql", True),
        ],
    )

    result = run_verification(verify_conn, tool="flyway", expected_migration="2")

    assert result.passed, result.checks
    assert list(outcome(result)) == [
        "bookkeeping-table",
        "no-failed-migrations",
        "applied-in-order",
        "expected-migration",
    ]
    assert (result.applied_count, result.latest_applied) == (4, "2")  # the repeatable counts, is not latest


def test_flyway_pending_and_by_script_name(verify_db: VerifyDb, verify_conn: Conn) -> None:
    flyway_history(verify_db, [("1", "V1__init.sql", True)])

    pending = run_verification(verify_conn, tool="flyway", expected_migration="2")
    by_script = run_verification(verify_conn, tool="flyway", expected_migration="V1__init.sql")

    assert outcome(pending)["expected-migration"] is False
    assert "pending" in detail(pending, "expected-migration")
    assert by_script.passed


def test_flyway_failed_row(verify_db: VerifyDb, verify_conn: Conn) -> None:
    flyway_history(verify_db, [("1", "V1__init.sql", True), ("2", "V2__orders.sql", False)])

    result = run_verification(verify_conn, tool="flyway", expected_migration="2")

    assert outcome(result) == {
        "bookkeeping-table": True,
        "no-failed-migrations": False,
        "applied-in-order": True,
        "expected-migration": False,
    }
    assert "2 V2__orders.sql (rank 2" in detail(result, "no-failed-migrations")
    assert result.latest_applied == "1"


def test_flyway_versions_compare_numerically_and_out_of_order_is_flagged(
    verify_db: VerifyDb, verify_conn: Conn
) -> None:
    flyway_history(
        verify_db,
        [("1.9", "V1_9__a.sql", True), ("1.10", "V1_10__b.sql", True), ("1.2", "V1_2__late.sql", True)],
    )

    result = run_verification(verify_conn, tool="flyway")

    assert outcome(result)["applied-in-order"] is False  # 1.9 -> 1.10 is fine, 1.2 after 1.10 is not
    assert detail(result, "applied-in-order") == "version 1.2 ran (rank 3) after version 1.10: applied out of order"
