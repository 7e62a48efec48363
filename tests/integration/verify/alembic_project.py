"""A tiny Alembic project written into a temp dir and run for real with `alembic upgrade`.

The verifier's Alembic tests read what Alembic itself wrote, not a hand-made alembic_version.
env.py commits each revision on its own (transaction_per_migration), as long-running projects
usually configure it, so a failing revision leaves the previous head in place.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ENV_PY = """\
import os

from alembic import context
from sqlalchemy import create_engine

# SQLAlchemy 2.1 maps postgresql:// to psycopg 3; the project ships psycopg2.
url = os.environ["VERIFY_ALEMBIC_URL"].replace("postgresql://", "postgresql+psycopg2://", 1)
engine = create_engine(url)
with engine.connect() as connection:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
"""

REVISION_PY = """\
from alembic import op

revision = {revision!r}
down_revision = {down_revision!r}
branch_labels = None
depends_on = None


def upgrade():
{body}


def downgrade():
    pass
"""


@dataclass(frozen=True)
class Revision:
    revision: str
    down_revision: str | None
    upgrade_sql: str

    def source(self) -> str:
        body = f"    op.execute({self.upgrade_sql!r})"
        return REVISION_PY.format(revision=self.revision, down_revision=self.down_revision, body=body)


def write_project(root: Path, revisions: list[Revision]) -> Path:
    """alembic.ini, env.py and one file per revision; returns the ini path."""
    scripts = root / "migrations"
    (scripts / "versions").mkdir(parents=True)
    (scripts / "env.py").write_text(ENV_PY)
    (scripts / "script.py.mako").write_text("")
    for revision in revisions:
        (scripts / "versions" / f"{revision.revision}.py").write_text(revision.source())
    ini = root / "alembic.ini"
    ini.write_text(f"[alembic]\nscript_location = {scripts}\n")
    return ini


def alembic(ini: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`alembic -c INI ARGS...` in a subprocess, the way a migration container runs it."""
    return subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(ini), *args],
        env={**os.environ, "VERIFY_ALEMBIC_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
