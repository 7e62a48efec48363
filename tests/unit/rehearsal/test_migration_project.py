"""Which tool a project folder uses, read from the files the tool itself reads, and what runs for it."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest

from ecs_migrate_deploy.local_migrations import choose, is_prisma_deploy
from ecs_migrate_deploy.migration_project import NoMigrations, detect
from ecs_migrate_deploy.real_prisma import prisma_binary

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"
DEFAULT = shlex.split("npx prisma migrate deploy")


def write(root: Path, files: dict[str, str]) -> Path:
    (root / ".git").mkdir(exist_ok=True)  # the project's repository root: detection looks no higher
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_a_prisma_project_names_its_newest_migration_and_the_file_that_identified_it() -> None:
    project = detect(EXAMPLES / "shop")
    assert (project.tool, project.newest) == ("prisma", "20250310083000_order_status")
    assert project.evidence.name == "migration_lock.toml"


def test_an_alembic_project_gets_its_head_from_alembic_itself() -> None:
    project = detect(EXAMPLES / "alembic")
    assert (project.tool, project.newest, project.command) == (
        "alembic",
        "3c4d5e6f7a8b",
        ["alembic", "upgrade", "head"],
    )
    assert project.described == f"Alembic project ({EXAMPLES / 'alembic' / 'alembic.ini'})"


def test_prisma_config_moves_the_migrations(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "prisma.config.ts": 'export default defineConfig({ schema: "db/schema", migrations: { path: "db/history" } });',
            "db/history/20250101_init/migration.sql": "CREATE TABLE a (id int);",
            "db/history/20250202_more/migration.sql": "CREATE TABLE b (id int);",
            "db/schema/main.prisma": "",
        },
    )
    project = detect(tmp_path)
    assert project.migrations_dir == tmp_path / "db" / "history"
    assert project.newest == "20250202_more"


def test_a_migration_folder_without_its_script_is_refused_as_prisma_refuses_it(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"prisma/migrations/20250101_init/migration.sql": "SELECT 1;", "prisma/migrations/20250202_lost/README": "x"},
    )
    with pytest.raises(NoMigrations, match=r"20250202_lost has no migration.sql; Prisma refuses .*P3015"):
        detect(tmp_path)


@pytest.mark.parametrize(
    ("files", "tool", "newest"),
    [
        ({"sql/V1__init.sql": "", "sql/V2__b.sql": "", "sql/V10__c.sql": "", "sql/R__view.sql": ""}, "flyway", "10"),
        ({"db/migration/V1_1__a.sql": "", "db/migration/V1_10__b.sql": ""}, "flyway", "1.10"),
        (
            {"migrations/1_init.up.sql": "", "migrations/1_init.down.sql": "", "migrations/12_x.up.sql": ""},
            "golang-migrate",
            "12_x",
        ),
        ({"manage.py": "", "shop/migrations/0001_initial.py": ""}, "django", None),
        ({"db/migrate/20240101000000_a.rb": "", "db/migrate/20250101000000_b.rb": ""}, "rails", "20250101000000"),
    ],
)
def test_other_tools_are_recognised_for_verify_and_told_what_to_pass(
    tmp_path: Path, files: dict[str, str], tool: str, newest: str | None
) -> None:
    project = detect(write(tmp_path, files))
    assert (project.tool, project.newest) == (tool, newest)
    with pytest.raises(NoMigrations, match="--migrate-command"):
        choose(tmp_path, None, DEFAULT)
    assert choose(tmp_path, ["true"], DEFAULT).project == project  # with a command, the verify tool still comes from it


def test_no_migrations_names_what_was_looked_for_and_where(tmp_path: Path) -> None:
    write(tmp_path, {"package.json": "{}", "src/index.ts": ""})
    with pytest.raises(NoMigrations) as raised:
        detect(tmp_path)
    assert str(raised.value).startswith(f"no migrations found in {tmp_path}: looked for alembic.ini, Prisma's")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ("npx prisma migrate deploy", True),
        ("npx --yes prisma migrate deploy --schema db/schema.prisma", True),
        ("pnpm exec prisma migrate deploy", True),
        ("npm exec -- prisma migrate deploy", True),
        ("yarn prisma migrate deploy", True),
        ("./node_modules/.bin/prisma migrate deploy", True),
        ("python -m ecs_migrate_deploy.prisma_runner migrate deploy", False),
        ("sh -c 'npx prisma migrate deploy && node seed.js'", False),
        ("npx prisma migrate status", False),
        ("alembic upgrade head", False),
    ],
)
def test_what_counts_as_prisma_migrate_deploy(argv: str, expected: bool) -> None:
    assert is_prisma_deploy(shlex.split(argv)) is expected


def test_a_given_command_runs_exactly_as_given_even_when_it_mentions_prisma() -> None:
    given = [sys.executable, "-m", "ecs_migrate_deploy.prisma_runner", "migrate", "deploy"]
    plan = choose(EXAMPLES / "shop", given, DEFAULT)
    assert (plan.argv, plan.prisma_migrations) == (given, None)
    assert plan.how == "as given with --migrate-command"


def test_the_template_default_in_an_alembic_project_runs_alembic() -> None:
    plan = choose(EXAMPLES / "alembic", None, DEFAULT)
    assert plan.argv == ["alembic", "upgrade", "head"]
    assert plan.cwd == EXAMPLES / "alembic"


def test_a_configured_command_that_is_not_prisma_deploy_runs_as_configured() -> None:
    plan = choose(EXAMPLES / "shop", None, ["sh", "-c", "exit 3"])
    assert plan.argv == ["sh", "-c", "exit 3"]


def test_the_projects_own_prisma_is_preferred_to_ours(tmp_path: Path) -> None:
    ours = prisma_binary()
    assert ours is not None, "run `make install`: the real Prisma CLI is part of the test environment"
    app = (
        write(
            tmp_path,
            {
                "apps/api/package.json": json.dumps({"devDependencies": {"prisma": "6.19.3"}}),
                "apps/api/prisma/migrations/20250101_init/migration.sql": "CREATE TABLE a (id int);",
            },
        )
        / "apps"
        / "api"
    )
    (app / "node_modules").symlink_to(ours.parent.parent, target_is_directory=True)
    plan = choose(app / "prisma", None, DEFAULT)  # pointed at the migrations' parent: the package is found above
    assert plan.argv == [str(app / "node_modules" / ".bin" / "prisma"), "migrate", "deploy"]
    assert (plan.cwd, plan.prisma_migrations) == (app, None)
    assert plan.how.startswith("the project's own Prisma")


def test_a_project_that_asks_for_prisma_without_installing_it_is_told_so(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "package.json": json.dumps({"dependencies": {"prisma": "^6"}}),
            "prisma/migrations/20250101_init/migration.sql": "CREATE TABLE a (id int);",
        },
    )
    plan = choose(tmp_path, None, DEFAULT)
    assert "package.json asks for Prisma, but its node_modules is not installed" in plan.how
