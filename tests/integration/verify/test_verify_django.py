"""The Django verifier on `django_migrations` in Django 5's shape."""

from __future__ import annotations

import psycopg2.extensions
from deploy_pipeline.verify import run_verification

from tests.integration.verify.results import outcome
from tests.integration.verify.scratch_db import VerifyDb
from tests.integration.verify.tool_tables import django_history

Conn = psycopg2.extensions.connection


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
