"""The image's checksums label against `_prisma_migrations.checksum` as the REAL
`prisma migrate deploy` wrote it. Drift is a warning: named, and the verification still passes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import psycopg2.extensions
import pytest
from deploy_pipeline.models.migration_labels import MIGRATION_CHECKSUMS_LABEL, LabelChecksums, parse_checksums
from deploy_pipeline.verify import run_verification

from ecs_migrate_deploy.image_labels import labels_for
from tests.integration.verify.prisma_project import PrismaProject
from tests.integration.verify.scratch_db import VerifyDb
from tests.integration.verify.test_verify_prisma import BROKEN, INIT, POSTS, checks, deploy_two


@pytest.fixture
def project(tmp_path: Path, verify_db: VerifyDb) -> Iterator[PrismaProject]:
    with ExitStack() as stack:
        yield PrismaProject(tmp_path, verify_db.url, stack)


def image_checksums(project: PrismaProject) -> LabelChecksums:
    """What `ecs-migrate-deploy image-labels` would write for the project's folder as it is now."""
    return parse_checksums(labels_for(project.migrations.parent)[MIGRATION_CHECKSUMS_LABEL])


def test_applied_migrations_that_match_the_image_pass(
    project: PrismaProject, verify_conn: psycopg2.extensions.connection
) -> None:
    deploy_two(project)

    result = run_verification(verify_conn, tool="prisma", checksums=image_checksums(project))

    found = checks(result)
    assert result.passed
    assert found["migration-checksums"] == (True, "2 applied migrations match the image's checksums")


def test_a_migration_edited_after_it_was_applied_is_a_named_warning(
    project: PrismaProject, verify_conn: psycopg2.extensions.connection
) -> None:
    deploy_two(project)
    edited = project.migrations / INIT / "migration.sql"
    edited.write_text(edited.read_text() + 'CREATE INDEX ON "User" (email);\n')  # after it was applied
    project.add(BROKEN, 'CREATE TABLE "Tag" (id int);\n')  # the release's new migration: not in the database

    result = run_verification(
        verify_conn,
        tool="prisma",
        expected_migration=POSTS,
        checksums=image_checksums(project),
    )

    [drift] = [c for c in result.checks if c.name == "migration-checksums"]
    assert result.passed, "drift is a warning: the verification passes"
    assert (drift.passed, drift.severity) == (False, "warning")
    assert drift.detail.startswith("1 applied migration was edited after it was applied")
    assert drift.detail.count(INIT) == 1 and POSTS not in drift.detail and BROKEN not in drift.detail


def test_a_rolled_back_row_keeps_its_old_checksum_and_is_not_compared(
    project: PrismaProject, verify_conn: psycopg2.extensions.connection
) -> None:
    deploy_two(project)
    project.add(BROKEN, 'CREATE TABLE "Tag" (id int);\nALTER TABLE nope ADD COLUMN x int;\n')
    assert project.deploy() == 1
    assert project.resolve_rolled_back(BROKEN) == 0
    project.add(BROKEN, 'CREATE TABLE IF NOT EXISTS "Tag" (id int);\n')  # fixed, then applied as a second row
    assert project.deploy() == 0

    result = run_verification(verify_conn, tool="prisma", checksums=image_checksums(project))

    assert checks(result)["migration-checksums"] == (True, "3 applied migrations match the image's checksums")


def test_a_tool_without_checksums_is_a_warning_that_nothing_was_compared(
    project: PrismaProject, verify_conn: psycopg2.extensions.connection
) -> None:
    deploy_two(project)

    result = run_verification(verify_conn, tool="none", checksums=image_checksums(project))

    passed, detail = checks(result)["migration-checksums"]
    assert result.passed and not passed
    assert detail.startswith("not compared:")
