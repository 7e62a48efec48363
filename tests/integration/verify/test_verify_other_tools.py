"""Flyway, golang-migrate, Django, Rails and `none`, on their tables in the tools' real shapes (tool_tables.py)."""

from __future__ import annotations

import psycopg2.extensions
import pytest
from deploy_pipeline.errors import ConfigurationError
from deploy_pipeline.models.state import VerificationResult
from deploy_pipeline.verify import VERIFIERS, run_verification

from tests.integration.verify.scratch_db import VerifyDb
from tests.integration.verify.tool_tables import django_history, flyway_history, golang_migrate_state, rails_versions

Conn = psycopg2.extensions.connection


def outcome(result: VerificationResult) -> dict[str, bool]:
    return {check.name: check.passed for check in result.checks}


def detail(result: VerificationResult, name: str) -> str:
    return next(check.detail for check in result.checks if check.name == name)


# -- Flyway ----------------------------------------------------------------------------------------


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


# -- golang-migrate --------------------------------------------------------------------------------


def test_golang_migrate_clean_and_pending(verify_db: VerifyDb, verify_conn: Conn) -> None:
    golang_migrate_state(verify_db, 20240102000000)

    clean = run_verification(verify_conn, tool="golang-migrate", expected_migration="20240101000000_create_users")
    pending = run_verification(verify_conn, tool="golang-migrate", expected_migration="20240103000000")

    assert clean.passed, clean.checks
    assert (clean.applied_count, clean.latest_applied) == (1, "20240102000000")
    assert outcome(pending)["expected-migration"] is False
    assert "at version 20240102000000" in detail(pending, "expected-migration")


def test_golang_migrate_dirty_is_failed(verify_db: VerifyDb, verify_conn: Conn) -> None:
    golang_migrate_state(verify_db, 3, dirty=True)

    result = run_verification(verify_conn, tool="golang-migrate", expected_migration="3")

    assert outcome(result) == {"bookkeeping-table": True, "no-failed-migrations": False, "expected-migration": False}
    assert detail(result, "no-failed-migrations").startswith("version 3 is dirty")


def test_rails_table_under_golang_migrate_is_named_as_the_wrong_tool(verify_db: VerifyDb, verify_conn: Conn) -> None:
    rails_versions(verify_db, ["20240101000000"])

    result = run_verification(verify_conn, tool="golang-migrate", expected_migration="20240101000000")

    assert outcome(result) == {"bookkeeping-table": False, "expected-migration": False}
    assert detail(result, "bookkeeping-table") == (
        "schema_migrations has no column 'dirty': is verify tool golang-migrate right?"
    )


def test_golang_migrate_table_under_rails_is_named_as_the_wrong_tool(verify_db: VerifyDb, verify_conn: Conn) -> None:
    golang_migrate_state(verify_db, 20240101000000)

    result = run_verification(verify_conn, tool="rails", expected_migration="20240101000000")

    assert not result.passed
    assert detail(result, "bookkeeping-table") == (
        "schema_migrations has a column 'dirty', as golang-migrate writes it: is verify tool rails right?"
    )


# -- Django ----------------------------------------------------------------------------------------


def test_django_by_app_name_or_name_and_latest_by_applied(verify_db: VerifyDb, verify_conn: Conn) -> None:
    django_history(
        verify_db, ["contenttypes.0001_initial", "auth.0001_initial", "shop.0001_initial", "shop.0002_orders"]
    )

    by_label = run_verification(verify_conn, tool="django", expected_migration="shop.0002_orders")
    by_name = run_verification(verify_conn, tool="django", expected_migration="0002_orders")
    pending = run_verification(verify_conn, tool="django", expected_migration="shop.0003_refunds")

    assert by_label.passed and by_name.passed
    assert [c.name for c in by_label.checks] == ["bookkeeping-table", "expected-migration"]
    assert (by_label.applied_count, by_label.latest_applied) == (4, "shop.0002_orders")
    assert outcome(pending) == {"bookkeeping-table": True, "expected-migration": False}


# -- Rails -----------------------------------------------------------------------------------------


def test_rails_latest_is_numeric_max_and_file_names_are_accepted(verify_db: VerifyDb, verify_conn: Conn) -> None:
    rails_versions(verify_db, ["20231231235959", "20240102000000", "9", "20240101000000"])

    clean = run_verification(verify_conn, tool="rails", expected_migration="20240102000000_create_orders")
    pending = run_verification(verify_conn, tool="rails", expected_migration="20240103000000")

    assert clean.passed, clean.checks
    assert (clean.applied_count, clean.latest_applied) == (4, "20240102000000")
    assert outcome(pending) == {"bookkeeping-table": True, "expected-migration": False}


# -- none and unknown ------------------------------------------------------------------------------


def test_none_runs_only_assertions(verify_conn: Conn) -> None:
    result = run_verification(verify_conn, tool="none", assertions=["SELECT 1"])

    assert result.passed
    assert [c.name for c in result.checks] == ["assertion[1]"]


def test_none_refuses_to_vouch_for_an_expected_migration(verify_conn: Conn) -> None:
    result = run_verification(verify_conn, tool="none", expected_migration="0042")

    assert not result.passed
    assert "keeps no bookkeeping table" in detail(result, "expected-migration")


def test_unknown_tool_is_a_configuration_error(verify_conn: Conn) -> None:
    with pytest.raises(ConfigurationError, match="unknown verify tool 'liquibase'; known: alembic, django"):
        run_verification(verify_conn, tool="liquibase")


def test_every_documented_tool_has_a_verifier() -> None:
    assert sorted(VERIFIERS) == ["alembic", "django", "flyway", "golang-migrate", "none", "prisma", "rails"]
