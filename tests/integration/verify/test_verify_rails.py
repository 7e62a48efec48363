"""The Rails verifier on Active Record's `schema_migrations`."""

from __future__ import annotations

import psycopg2.extensions
from deploy_pipeline.verify import run_verification

from tests.integration.verify.results import outcome
from tests.integration.verify.scratch_db import VerifyDb
from tests.integration.verify.tool_tables import rails_versions

Conn = psycopg2.extensions.connection


def test_rails_latest_is_numeric_max_and_file_names_are_accepted(verify_db: VerifyDb, verify_conn: Conn) -> None:
    rails_versions(verify_db, ["20231231235959", "20240102000000", "9", "20240101000000"])

    clean = run_verification(verify_conn, tool="rails", expected_migration="20240102000000_create_orders")
    pending = run_verification(verify_conn, tool="rails", expected_migration="20240103000000")

    assert clean.passed, clean.checks
    assert (clean.applied_count, clean.latest_applied) == (4, "20240102000000")
    assert outcome(pending) == {"bookkeeping-table": True, "expected-migration": False}
