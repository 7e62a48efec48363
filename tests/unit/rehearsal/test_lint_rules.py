"""`lint`'s choices, each checked against the real squawk (the binary of squawk-cli): which migrations
are pending, how squawk is told about the tool's transactions and the project's config, which rules
are errors, and how Alembic's rendered SQL is given back to its revisions."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ecs_migrate_deploy.lint import (
    ERROR_RULES,
    STYLE_RULES,
    LintError,
    SquawkConfig,
    _installed,
    alembic_sections,
    lint,
    pending_scripts,
)
from ecs_migrate_deploy.migration_project import Project, detect
from tests.unit.rehearsal.test_migration_project import write

INIT = 'CREATE TABLE "Product" ("id" BIGINT NOT NULL, "title" TEXT, CONSTRAINT "Product_pkey" PRIMARY KEY ("id"));\n'


def folder_with(root: Path, files: dict[str, str]) -> Path:
    """`root` (created) holding `files`, and the `.git` that makes it the repository root."""
    root.mkdir(parents=True, exist_ok=True)
    return write(root, files)


def prisma(root: Path, migrations: dict[str, str], extra: dict[str, str] | None = None) -> Path:
    files = {f"prisma/migrations/{name}/migration.sql": sql for name, sql in migrations.items()}
    return folder_with(root, {**files, **(extra or {})})


def rules(folder: Path) -> dict[str, str]:
    """rule -> severity of every finding (squawk really runs)."""
    return {finding.rule: finding.severity for finding in lint(folder).findings}


def test_the_rule_names_are_squawk_s_own() -> None:
    """A renamed or misspelt rule would silently stop being excluded (or counted as an error): squawk
    refuses an unknown name in --exclude, so every name is checked by squawk itself."""
    squawk = _installed("squawk")
    assert squawk is not None
    for rule in sorted((ERROR_RULES | STYLE_RULES) - {"syntax-error"}):  # syntax-error cannot be excluded
        done = subprocess.run([squawk, f"--exclude={rule}", "/dev/null"], capture_output=True, text=True)
        assert "invalid rule name" not in done.stderr, rule


def test_lock_rules_are_errors_the_missing_lock_timeout_a_warning_style_rules_off(tmp_path: Path) -> None:
    folder = prisma(
        tmp_path,
        {
            "20250101000000_init": INIT,
            "20250202000000_release": 'CREATE INDEX "Product_title_idx" ON "Product"("title");\n'
            'ALTER TABLE "Product" ADD COLUMN "sku" TEXT NOT NULL;\n'
            'ALTER TABLE "Product" ADD COLUMN "count" INTEGER;\n',
        },
    )
    assert rules(folder) == {
        "require-concurrent-index-creation": "error",
        "adding-required-field": "error",
        "require-lock-timeout": "warning",
    }  # not prefer-robust-stmts (no IF NOT EXISTS), not prefer-bigint-over-int (INTEGER)


def test_an_index_on_a_table_the_same_migration_creates_is_not_a_lock(tmp_path: Path) -> None:
    """Prisma runs a migration.sql as one transaction: squawk is told, and the table is new in it."""
    folder = prisma(
        tmp_path, {"20250101000000_init": INIT + 'CREATE INDEX "Product_title_idx" ON "Product"("title");\n'}
    )
    assert "require-concurrent-index-creation" not in rules(folder)


def test_concurrently_beside_another_statement_is_an_error_and_alone_is_clean(tmp_path: Path) -> None:
    """PostgreSQL refuses CREATE INDEX CONCURRENTLY in the implicit transaction of a multi-statement script."""
    concurrent = 'CREATE INDEX CONCURRENTLY "Product_title_idx" ON "Product"("title");\n'
    together = prisma(tmp_path / "a", {"1_init": INIT, "2_index": "SET lock_timeout = '2s';\n" + concurrent})
    alone = prisma(tmp_path / "b", {"1_init": INIT, "2_index": concurrent})
    assert rules(together)["ban-concurrent-index-creation-in-transaction"] == "error"
    assert rules(alone) == {"require-lock-timeout": "warning"}


def test_a_file_squawk_cannot_parse_is_an_error_not_a_pass(tmp_path: Path) -> None:
    folder = prisma(tmp_path, {"1_broken": "ALTER TABLE t DROP NOT NULL x;\n"})
    report = lint(folder)
    assert {f.rule for f in report.findings} == {"syntax-error"}
    assert report.failed("error")


def test_findings_name_the_migration_the_file_and_the_line(tmp_path: Path) -> None:
    folder = prisma(tmp_path, {"1_init": INIT, "2_index": '-- why\n\nCREATE INDEX i ON "Product"("title");\n'})
    finding = next(f for f in lint(folder).findings if f.rule == "require-concurrent-index-creation")
    assert (finding.migration, finding.file, finding.line, finding.column) == (
        "2_index",
        "prisma/migrations/2_index/migration.sql",
        3,
        1,
    )
    assert finding.sql == 'CREATE INDEX i ON "Product"("title");'


def test_the_project_config_adds_exclusions_and_brings_back_a_style_rule(tmp_path: Path) -> None:
    config = 'excluded_rules = ["require-concurrent-index-creation"]\nincluded_rules = ["prefer-bigint-over-int"]\n'
    release = 'CREATE INDEX i ON "Product"("title");\nALTER TABLE "Product" ADD COLUMN "count" INTEGER;\n'
    folder = prisma(tmp_path, {"1_init": INIT, "2_release": release}, {".squawk.toml": config})
    assert rules(folder) == {"prefer-bigint-over-int": "warning", "require-lock-timeout": "warning"}
    assert lint(folder).config == folder / ".squawk.toml"


def test_squawk_s_options_keep_what_the_config_decides(tmp_path: Path) -> None:
    write(tmp_path, {".squawk.toml": 'assume_in_transaction = false\nincluded_rules = ["prefer-identity"]\n'})
    config = SquawkConfig.find(tmp_path / "deeper")
    excluded = config.arguments(in_transaction=True)[0].removeprefix("--exclude=").split(",")
    assert "prefer-identity" not in excluded and "prefer-robust-stmts" in excluded
    assert config.arguments(in_transaction=True)[1:] == [f"--config={tmp_path / '.squawk.toml'}"]
    assert config.arguments(in_transaction=False)[-1] == "--no-assume-in-transaction"  # Alembic: BEGIN is rendered
    assert SquawkConfig().arguments(in_transaction=True)[-1] == "--assume-in-transaction"


def test_the_config_is_looked_for_up_to_the_repository_root_only(tmp_path: Path) -> None:
    write(tmp_path, {".squawk.toml": 'excluded_rules = ["ban-drop-table"]\n'})
    folder_with(tmp_path / "repo", {"app/x": ""})  # repo/.git: the repository root
    assert SquawkConfig.find(tmp_path / "repo" / "app").path is None
    assert SquawkConfig.find(tmp_path).path == tmp_path / ".squawk.toml"


def test_a_malformed_config_is_one_line(tmp_path: Path) -> None:
    write(tmp_path, {".squawk.toml": 'excluded_rules = "ban-drop-table"\n'})
    with pytest.raises(LintError, match=r"\.squawk\.toml: excluded_rules must be a list of rule names$"):
        SquawkConfig.find(tmp_path)


@pytest.mark.parametrize(
    ("files", "base_files", "pending", "in_order"),
    [
        (
            {"prisma/migrations/1_a/migration.sql": "SELECT 1;", "prisma/migrations/2_b/migration.sql": "SELECT 2;"},
            {"prisma/migrations/1_a/migration.sql": "SELECT 1;"},
            ["prisma/migrations/2_b/migration.sql"],
            ["prisma/migrations/1_a/migration.sql", "prisma/migrations/2_b/migration.sql"],
        ),
        (
            {"sql/V1__a.sql": "SELECT 1;", "sql/V1.1__b.sql": "SELECT 2;", "sql/V2__c.sql": "SELECT 3;"},
            {"sql/V1__a.sql": "SELECT 1;"},
            ["sql/V1.1__b.sql", "sql/V2__c.sql"],
            ["sql/V1__a.sql", "sql/V1.1__b.sql", "sql/V2__c.sql"],  # Flyway's version order
        ),
        (
            {"migrations/1_a.up.sql": "", "migrations/1_a.down.sql": "", "migrations/2_b.up.sql": ""},
            {"migrations/1_a.up.sql": "", "migrations/1_a.down.sql": ""},
            ["migrations/2_b.up.sql"],
            ["migrations/1_a.up.sql", "migrations/2_b.up.sql"],  # never the .down.sql
        ),
    ],
    ids=["prisma", "flyway", "golang-migrate"],
)
def test_pending_means_in_the_folder_and_not_in_the_base(
    tmp_path: Path, files: dict[str, str], base_files: dict[str, str], pending: list[str], in_order: list[str]
) -> None:
    project = detect(folder_with(tmp_path / "now", files))
    base = detect(folder_with(tmp_path / "base", base_files))

    def listed(base_project: Project | None) -> list[str]:
        return [str(s.path.relative_to(tmp_path / "now")) for s in pending_scripts(project, base_project, tmp_path)]

    assert listed(base) == pending
    assert listed(None) == in_order


RENDERED = """BEGIN;

CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL);

-- Running upgrade  -> aaa

CREATE TABLE a (id int);

-- Running upgrade aaa -> bbb

CREATE INDEX i ON a (id);

-- Running upgrade bbb, ccc -> ddd

COMMIT;
"""


def test_alembic_s_rendered_sql_is_given_back_to_its_revisions(tmp_path: Path) -> None:
    ini = tmp_path / "alembic.ini"
    revisions = {name: tmp_path / f"{name}.py" for name in ("aaa", "bbb", "ddd")}
    sections = alembic_sections(RENDERED, revisions, ini, known={"aaa"})
    assert [(s.start, s.migration, s.source.name, s.pending) for s in sections] == [
        (0, "aaa", "aaa.py", False),  # the version table's creation comes with the first revision
        (8, "bbb", "bbb.py", True),
        (12, "ddd", "ddd.py", True),  # a merge revision
    ]


def test_fail_on_decides_which_findings_fail(tmp_path: Path) -> None:
    report = lint(prisma(tmp_path, {"1_init": INIT, "2_index": 'CREATE INDEX CONCURRENTLY i ON "Product"("title");\n'}))
    assert [f.severity for f in report.findings] == ["warning"]
    assert (report.failed("error"), report.failed("warning"), report.failed("never")) == (False, True, False)
    assert report.summary() == "0 errors, 1 warning in 2 pending migrations (all: no --base-ref)"


def test_a_tool_whose_migrations_are_not_sql_is_refused_in_one_line(tmp_path: Path) -> None:
    folder_with(tmp_path, {"manage.py": ""})
    with pytest.raises(LintError) as raised:
        lint(tmp_path)
    assert str(raised.value) == (
        f"Django project ({tmp_path / 'manage.py'}): its migrations are not SQL files; "
        "lint reads Prisma, Alembic, Flyway and golang-migrate migrations"
    )
