"""The Alembic verifier against what a real `alembic upgrade` wrote."""

from __future__ import annotations

from pathlib import Path

import psycopg2.extensions
from deploy_pipeline.verify import run_verification

from tests.integration.verify.alembic_project import Revision, alembic, write_project
from tests.integration.verify.scratch_db import VerifyDb

FIRST = Revision("a1b2c3d4e5f6", None, "CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL)")
SECOND = Revision("f6e5d4c3b2a1", "a1b2c3d4e5f6", "ALTER TABLE users ADD COLUMN name text")
SECOND_FAILING = Revision("f6e5d4c3b2a1", "a1b2c3d4e5f6", "ALTER TABLE nope ADD COLUMN name text")


def test_upgrade_head_is_clean_with_the_head_expected(
    tmp_path: Path, verify_db: VerifyDb, verify_conn: psycopg2.extensions.connection
) -> None:
    ini = write_project(tmp_path, [FIRST, SECOND])
    run = alembic(ini, verify_db.url, "upgrade", "head")
    assert run.returncode == 0, run.stderr

    result = run_verification(verify_conn, tool="alembic", expected_migration=SECOND.revision)

    assert result.passed, result.checks
    assert [c.name for c in result.checks] == ["bookkeeping-table", "single-head", "expected-migration"]
    assert (result.applied_count, result.latest_applied) == (1, SECOND.revision)


def test_upgrade_to_the_first_revision_leaves_the_second_pending(
    tmp_path: Path, verify_db: VerifyDb, verify_conn: psycopg2.extensions.connection
) -> None:
    ini = write_project(tmp_path, [FIRST, SECOND])
    assert alembic(ini, verify_db.url, "upgrade", FIRST.revision).returncode == 0

    result = run_verification(verify_conn, tool="alembic", expected_migration=SECOND.revision)

    assert not result.passed
    failed = [c for c in result.checks if not c.passed]
    assert [c.name for c in failed] == ["expected-migration"]
    assert failed[0].detail == f"{SECOND.revision} is not the head: the database is at {FIRST.revision}"
    assert result.latest_applied == FIRST.revision


def test_failing_revision_keeps_the_previous_head(
    tmp_path: Path, verify_db: VerifyDb, verify_conn: psycopg2.extensions.connection
) -> None:
    ini = write_project(tmp_path, [FIRST, SECOND_FAILING])
    run = alembic(ini, verify_db.url, "upgrade", "head")
    assert run.returncode != 0 and 'relation "nope" does not exist' in run.stderr
    assert verify_db.rows("SELECT version_num FROM alembic_version") == [(FIRST.revision,)]

    result = run_verification(verify_conn, tool="alembic", expected_migration=SECOND_FAILING.revision)

    assert [(c.name, c.passed) for c in result.checks] == [
        ("bookkeeping-table", True),
        ("single-head", True),
        ("expected-migration", False),
    ]


def test_two_branch_heads_fail_single_head_and_list_them(
    tmp_path: Path, verify_db: VerifyDb, verify_conn: psycopg2.extensions.connection
) -> None:
    left = Revision("b0000000000b", FIRST.revision, "CREATE TABLE left_branch (id int)")
    right = Revision("c0000000000c", FIRST.revision, "CREATE TABLE right_branch (id int)")
    ini = write_project(tmp_path, [FIRST, left, right])
    run = alembic(ini, verify_db.url, "upgrade", "heads")
    assert run.returncode == 0, run.stderr

    result = run_verification(verify_conn, tool="alembic", expected_migration=left.revision)

    single_head = next(c for c in result.checks if c.name == "single-head")
    assert not result.passed
    assert single_head.passed is False
    assert single_head.detail.startswith(f"alembic_version holds 2 heads: {left.revision}, {right.revision}")
    assert next(c for c in result.checks if c.name == "expected-migration").passed is True
    assert (result.applied_count, result.latest_applied) == (2, None)


def test_nothing_applied_yet(verify_db: VerifyDb, verify_conn: psycopg2.extensions.connection) -> None:
    verify_db.execute(
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL,"
        " CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
    )

    result = run_verification(verify_conn, tool="alembic", expected_migration=FIRST.revision)

    assert [(c.name, c.passed) for c in result.checks] == [
        ("bookkeeping-table", True),
        ("single-head", True),
        ("expected-migration", False),
    ]
    assert "alembic_version is empty" in result.checks[-1].detail
    assert result.applied_count == 0
