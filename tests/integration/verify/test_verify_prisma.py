"""The Prisma verifier against what the real `prisma migrate deploy` wrote (see prisma_project.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import psycopg2.extensions
import pytest
from deploy_pipeline.models.state import VerificationResult
from deploy_pipeline.verify import run_verification

from tests.integration.verify.prisma_project import PrismaProject
from tests.integration.verify.scratch_db import VerifyDb
from tests.integration.verify.tool_tables import PRISMA_DDL

INIT = "20240101000000_init"
POSTS = "20240102000000_posts"
BROKEN = "20240103000000_tags"


@pytest.fixture
def project(tmp_path: Path, verify_db: VerifyDb) -> Iterator[PrismaProject]:
    with ExitStack() as stack:
        yield PrismaProject(tmp_path, verify_db.url, stack)


def checks(result: VerificationResult) -> dict[str, tuple[bool, str]]:
    return {check.name: (check.passed, check.detail) for check in result.checks}


def deploy_two(project: PrismaProject) -> None:
    project.add(INIT, 'CREATE TABLE "User" (id serial PRIMARY KEY, email text NOT NULL);\n')
    project.add(POSTS, 'CREATE TABLE "Post" (id serial PRIMARY KEY, title text);\n')
    assert project.deploy() == 0


def test_clean_deploy_passes_every_check(project: PrismaProject, verify_conn: psycopg2.extensions.connection) -> None:
    deploy_two(project)

    result = run_verification(verify_conn, tool="prisma", expected_migration=POSTS)

    assert result.passed, result.checks
    assert [c.name for c in result.checks] == [
        "bookkeeping-table",
        "no-failed-migrations",
        "applied-in-order",
        "expected-migration",
    ]
    assert (result.applied_count, result.latest_applied) == (2, POSTS)


def test_rows_carry_prismas_checksum_of_the_file_bytes(project: PrismaProject, verify_db: VerifyDb) -> None:
    deploy_two(project)
    script = (project.migrations / INIT / "migration.sql").read_bytes()
    rows = verify_db.rows("SELECT checksum FROM _prisma_migrations WHERE migration_name = %s", (INIT,))
    assert rows == [(hashlib.sha256(script).hexdigest(),)]


def test_pending_expected_migration_fails_only_that_check(
    project: PrismaProject, verify_conn: psycopg2.extensions.connection
) -> None:
    project.add(INIT, 'CREATE TABLE "User" (id serial PRIMARY KEY);\n')
    assert project.deploy() == 0
    project.add(POSTS, 'CREATE TABLE "Post" (id serial PRIMARY KEY);\n')  # in the release, not deployed

    result = run_verification(verify_conn, tool="prisma", expected_migration=POSTS)

    assert not result.passed
    assert [c.name for c in result.checks if not c.passed] == ["expected-migration"]
    assert "not applied (pending" in checks(result)["expected-migration"][1]
    assert (result.applied_count, result.latest_applied) == (1, INIT)


def test_failed_migration_is_named_with_its_log(
    project: PrismaProject, verify_db: VerifyDb, verify_conn: psycopg2.extensions.connection
) -> None:
    deploy_two(project)
    project.add(BROKEN, 'CREATE TABLE "Tag" (id int);\nALTER TABLE nope ADD COLUMN x int;\n')
    assert project.deploy() == 1
    # The script ran whole, as one implicit transaction: nothing of it stayed, yet the row says "failed".
    assert verify_db.rows("SELECT to_regclass('\"Tag\"') IS NOT NULL") == [(False,)]

    result = run_verification(verify_conn, tool="prisma", expected_migration=BROKEN)

    found = checks(result)
    assert not result.passed
    assert found["no-failed-migrations"][0] is False
    assert BROKEN in found["no-failed-migrations"][1] and "nope" in found["no-failed-migrations"][1]
    assert found["expected-migration"] == (False, f"{BROKEN} failed and is not applied")
    assert found["applied-in-order"][0] is True
    assert (result.applied_count, result.latest_applied) == (2, POSTS)


def test_resolved_rolled_back_then_redeployed_counts_the_second_row(
    project: PrismaProject, verify_db: VerifyDb, verify_conn: psycopg2.extensions.connection
) -> None:
    deploy_two(project)
    project.add(BROKEN, 'CREATE TABLE "Tag" (id int);\nALTER TABLE nope ADD COLUMN x int;\n')
    assert project.deploy() == 1
    assert project.resolve_rolled_back(BROKEN) == 0

    # `migrate status` would now say "up to date"; the verifier must not.
    resolved = run_verification(verify_conn, tool="prisma", expected_migration=BROKEN)
    assert checks(resolved)["no-failed-migrations"][0] is True
    assert checks(resolved)["expected-migration"][0] is False
    assert "rolled back" in checks(resolved)["expected-migration"][1]

    project.add(BROKEN, 'CREATE TABLE IF NOT EXISTS "Tag" (id int);\nCREATE TABLE nope (x int);\n')
    assert project.deploy() == 0
    assert verify_db.rows(
        "SELECT count(*), count(rolled_back_at), count(finished_at) FROM _prisma_migrations WHERE migration_name = %s",
        (BROKEN,),
    ) == [(2, 1, 1)]

    fixed = run_verification(verify_conn, tool="prisma", expected_migration=BROKEN)
    assert fixed.passed, fixed.checks
    assert (fixed.applied_count, fixed.latest_applied) == (3, BROKEN)


def test_older_migration_applied_after_a_newer_one_is_out_of_order(
    project: PrismaProject, verify_conn: psycopg2.extensions.connection
) -> None:
    project.add(INIT, 'CREATE TABLE "User" (id serial PRIMARY KEY);\n')
    project.add(BROKEN, 'CREATE TABLE "Tag" (id int);\n')
    assert project.deploy() == 0
    project.add(POSTS, 'CREATE TABLE "Post" (id serial PRIMARY KEY);\n')  # merged late from a branch
    assert project.deploy() == 0

    result = run_verification(verify_conn, tool="prisma", expected_migration=POSTS)

    found = checks(result)
    assert found["expected-migration"][0] is True
    assert found["applied-in-order"][0] is False
    assert found["applied-in-order"][1].startswith(f"{POSTS} was applied at ")
    assert f"after {BROKEN}" in found["applied-in-order"][1]


def test_no_prisma_table_fails_the_table_and_expected_checks(verify_conn: psycopg2.extensions.connection) -> None:
    result = run_verification(verify_conn, tool="prisma", expected_migration=INIT)

    assert [(c.name, c.passed) for c in result.checks] == [("bookkeeping-table", False), ("expected-migration", False)]
    assert "_prisma_migrations not found on the search_path (public)" in result.checks[0].detail
    assert (result.applied_count, result.latest_applied) == (0, None)


def test_table_in_another_schema_is_found_through_search_path(verify_db: VerifyDb) -> None:
    verify_db.execute("CREATE SCHEMA app")
    verify_db.execute(PRISMA_DDL.replace("_prisma_migrations", "app._prisma_migrations"))
    verify_db.execute(
        "INSERT INTO app._prisma_migrations (id, checksum, migration_name, finished_at, applied_steps_count)"
        " VALUES ('1', repeat('0', 64), %s, now(), 1)",
        (INIT,),
    )
    verify_db.execute(f"ALTER DATABASE {verify_db.name} SET search_path = app")  # read at connect time
    conn = verify_db.connect()
    try:
        result = run_verification(conn, tool="prisma", expected_migration=INIT)
    finally:
        conn.close()
    assert result.passed, result.checks
    assert result.checks[0].detail == "app._prisma_migrations"
