"""`ecs-migrate-deploy lint` as CI runs it (a subprocess, the real squawk, no database), on one project
of each tool it reads; and `rehearse` saying the findings before it runs the migrations."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.e2e.rehearsal import ROOT, live_view, rehearse
from tests.e2e.test_rehearse_projects import EXAMPLES, git, prisma_migration

INIT = 'CREATE TABLE "Product" ("id" BIGINT NOT NULL, "title" TEXT, CONSTRAINT "Product_pkey" PRIMARY KEY ("id"));\n'
RISKY = (
    'CREATE INDEX "Product_title_idx" ON "Product"("title");\nALTER TABLE "Product" ADD COLUMN "sku" TEXT NOT NULL;\n'
)

# Alembic's generated env.py (`alembic init`): offline mode renders the SQL without a database.
OFFLINE_ENV_PY = """
import os
from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
config.set_main_option("sqlalchemy.url", os.environ["DATABASE_URL"])

if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
"""

TITLE_REVISION = '''"""post title: an index and a new type

Revision ID: 4d5e6f7a8b9c
Revises: 3c4d5e6f7a8b
"""

import sqlalchemy as sa
from alembic import op

revision = "4d5e6f7a8b9c"
down_revision = "3c4d5e6f7a8b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_posts_title", "posts", ["title"])
    op.alter_column("posts", "title", type_=sa.String(200))


def downgrade() -> None:
    op.alter_column("posts", "title", type_=sa.Text)
    op.drop_index("ix_posts_title")
'''


def run_lint(*args: str) -> subprocess.CompletedProcess[str]:
    """`ecs-migrate-deploy lint ARGS` in a CI-like environment (plain output), without a database URL."""
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "ecs_migrate_deploy.cli", "lint", *args],
        cwd=ROOT,
        env={**env, "CI": "true"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def lint_json(*args: str) -> tuple[int, dict[str, Any]]:
    done = run_lint(*args, "--json")
    assert done.stdout.startswith("{"), done.stderr
    return done.returncode, json.loads(done.stdout)


def found(payload: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(f["migration"], f["rule"], f["severity"]) for f in payload["findings"]}


def prisma_project(root: Path, migrations: dict[str, str]) -> Path:
    for name, script in migrations.items():
        prisma_migration(root / "prisma" / "migrations", name, script)
    return root


def alembic_project(root: Path) -> Path:
    """examples/alembic with the env.py `alembic init` writes (one transaction for the whole upgrade)."""
    shutil.copytree(EXAMPLES / "alembic", root)
    (root / "migrations" / "env.py").write_text(OFFLINE_ENV_PY)
    return root


def test_an_index_and_a_not_null_column_fail_at_error_with_what_and_where(tmp_path: Path) -> None:
    project = prisma_project(tmp_path, {"20250101000000_init": INIT, "20250202000000_sku": RISKY})
    done = run_lint(str(project))
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert (
        "error require-concurrent-index-creation in prisma/migrations/20250202000000_sku/migration.sql:1: "
        "During normal index creation, table updates are blocked" in out
    )
    assert "error adding-required-field in prisma/migrations/20250202000000_sku/migration.sql:2" in out
    assert '      ALTER TABLE "Product" ADD COLUMN "sku" TEXT NOT NULL;' in out
    assert out.rstrip().endswith(
        "2 errors, 1 warning in 2 pending migrations (all: no --base-ref): fails --fail-on error"
    )
    assert "\x1b[" not in out  # CI=true: plain text


def test_a_clean_migration_exits_0_even_at_warning(tmp_path: Path) -> None:
    project = prisma_project(
        tmp_path,
        {
            "20250101000000_init": INIT,
            "20250202000000_note": 'SET lock_timeout = \'2s\';\nALTER TABLE "Product" ADD COLUMN "note" TEXT;\n',
        },
    )
    code, payload = lint_json(str(project), "--fail-on", "warning")
    assert (code, payload["findings"], payload["failed"]) == (0, [], False)


def test_the_json_shape(tmp_path: Path) -> None:
    project = prisma_project(tmp_path, {"20250101000000_init": INIT, "20250202000000_sku": RISKY})
    code, payload = lint_json(str(project))
    assert code == 1
    assert set(payload) == {
        "tool", "base_ref", "migrations", "findings", "counts", "config", "seconds", "fail_on", "failed"
    }  # fmt: skip
    assert (payload["tool"], payload["base_ref"], payload["config"]) == ("prisma", None, None)
    assert payload["migrations"] == ["20250101000000_init", "20250202000000_sku"]
    assert (payload["counts"], payload["fail_on"], payload["failed"]) == ({"error": 2, "warning": 1}, "error", True)
    assert payload["findings"][0] == {
        "migration": "20250202000000_sku",
        "file": "prisma/migrations/20250202000000_sku/migration.sql",
        "line": 1,
        "column": 1,
        "rule": "require-concurrent-index-creation",
        "severity": "error",
        "message": "During normal index creation, table updates are blocked, but reads are still allowed.",
        "help": "Use `concurrently` to avoid blocking writes.",
        "sql": 'CREATE INDEX "Product_title_idx" ON "Product"("title");',
    }
    assert 0 <= payload["seconds"] < 10


def test_fail_on_never_reports_and_exits_0(tmp_path: Path) -> None:
    project = prisma_project(tmp_path, {"20250101000000_init": INIT, "20250202000000_sku": RISKY})
    code, payload = lint_json(str(project), "--fail-on", "never")
    assert (code, payload["counts"]["error"], payload["failed"]) == (0, 2, False)


def test_warnings_fail_only_at_warning(tmp_path: Path) -> None:
    project = prisma_project(tmp_path, {"20250101000000_init": INIT, "20250202000000_drop": 'DROP VIEW "Totals";\n'})
    assert lint_json(str(project))[0] == 0
    code, payload = lint_json(str(project), "--fail-on", "warning")
    assert code == 1
    assert ("20250202000000_drop", "ban-drop-view", "warning") in found(payload)


def test_the_project_s_squawk_config_disables_a_rule(tmp_path: Path) -> None:
    project = prisma_project(tmp_path, {"20250101000000_init": INIT, "20250202000000_sku": RISKY})
    (project / ".squawk.toml").write_text('excluded_rules = ["require-concurrent-index-creation"]\n')
    code, payload = lint_json(str(project))
    assert code == 1  # the NOT NULL column still fails
    assert payload["config"] == str(project / ".squawk.toml")
    assert {rule for _, rule, _ in found(payload)} == {"adding-required-field", "require-lock-timeout"}


def test_base_ref_lints_only_the_migration_the_base_does_not_have(tmp_path: Path) -> None:
    """The base's own migration took an index lock long ago: only the new one is this release's."""
    git(tmp_path, "init", "-q")
    app = prisma_project(
        tmp_path / "app",
        {"20250101000000_init": INIT, "20250115000000_old_index": 'CREATE INDEX "old" ON "Product"("title");\n'},
    )
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "deployed")
    prisma_migration(app / "prisma" / "migrations", "20250202000000_sku", RISKY)

    code, payload = lint_json(str(app), "--base-ref", "HEAD")

    assert code == 1
    assert (payload["base_ref"], payload["migrations"]) == ("HEAD", ["20250202000000_sku"])
    assert {migration for migration, _, _ in found(payload)} == {"20250202000000_sku"}
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "released")
    code, payload = lint_json(str(app), "--base-ref", "HEAD")
    assert (code, payload["migrations"], payload["findings"]) == (0, [], [])


def test_an_alembic_project_is_rendered_offline_and_each_finding_given_to_its_revision(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    app = alembic_project(tmp_path / "app")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "three revisions")
    (app / "migrations" / "versions" / "4d5e6f7a8b9c_post_title.py").write_text(TITLE_REVISION)

    code, payload = lint_json(str(app), "--base-ref", "HEAD")

    assert code == 1, payload
    assert (payload["tool"], payload["migrations"]) == ("alembic", ["4d5e6f7a8b9c"])
    assert found(payload) == {
        ("4d5e6f7a8b9c", "require-concurrent-index-creation", "error"),
        ("4d5e6f7a8b9c", "changing-column-type", "error"),
        ("4d5e6f7a8b9c", "require-lock-timeout", "warning"),
    }
    change = next(f for f in payload["findings"] if f["rule"] == "changing-column-type")
    assert (change["file"], change["line"], change["sql"]) == (
        "migrations/versions/4d5e6f7a8b9c_post_title.py",
        None,  # the line is in the rendered SQL, not in the revision's Python
        "ALTER TABLE posts ALTER COLUMN title TYPE VARCHAR(200);",
    )
    _, everything = lint_json(str(app))  # without a base: from an empty database, in one transaction
    assert everything["migrations"] == ["1a2b3c4d5e6f", "2b3c4d5e6f7a", "3c4d5e6f7a8b", "4d5e6f7a8b9c"]


ONLINE_ONLY_ENV_PY = """
import os
from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
config.set_main_option("sqlalchemy.url", os.environ["DATABASE_URL"])
engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
"""


def test_an_env_py_that_needs_a_database_is_one_line_and_exit_2(tmp_path: Path) -> None:
    project = tmp_path / "app"
    shutil.copytree(EXAMPLES / "alembic", project)
    (project / "migrations" / "env.py").write_text(ONLINE_ONLY_ENV_PY)  # online mode only, as many have
    done = run_lint(str(project))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("error: `alembic upgrade --sql head` failed in ")
    assert "failed to resolve host 'offline.invalid'" in done.stderr
    assert "env.py must support offline mode" in done.stderr


def test_a_flyway_project_s_versioned_scripts(tmp_path: Path) -> None:
    (tmp_path / "sql").mkdir()
    (tmp_path / "sql" / "V1__init.sql").write_text('CREATE TABLE "Customer" ("id" BIGINT PRIMARY KEY);\n' + INIT)
    (tmp_path / "sql" / "V2__owner.sql").write_text(
        'ALTER TABLE "Product" ADD COLUMN "owner" BIGINT;\n'
        'ALTER TABLE "Product" ADD CONSTRAINT "owner_fk" FOREIGN KEY ("owner") REFERENCES "Customer"("id");\n'
    )
    code, payload = lint_json(str(tmp_path))
    assert (code, payload["tool"], payload["migrations"]) == (1, "flyway", ["V1__init.sql", "V2__owner.sql"])
    assert ("V2__owner.sql", "adding-foreign-key-constraint", "error") in found(payload)
    assert ("V2__owner.sql", "constraint-missing-not-valid", "error") in found(payload)


def test_a_golang_migrate_project_s_up_scripts(tmp_path: Path) -> None:
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "1_init.up.sql").write_text(INIT)
    (tmp_path / "migrations" / "1_init.down.sql").write_text('DROP TABLE "Product";\n')
    (tmp_path / "migrations" / "2_rename.up.sql").write_text('ALTER TABLE "Product" RENAME COLUMN "title" TO "name";\n')
    (tmp_path / "migrations" / "2_rename.down.sql").write_text(
        'ALTER TABLE "Product" RENAME COLUMN "name" TO "title";\n'
    )
    code, payload = lint_json(str(tmp_path))
    assert (code, payload["tool"], payload["migrations"]) == (1, "golang-migrate", ["1_init.up.sql", "2_rename.up.sql"])
    assert found(payload) == {
        ("2_rename.up.sql", "renaming-column", "error"),
        ("2_rename.up.sql", "require-lock-timeout", "warning"),
    }


def test_usage_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    prisma_project(tmp_path / "app", {"20250101000000_init": INIT})
    (tmp_path / "nothing").mkdir()
    for args, message in [
        (["nothing"], f"error: no migrations found in {tmp_path / 'nothing'}: looked for alembic.ini, "),
        (["absent"], f"error: {tmp_path / 'absent'} is not a directory"),
        (["app", "--base-ref", "v9"], "error: --base-ref: v9 is not a commit of this repository"),
        (["app", "--fail-on", "sometimes"], "error: --fail-on is error, warning, never, not 'sometimes'"),
    ]:
        args[0] = str(tmp_path / args[0])
        done = run_lint(*args)
        assert (done.returncode, done.stdout, done.stderr.count("\n")) == (2, "", 1), (args, done.stderr)
        assert done.stderr.startswith(message), done.stderr


def test_rehearse_says_the_findings_before_the_migrations_run() -> None:
    done = live_view("--migrations", "examples/shop")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    finding = lines.index(
        "   lint: error require-concurrent-index-creation in "
        "prisma/migrations/20250310083000_order_status/migration.sql:8: "
        "During normal index creation, table updates are blocked, but reads are still allowed."
    )
    assert "   lint: 1 error, 3 warnings in 3 pending migrations (all: no --base-ref)" in lines[:finding]
    first_state = next(number for number, line in enumerate(lines) if line.startswith(" ✓ "))
    assert finding < first_state


def test_rehearse_json_carries_the_findings() -> None:
    code, payload, stderr = rehearse("--migrations", "examples/broken", "--json")
    assert payload is not None, stderr
    assert code == 1  # the NOT NULL column lint warned about fails on the table's rows
    assert payload["lint"]["counts"] == {"error": 2, "warning": 1}
    assert {(f["migration"], f["rule"]) for f in payload["lint"]["findings"] if f["severity"] == "error"} == {
        ("20250320100000_add_not_null_sku", "require-concurrent-index-creation"),
        ("20250320100000_add_not_null_sku", "adding-required-field"),
    }


def test_the_alembic_example_renders_offline_and_lints() -> None:
    done = run_lint("examples/alembic")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "in 3 pending migrations" in done.stdout
