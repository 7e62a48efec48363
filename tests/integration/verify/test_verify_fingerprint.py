"""Schema fingerprints read from pg_catalog, and the diff a migration leaves between two of them."""

from __future__ import annotations

import psycopg2.extensions
from deploy_pipeline.verify import SchemaFingerprint, capture_fingerprint, run_verification

from tests.integration.verify.scratch_db import VerifyDb

Conn = psycopg2.extensions.connection


def shop(db: VerifyDb) -> None:
    db.execute("CREATE TABLE customers (id serial PRIMARY KEY, email text NOT NULL UNIQUE)")
    db.execute(
        "CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
        " customer_id int NOT NULL REFERENCES customers (id), total numeric(10, 2) DEFAULT 0,"
        " CONSTRAINT positive CHECK (total >= 0))"
    )
    db.execute("CREATE INDEX orders_customer_idx ON orders (customer_id)")


def test_captures_tables_columns_indexes_and_constraints(verify_db: VerifyDb, verify_conn: Conn) -> None:
    shop(verify_db)

    fingerprint = capture_fingerprint(verify_conn)

    assert sorted(fingerprint.objects) == [
        "column:public.customers.email",
        "column:public.customers.id",
        "column:public.orders.customer_id",
        "column:public.orders.id",
        "column:public.orders.total",
        "constraint:public.customers.customers_email_key",
        "constraint:public.customers.customers_pkey",
        "constraint:public.orders.orders_customer_id_fkey",
        "constraint:public.orders.orders_pkey",
        "constraint:public.orders.positive",
        "index:public.customers_email_key",
        "index:public.customers_pkey",
        "index:public.orders_customer_idx",
        "index:public.orders_pkey",
        "table:public.customers",
        "table:public.orders",
    ]
    assert all(len(value) == 12 for value in fingerprint.objects.values())
    assert verify_conn.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_IDLE


def test_same_schema_same_fingerprint_and_system_schemas_excluded(verify_db: VerifyDb, verify_conn: Conn) -> None:
    shop(verify_db)
    verify_db.execute("CREATE TEMP TABLE scratch (id int)")  # pg_temp_*: not part of the schema

    first, second = capture_fingerprint(verify_conn), capture_fingerprint(verify_conn)

    assert first == second
    assert first.to_bytes() == second.to_bytes()
    assert not [key for key in first.objects if "pg_" in key or "information_schema" in key]


def test_diff_after_a_migration_names_what_changed(verify_db: VerifyDb, verify_conn: Conn) -> None:
    shop(verify_db)
    verify_db.execute('CREATE SCHEMA "Billing"')
    baseline = SchemaFingerprint.from_bytes(capture_fingerprint(verify_conn).to_bytes())  # as stored in DynamoDB

    verify_db.execute('CREATE TABLE "Billing".invoices (id int)')  # a table
    verify_db.execute("ALTER TABLE customers ADD COLUMN name text")  # a column
    verify_db.execute("CREATE INDEX orders_total_idx ON orders (total)")  # an index
    verify_db.execute("ALTER TABLE orders ALTER COLUMN total TYPE numeric(12, 2)")  # a type change
    verify_db.execute("ALTER TABLE customers ALTER COLUMN email DROP NOT NULL")  # nullability
    verify_db.execute("ALTER TABLE orders DROP CONSTRAINT positive")

    result = run_verification(verify_conn, tool="none", baseline=baseline)

    assert result.passed  # the diff informs, it does not fail
    assert result.schema_diff == {
        "added": [
            'column:"Billing".invoices.id',
            "column:public.customers.name",
            "index:public.orders_total_idx",
            'table:"Billing".invoices',
        ],
        "removed": ["constraint:public.orders.positive"],
        "changed": ["column:public.customers.email", "column:public.orders.total"],
    }


def test_defaults_and_index_definitions_count_as_changes(verify_db: VerifyDb, verify_conn: Conn) -> None:
    shop(verify_db)
    baseline = capture_fingerprint(verify_conn)

    verify_db.execute("ALTER TABLE orders ALTER COLUMN total SET DEFAULT 1")
    verify_db.execute("DROP INDEX orders_customer_idx")
    verify_db.execute("CREATE INDEX orders_customer_idx ON orders (customer_id, total)")

    result = run_verification(verify_conn, tool="none", baseline=baseline)

    assert result.schema_diff["changed"] == ["column:public.orders.total", "index:public.orders_customer_idx"]
    assert result.schema_diff["added"] == result.schema_diff["removed"] == []


def test_no_baseline_no_diff(verify_conn: Conn) -> None:
    assert run_verification(verify_conn, tool="none").schema_diff == {}
