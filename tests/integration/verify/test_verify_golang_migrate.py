"""The golang-migrate verifier, and telling its `schema_migrations` from Rails'."""

from __future__ import annotations

import psycopg2.extensions
from deploy_pipeline.verify import run_verification

from tests.integration.verify.results import detail, outcome
from tests.integration.verify.scratch_db import VerifyDb
from tests.integration.verify.tool_tables import golang_migrate_state, rails_versions

Conn = psycopg2.extensions.connection


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
