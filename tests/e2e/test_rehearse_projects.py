"""`rehearse` on projects as their teams have them: their own tool, their own command, their own
database at an older version, and the failures it must make plain."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from ecs_migrate_deploy.prisma_runner import deploy
from ecs_migrate_deploy.real_prisma import prisma_binary
from tests.e2e.rehearsal import ROOT, live_view, original_database, query, rehearse
from tests.support.postgres import server_url

EXAMPLES = ROOT / "examples"


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def prisma_migration(folder: Path, name: str, script: str) -> None:
    (folder / name).mkdir(parents=True)
    (folder / name / "migration.sql").write_text(script)


def test_an_alembic_project_runs_alembic_and_is_verified_by_alembic(kept: list[str]) -> None:
    code, payload, stderr = rehearse("--migrations", "examples/alembic", "--json", "--keep-database")
    assert payload is not None, stderr
    kept.append(payload["database"]["name"])
    assert code == 0, payload
    assert (payload["tool"], payload["migration_command"]) == ("alembic", "alembic upgrade head")
    verification = payload["deployment"]["verification"]
    assert (verification["tool"], verification["latest_applied"]) == ("alembic", "3c4d5e6f7a8b")
    assert query(payload["database"]["name"], "SELECT version_num FROM alembic_version") == [("3c4d5e6f7a8b",)]


def test_an_env_py_that_asks_for_psycopg2_works_as_well(tmp_path: Path) -> None:
    project = tmp_path / "app"
    shutil.copytree(EXAMPLES / "alembic", project)
    env_py = project / "migrations" / "env.py"
    env_py.write_text(
        env_py.read_text().replace(
            'os.environ["DATABASE_URL"]',
            'os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg2://", 1)',
        )
    )
    code, payload, stderr = rehearse("--migrations", str(project), "--json")
    assert payload is not None, stderr
    assert code == 0, payload["cause"]


def test_a_given_command_runs_literally_even_when_it_mentions_prisma_migrate_deploy() -> None:
    command = f"{sys.executable} -m ecs_migrate_deploy.prisma_runner migrate deploy"
    code, payload, stderr = rehearse("--migrations", "examples/shop", "--migrate-command", command, "--json")
    assert payload is not None, stderr
    assert code == 0, payload["cause"]
    assert payload["migration_command_chosen"] == "as given with --migrate-command"
    assert payload["migration_command"] == command
    assert any("3 migrations found in" in line for line in payload["deployment"]["migration"]["log_tail"])


def test_a_shell_command_keeps_its_quotes_and_its_exit_code() -> None:
    code, payload, stderr = rehearse(
        "--migrations", "examples/shop", "--migrate-command", "sh -c 'echo applying; exit 3'", "--json"
    )
    assert payload is not None, stderr
    assert (code, payload["error"]) == (1, "MigrationFailed")
    migration = payload["deployment"]["migration"]
    assert migration["exit_code"] == 3
    assert migration["log_tail"] == ["applying"]


def test_a_failure_says_its_error_once_with_the_databases_own_words() -> None:
    done = live_view("--migrations", "examples/broken")
    assert done.returncode == 1, done.stdout + done.stderr
    summary = done.stdout.split("\nFailed  (FAILED)\n", 1)[1]
    assert summary.count("MigrationFailed") == 1, summary
    assert '  Database error: ERROR:  column "sku" of relation "Product" contains null values' in summary
    assert "Last log lines" not in summary  # the live view showed them; the summary does not repeat them


def test_the_project_s_own_prisma_runs_with_its_own_config_and_multi_file_schema(tmp_path: Path) -> None:
    """A Prisma 6 project on the driver adapter, its schema split in files, its migrations moved by
    a prisma.config.ts that computes the path: its own CLI runs, in its folder, with its config."""
    ours = prisma_binary()
    assert ours is not None, "run `make install`: the real Prisma CLI is part of the test environment"
    git(tmp_path, "init", "-q")
    app = tmp_path / "app"
    (app / "db" / "schema").mkdir(parents=True)
    (app / "node_modules").symlink_to(ours.parent.parent, target_is_directory=True)
    (app / "package.json").write_text(json.dumps({"devDependencies": {"prisma": "6.19.3"}}))
    (app / "prisma.config.ts").write_text(
        'import path from "node:path";\n'
        'import { defineConfig } from "prisma/config";\n'
        'import { PrismaPg } from "@prisma/adapter-pg";\n'
        "export default defineConfig({\n"
        '  experimental: { adapter: true }, engine: "js", schema: path.join("db", "schema"),\n'
        '  migrations: { path: path.join("db", "history") },\n'
        "  async adapter() { return new PrismaPg({ connectionString: process.env.DATABASE_URL, allowExitOnIdle: true }); },\n"
        "});\n"
    )
    (app / "db" / "schema" / "base.prisma").write_text(
        'generator client {\n  provider = "prisma-client-js"\n  engineType = "client"\n'
        '  previewFeatures = ["driverAdapters", "queryCompiler"]\n}\n'
        'datasource db {\n  provider = "postgresql"\n  url = env("DATABASE_URL")\n}\n'
    )
    (app / "db" / "schema" / "user.prisma").write_text("model User {\n  id Int @id\n}\n")
    (app / "db" / "history").mkdir()
    (app / "db" / "history" / "migration_lock.toml").write_text('provider = "postgresql"\n')
    prisma_migration(app / "db" / "history", "20250101000000_init", 'CREATE TABLE "User" ("id" INTEGER PRIMARY KEY);\n')

    code, payload, stderr = rehearse("--migrations", str(app), "--json")

    assert payload is not None, stderr
    assert code == 0, payload["cause"]
    assert payload["migration_command"] == f"{app / 'node_modules' / '.bin' / 'prisma'} migrate deploy"
    assert payload["deployment"]["verification"]["latest_applied"] == "20250101000000_init"
    assert "Prisma schema loaded from db/schema" in payload["deployment"]["migration"]["log_tail"]


def test_a_migration_folder_without_its_script_is_refused_before_anything_is_created(tmp_path: Path) -> None:
    prisma_migration(tmp_path / "prisma" / "migrations", "20250101000000_init", "CREATE TABLE a (id int);")
    (tmp_path / "prisma" / "migrations" / "20250202000000_lost").mkdir()
    code, _payload, stderr = rehearse(
        "--migrations", str(tmp_path), database_url="postgresql://postgres@127.0.0.1:1/postgres"
    )
    assert code == 2
    assert "20250202000000_lost has no migration.sql; Prisma refuses such a folder (P3015" in stderr


def test_a_flyway_project_is_verified_with_flyway_s_history_table(tmp_path: Path) -> None:
    (tmp_path / "sql").mkdir()
    (tmp_path / "sql" / "V1__init.sql").write_text("CREATE TABLE a (id int);")
    code, _payload, stderr = rehearse("--migrations", str(tmp_path), database_url=server_url())
    assert code == 2
    assert "Flyway project" in stderr and "--migrate-command" in stderr and "flyway" in stderr

    # A command that does not keep Flyway's history fails Verify, read as Flyway's table.
    code, payload, stderr = rehearse("--migrations", str(tmp_path), "--migrate-command", "true", "--json")
    assert payload is not None, stderr
    assert (code, payload["error"]) == (1, "SchemaVerificationFailed")
    assert "the flyway verification of the database failed" in payload["cause"]
    assert "flyway_schema_history" in payload["cause"]


def test_the_newest_migration_in_the_folder_is_expected(tmp_path: Path) -> None:
    """A migrator that applies part of the set and exits 0 fails Verify: the folder's newest is expected."""
    project = tmp_path / "app"
    shutil.copytree(EXAMPLES / "shop", project)
    stops_early = (
        f"{sys.executable} -c \"import os, subprocess, sys; sys.exit(subprocess.call(['{sys.executable}', '-m', "
        f"'ecs_migrate_deploy.prisma_runner', sys.argv[1]]))\" {tmp_path / 'first-two'}"
    )
    (tmp_path / "first-two").mkdir()
    for name in sorted(p.name for p in (project / "prisma" / "migrations").iterdir() if p.is_dir())[:2]:
        shutil.copytree(project / "prisma" / "migrations" / name, tmp_path / "first-two" / name)

    code, payload, stderr = rehearse("--migrations", str(project), "--migrate-command", stops_early, "--json")

    assert payload is not None, stderr
    assert (code, payload["error"]) == (1, "SchemaVerificationFailed"), payload["cause"]
    assert payload["deployment"]["migration"]["exit_code"] == 0
    assert "20250310083000_order_status" in payload["cause"]


@pytest.fixture
def source_database(tmp_path: Path) -> Iterator[str]:
    """A database at v1 of the shop (its first migration, with Prisma's history) holding 1,000
    customers: the original."""
    with original_database("emd_source") as url:
        v1 = tmp_path / "v1"
        shutil.copytree(EXAMPLES / "shop" / "prisma" / "migrations" / "20250101090000_init", v1 / "20250101090000_init")
        assert deploy(url, v1, out=io.StringIO()) == 0
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute(
                'INSERT INTO "Customer" (email, name) '
                "SELECT 'c' || g || '@example.com', 'c' FROM generate_series(1, 1000) g"
            )
        conn.close()
        yield url


def test_from_database_rehearses_on_a_copy_and_never_touches_the_original(source_database: str) -> None:
    command = f"{sys.executable} -m ecs_migrate_deploy.prisma_runner"
    before = _tables(source_database)

    code, payload, stderr = rehearse(
        "--migrations", "examples/shop", "--from-database", source_database, "--migrate-command", command, "--json"
    )

    assert payload is not None, stderr
    assert code == 0, payload["cause"]
    assert payload["base"][0].startswith(f"copy of 127.0.0.1:5432/{source_database.rsplit('/', 1)[1]}: ")
    assert "2 tables, about 1,001 rows" in payload["base"][0]  # 1,000 customers and the history row
    assert payload["migrator_seconds"] > 0
    assert _tables(source_database) == before  # the release's tables went to the copy only


def test_base_ref_applies_the_older_migrations_first_and_drift_is_reported(tmp_path: Path) -> None:
    repo = tmp_path
    migrations = repo / "prisma" / "migrations"
    prisma_migration(migrations, "20250101000000_users", "CREATE TABLE users (id int PRIMARY KEY);\n")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "v1")
    prisma_migration(migrations, "20250202000000_posts", "CREATE TABLE posts (id int PRIMARY KEY);\n")
    # Edited after v1 was released: the base applied the old text; the file now differs.
    (migrations / "20250101000000_users" / "migration.sql").write_text("CREATE TABLE users (id bigint PRIMARY KEY);\n")
    command = f"{sys.executable} -m ecs_migrate_deploy.prisma_runner"

    code, payload, stderr = rehearse(
        "--migrations", str(repo), "--base-ref", "HEAD", "--migrate-command", command, "--json"
    )

    assert payload is not None, stderr
    assert code == 0, payload["cause"]
    assert payload["base"] == ["migrations as they were at HEAD applied"]
    added = payload["deployment"]["verification"]["schema_diff"]["added"]
    assert "table:public.posts" in added and "table:public.users" not in added  # users came with the base
    assert payload["drift"] == ["20250101000000_users"]


def _tables(url: str) -> list[str]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        tables = [row[0] for row in cur.fetchall()]
    conn.close()
    return tables


def test_a_prisma_7_project_without_its_install_runs_on_our_prisma(tmp_path: Path) -> None:
    """Prisma 7 moves the datasource url to prisma.config.ts and drops it from the schema; its
    migrations folder is the same. Not installed here (Prisma 7 needs its native engine, which cannot
    be downloaded on this machine), the project is rehearsed on our Prisma 6 and told so."""
    git(tmp_path, "init", "-q")
    (tmp_path / "package.json").write_text(json.dumps({"devDependencies": {"prisma": "7.10.1"}}))
    (tmp_path / "prisma.config.ts").write_text(
        'import { defineConfig, env } from "prisma/config";\n'
        'export default defineConfig({ schema: "prisma/schema.prisma", migrations: { path: "prisma/migrations" },\n'
        '  datasource: { url: env("DATABASE_URL") } });\n'
    )
    (tmp_path / "prisma").mkdir()
    (tmp_path / "prisma" / "schema.prisma").write_text('datasource db {\n  provider = "postgresql"\n}\n')
    prisma_migration(tmp_path / "prisma" / "migrations", "20250101000000_init", "CREATE TABLE a (id int);\n")

    code, payload, stderr = rehearse("--migrations", str(tmp_path), "--json")

    assert payload is not None, stderr
    assert code == 0, payload["cause"]
    assert "package.json asks for Prisma, but its node_modules is not installed" in payload["migration_command_chosen"]


def test_the_schema_summary_counts_every_object_past_the_listed_fifty(tmp_path: Path) -> None:
    tables = "".join(f'CREATE TABLE "t{n}" ("id" INTEGER PRIMARY KEY);\n' for n in range(60))
    prisma_migration(tmp_path / "prisma" / "migrations", "20250101000000_many", tables)
    done = live_view("--migrations", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    # 60 tables and _prisma_migrations; each with its primary key (a constraint and its index).
    assert "schema    added: " in done.stdout and "61 tables" in done.stdout, done.stdout
    verify_line = next(line for line in done.stdout.splitlines() if "✓ Verify" in line)
    changed = re.search(r", (\d+) schema objects changed", verify_line)
    assert changed is not None and int(changed.group(1)) == 61 * 3 + 60 + 8, verify_line  # + 8 history columns
