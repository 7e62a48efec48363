"""`rehearse --from-database` measures what each migration locks on the copy, and for how long:
a Prisma project (a migration file sent as one query: named by the migration) and an Alembic one
(one statement at a time: named by the statement).

The original holds a table of a million rows, so a plain CREATE INDEX on it holds its SHARE lock
long enough to be seen (about a second here), and a later migration, adding a column with a volatile
default, rewrites it under ACCESS EXCLUSIVE.
The truth the report is held to is the migrator's own record of each migration's start and end
(`_prisma_migrations`, written by the database's clock).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from ecs_migrate_deploy.prisma_runner import deploy
from tests.e2e.rehearsal import ROOT, original_database, query, rehearse

EXAMPLES = ROOT / "examples"

ROWS = 1_000_000
INIT = 'CREATE TABLE "Big" (id integer PRIMARY KEY, value text NOT NULL);\n'
INDEX = 'CREATE INDEX "Big_value_idx" ON "Big" (value);\n'
COLUMN = 'ALTER TABLE "Big" ADD COLUMN token text NOT NULL DEFAULT md5(random()::text);\n'  # rewrites the table


def _migration(folder: Path, name: str, script: str) -> None:
    (folder / name).mkdir(parents=True)
    (folder / name / "migration.sql").write_text(script)


@pytest.fixture
def big_original(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The original at the first migration with ROWS rows, and the project whose next two are pending."""
    migrations = tmp_path / "app" / "prisma" / "migrations"
    _migration(migrations, "20250101000000_init", INIT)
    with original_database("emd_big") as url:
        assert deploy(url, migrations, out=io.StringIO()) == 0
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute('INSERT INTO "Big" SELECT g, md5(g::text) FROM generate_series(1, %s) AS g', (ROWS,))
        conn.close()
        _migration(migrations, "20250202000000_index", INDEX)
        _migration(migrations, "20250303000000_column", COLUMN)
        yield url, tmp_path / "app"


def test_the_report_names_each_migration_s_table_lock_mode_and_how_long_it_held_it(
    big_original: tuple[str, Path], kept: list[str]
) -> None:
    original, project = big_original
    command = f"{sys.executable} -m ecs_migrate_deploy.prisma_runner"

    code, payload, stderr = rehearse(
        "--migrations", str(project), "--from-database", original, "--migrate-command", command,
        "--json", "--keep-database",
    )  # fmt: skip

    assert payload is not None, stderr
    kept.append(payload["database"]["name"])
    assert code == 0, payload["cause"]
    locks = payload["locks"]
    assert locks["incomplete"] is None and locks["samples"] > 0
    held = {(lock["migration"], lock["table"]): lock for lock in locks["held"]}
    index = held[("20250202000000_index", '"Big"')]
    column = held[("20250303000000_column", '"Big"')]
    assert (index["mode"], index["blocks"]) == ("SHARE", "blocks writes; reads go on")
    assert (column["mode"], column["blocks"]) == ("ACCESS EXCLUSIVE", "blocks reads and writes")
    assert index["rows"] == pytest.approx(ROWS, rel=0.05)  # the planner's estimate after ANALYZE
    # within a reasonable bound of the truth: the migration's own duration, as the database recorded it
    ((truth,),) = query(
        payload["database"]["name"],
        "SELECT extract(epoch FROM finished_at - started_at)::float FROM _prisma_migrations "
        "WHERE migration_name = '20250202000000_index'",
    )
    assert truth > 0.3, f"the index took {truth:.2f}s: too quick to measure a lock"
    interval = locks["sampled_every_seconds"]
    assert 0.5 * truth <= index["seconds"] <= truth + 4 * interval + 0.5, (index["seconds"], truth)
    line = next(line for line in locks["lines"] if line.startswith("20250202000000_index:"))
    assert line.startswith('20250202000000_index: SHARE on "Big" for ')
    assert "production" in locks["note"] and "load" in locks["note"]


ALEMBIC_BIG = """\"\"\"{message}\"\"\"

from alembic import op

revision = "{revision}"
down_revision = {down}
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute({statement!r})


def downgrade() -> None:
    pass
"""


def test_an_alembic_project_s_locks_are_named_by_the_statement_that_took_them(tmp_path: Path, kept: list[str]) -> None:
    project = tmp_path / "alembic-app"
    shutil.copytree(EXAMPLES / "alembic", project, ignore=shutil.ignore_patterns("versions"))
    versions = project / "migrations" / "versions"
    versions.mkdir()
    (versions / "a1_big.py").write_text(
        ALEMBIC_BIG.format(message="big", revision="a1", down="None", statement=INIT.replace('"Big"', "big"))
    )
    with original_database("emd_big_alembic") as url:
        alembic = [str(Path(sys.executable).parent / "alembic"), "-c", str(project / "alembic.ini"), "upgrade", "head"]
        subprocess.run(alembic, env={**os.environ, "DATABASE_URL": url}, check=True, capture_output=True)
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, %s) AS g", (ROWS,))
        conn.close()
        (versions / "b2_index.py").write_text(
            ALEMBIC_BIG.format(
                message="index", revision="b2", down='"a1"', statement="CREATE INDEX big_value ON big (value)"
            )
        )

        code, payload, stderr = rehearse("--migrations", str(project), "--from-database", url, "--json")

    assert payload is not None, stderr
    assert code == 0, payload["cause"]
    (lock,) = [lock for lock in payload["locks"]["held"] if lock["table"] == '"big"']
    assert lock["migration"] == "statement `CREATE INDEX big_value ON big (value)`"
    assert lock["mode"] == "SHARE" and lock["seconds"] > 0.3, lock
