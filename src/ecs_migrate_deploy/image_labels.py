"""The labels a build gives the image so the release's migrations travel with it.

`ecs-migrate-deploy image-labels [DIR]` prints them as `docker build` arguments:

    docker build $(ecs-migrate-deploy image-labels .) -t "$IMAGE" .

- `io.github.ecs-migrate-deploy.expected-migration`: the newest migration (the last folder in
  Prisma's order, which is name order): Verify requires it applied, so a migrator that stops early
  and exits 0 fails the deployment.
- `io.github.ecs-migrate-deploy.migration-checksums`: every migration's checksum, compact (10 bytes a
  migration, 13,342 characters for 1,000): Verify compares it with `_prisma_migrations.checksum` and
  warns about a migration edited after it was applied.

The format is `deploy_pipeline.models.migration_labels`'s, which the pipeline parses; docs/image-labels.md
shows the CI step. The checksums exist for Prisma only (the one Prisma stores: sha256 of the raw
migration.sql bytes); the expected migration for every tool whose files tell their newest.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from deploy_pipeline.models.migration_labels import (
    EXPECTED_MIGRATION_LABEL,
    LINT_SUMMARY_LABEL,
    MIGRATION_CHECKSUMS_LABEL,
    MalformedLabel,
    encode_checksums,
    parse_expected_migration,
    summary_line,
)

from ecs_migrate_deploy.migration_project import NoMigrations, detect
from ecs_migrate_deploy.prisma_runner import list_migrations


class NoLabels(ValueError):
    """The folder holds no migrations the labels could describe (the message is one line)."""


def labels_for(folder: Path) -> dict[str, str]:
    """The labels for the migrations of the project in `folder`, found as the rehearsal finds them.

    Every tool whose newest migration the files tell (Prisma, Alembic's head, Flyway's highest
    version, golang-migrate's, Rails') gets the expected-migration label; Prisma also gets the
    checksums (the one tool whose history table stores a checksum of the file as it is on disk).
    """
    try:
        project = detect(folder)
    except NoMigrations as exc:
        raise NoLabels(str(exc)) from None
    labels: dict[str, str] = {}
    if project.newest is not None:
        try:
            labels[EXPECTED_MIGRATION_LABEL] = parse_expected_migration(project.newest)
        except MalformedLabel as exc:
            raise NoLabels(str(exc)) from None
    if project.migrations_dir is not None:
        migrations = list_migrations(project.migrations_dir)
        labels[MIGRATION_CHECKSUMS_LABEL] = encode_checksums((m.name, m.checksum) for m in migrations)
    if not labels:
        raise NoLabels(f"{project.described}: its newest migration cannot be told from the files")
    return labels


def with_lint_summary(labels: dict[str, str], folder: Path, base_ref: str | None) -> dict[str, str]:
    """`labels` plus the lint-summary label: what `lint` says of the migrations `base_ref` lacks
    (all of them without one), so the record of the deployment says it too. A project `lint` cannot
    read is NoLabels: the build asked for the summary, and an image without it would look clean."""
    from ecs_migrate_deploy.lint import LintError, lint

    try:
        report = lint(folder, base_ref)
    except LintError as exc:
        raise NoLabels(f"--lint: {exc}") from None
    return {**labels, LINT_SUMMARY_LABEL: summary_line(report.label())}


def docker_arguments(labels: dict[str, str]) -> str:
    """`--label key=value ...` on one line, each argument shell-quoted."""
    return " ".join(f"--label {shlex.quote(f'{key}={value}')}" for key, value in labels.items())


def json_text(labels: dict[str, str]) -> str:
    return json.dumps(labels, separators=(",", ":"))
