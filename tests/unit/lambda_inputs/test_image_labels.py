"""The labels a build writes (ecs_migrate_deploy.image_labels) and how the pipeline reads
them (deploy_pipeline.models.migration_labels): folder -> labels -> parsed, and what Resolve decides."""

from __future__ import annotations

import hashlib
import json
import shlex
import shutil
from pathlib import Path

import pytest
from deploy_pipeline.errors import InvalidImageLabel
from deploy_pipeline.models.migration_labels import (
    EXPECTED_MIGRATION_LABEL,
    LINT_SUMMARY_LABEL,
    LINT_SUMMARY_LIMIT,
    MIGRATION_CHECKSUMS_LABEL,
    MalformedLabel,
    encode_checksums,
    expectation,
    lint_summary,
    parse_checksums,
)
from deploy_pipeline.models.state import DeploymentPlan
from typer.testing import CliRunner

from ecs_migrate_deploy.cli import app
from ecs_migrate_deploy.image_labels import NoLabels, docker_arguments, labels_for

ROOT = Path(__file__).resolve().parents[3]
SHOP = ROOT / "examples" / "shop"
SHOP_MIGRATIONS = sorted(p for p in (SHOP / "prisma" / "migrations").iterdir() if p.is_dir())


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_prisma_project_gives_its_newest_migration_and_every_checksum() -> None:
    labels = labels_for(SHOP)

    assert labels[EXPECTED_MIGRATION_LABEL] == "20250310083000_order_status" == SHOP_MIGRATIONS[-1].name
    checksums = parse_checksums(labels[MIGRATION_CHECKSUMS_LABEL])
    assert checksums.count == 3
    for folder in SHOP_MIGRATIONS:  # the checksum Prisma stores: sha256 of the raw migration.sql bytes
        assert checksums.matches(folder.name, sha256_of(folder / "migration.sql")) is True
        assert checksums.matches(folder.name, hashlib.sha256(b"edited").hexdigest()) is False
    assert checksums.matches("20990101000000_not_in_the_image", "0" * 64) is None
    assert checksums.matches(SHOP_MIGRATIONS[0].name, "not-a-sha256") is False


def test_an_edited_migration_changes_its_checksum_only(tmp_path: Path) -> None:
    shutil.copytree(SHOP, tmp_path / "shop")
    edited = tmp_path / "shop" / "prisma" / "migrations" / SHOP_MIGRATIONS[0].name / "migration.sql"
    edited.write_bytes(edited.read_bytes() + b"-- edited after it was applied\n")

    checksums = parse_checksums(labels_for(tmp_path / "shop")[MIGRATION_CHECKSUMS_LABEL])

    assert checksums.matches(SHOP_MIGRATIONS[0].name, sha256_of(SHOP_MIGRATIONS[0] / "migration.sql")) is False
    assert checksums.matches(SHOP_MIGRATIONS[1].name, sha256_of(SHOP_MIGRATIONS[1] / "migration.sql")) is True


def test_the_checksums_label_of_1000_migrations_is_13342_characters() -> None:
    migrations = [(f"2025{i:010d}_migration_{i}", hashlib.sha256(str(i).encode()).hexdigest()) for i in range(1000)]

    value = encode_checksums(migrations)

    assert len(value) == 13_342
    decoded = parse_checksums(value)
    assert decoded.count == 1000
    assert all(decoded.matches(name, checksum) for name, checksum in migrations)


@pytest.mark.parametrize(
    "value",
    ["", "v2:1:AAAAAAAAAAAAAA", "v1:2:AAAAAAAAAAAAAA", "v1:1:!!!!", "v1:01:AAAAAAAAAAAAAA", "v1:1:AAAAAAAAAAAAAA\n"],
)
def test_a_malformed_checksums_label_is_refused_by_the_parser(value: str) -> None:
    with pytest.raises(MalformedLabel):
        parse_checksums(value)


def test_the_docker_arguments_are_one_shell_quoted_line() -> None:
    labels = labels_for(SHOP)

    line = docker_arguments(labels)

    assert "\n" not in line
    words = shlex.split(line)
    assert words[0::2] == ["--label", "--label"]
    assert dict(word.split("=", 1) for word in words[1::2]) == labels


def test_the_cli_prints_the_arguments_and_exits_2_without_migrations(tmp_path: Path) -> None:
    runner = CliRunner()

    printed = runner.invoke(app, ["image-labels", str(SHOP)])
    as_json = runner.invoke(app, ["image-labels", str(SHOP), "--format", "json"])
    empty = runner.invoke(app, ["image-labels", str(tmp_path)])

    assert printed.exit_code == 0 and printed.stdout == docker_arguments(labels_for(SHOP)) + "\n"
    assert as_json.exit_code == 0 and EXPECTED_MIGRATION_LABEL in as_json.stdout
    assert empty.exit_code == 2
    assert empty.stdout == "" and len(empty.stderr.strip().splitlines()) == 1


def test_a_migration_folder_without_its_sql_or_with_an_unusable_name_gives_no_labels(tmp_path: Path) -> None:
    (tmp_path / "a" / "migrations" / "20250101000000_init").mkdir(parents=True)
    (tmp_path / "a" / "migrations" / "20250101000000_init" / "migration.sql").write_text("SELECT 1;\n")
    (tmp_path / "a" / "migrations" / "20250102000000_empty").mkdir()
    (tmp_path / "b" / "migrations" / "2025 with spaces").mkdir(parents=True)
    (tmp_path / "b" / "migrations" / "2025 with spaces" / "migration.sql").write_text("SELECT 1;\n")

    with pytest.raises(NoLabels, match="P3015"):
        labels_for(tmp_path / "a")
    with pytest.raises(NoLabels, match="not a migration name"):
        labels_for(tmp_path / "b")


# ---- what Resolve decides from the labels ---------------------------------------------------------

LABELS = labels_for(SHOP)


def test_the_label_gives_the_expected_migration_and_says_so() -> None:
    decided = expectation(LABELS, None, None)

    assert (decided.expected_migration, decided.source, decided.reason) == (
        "20250310083000_order_status",
        "label",
        None,
    )
    assert decided.checksums and decided.checksums_reason is None


def test_the_manual_option_wins_over_the_label() -> None:
    decided = expectation(LABELS, None, "20250214120000_orders")

    assert (decided.expected_migration, decided.source) == ("20250214120000_orders", "manual")
    assert decided.reason is not None and "20250310083000_order_status" in decided.reason
    assert decided.checksums  # the manual option replaces the expected migration, not the drift comparison


def test_no_label_and_unreadable_labels_skip_the_checks_with_the_reason() -> None:
    unlabelled = expectation({}, None, None)
    unreadable = expectation({}, "GetDownloadUrlForLayer failed (AccessDeniedException): no", None)

    assert unlabelled.expected_migration is None and unlabelled.source is None
    assert unlabelled.reason is not None and f"has no {EXPECTED_MIGRATION_LABEL} label" in unlabelled.reason
    assert not unlabelled.checksums and f"no {MIGRATION_CHECKSUMS_LABEL} label" in (unlabelled.checksums_reason or "")
    assert unreadable.expected_migration is None and "AccessDeniedException" in (unreadable.reason or "")
    assert not unreadable.checksums and "could not be read" in (unreadable.checksums_reason or "")


def test_a_malformed_expected_migration_label_is_refused_unless_the_manual_option_overrides_it() -> None:
    broken = {**LABELS, EXPECTED_MIGRATION_LABEL: "$(rm -rf /)"}

    with pytest.raises(InvalidImageLabel, match="expected_migration"):
        expectation(broken, None, None)
    overridden = expectation(broken, None, "20250310083000_order_status")
    assert overridden.source == "manual" and "overrides" in (overridden.reason or "")


def test_a_malformed_checksums_label_only_skips_the_comparison() -> None:
    decided = expectation({**LABELS, MIGRATION_CHECKSUMS_LABEL: "v1:3:short"}, None, None)

    assert decided.source == "label" and not decided.checksums
    assert "the comparison is skipped" in (decided.checksums_reason or "")


def test_a_plan_from_before_expectations_keeps_its_manual_expected_migration() -> None:
    plan = DeploymentPlan.model_validate(
        {
            "deployment_id": "deploy-1",
            "trigger": "manual",
            "image": {"repository": "acme/app", "repository_uri": "x", "digest": "sha256:" + "a" * 64},
            "cluster": "acme",
            "services": [],
            "migration_container": "app",
            "migration_command": ["migrate"],
            "database": {"kind": "instance", "identifier": "db"},
            "options": {"expected_migration": "20250310083000_order_status"},
        }
    )

    assert (plan.expectation.expected_migration, plan.expectation.source) == ("20250310083000_order_status", "manual")


def test_an_alembic_project_is_labelled_with_its_head_and_no_checksums() -> None:
    assert labels_for(ROOT / "examples" / "alembic") == {EXPECTED_MIGRATION_LABEL: "3c4d5e6f7a8b"}


def test_a_project_whose_newest_the_files_cannot_tell_gets_no_labels(tmp_path: Path) -> None:
    (tmp_path / "manage.py").write_text("")
    with pytest.raises(NoLabels, match=r"Django project .* its newest migration cannot be told from the files"):
        labels_for(tmp_path)


def test_the_lint_summary_label_is_one_printable_bounded_line_and_optional() -> None:
    assert lint_summary({}) is None and lint_summary({LINT_SUMMARY_LABEL: "  "}) is None
    forged = "1 error\n2025-01-01 INFO deployment Succeeded\x1b[2J\u202e"
    assert lint_summary({LINT_SUMMARY_LABEL: forged}) == "1 error 2025-01-01 INFO deployment Succeeded [2J"
    long = lint_summary({LINT_SUMMARY_LABEL: "x" * 1000})
    assert long is not None and len(long) == LINT_SUMMARY_LIMIT and long.endswith("…")


def test_image_labels_lint_adds_the_summary_of_the_pending_migrations() -> None:
    result = CliRunner().invoke(app, ["image-labels", str(SHOP), "--format", "json", "--lint"])

    assert result.exit_code == 0, result.output
    labels = json.loads(result.output)
    assert set(labels) == {EXPECTED_MIGRATION_LABEL, MIGRATION_CHECKSUMS_LABEL, LINT_SUMMARY_LABEL}
    assert labels[LINT_SUMMARY_LABEL] == (
        "1 error, 3 warnings in 3 pending migrations (all: no --base-ref); "
        "errors: require-concurrent-index-creation in 20250310083000_order_status"
    )
