"""Which migration tool a project folder uses, from the files the tool itself reads.

The rehearsal needs three answers before it creates anything: what to run (the tool's own deploy
command), what the stack's `VerifyTool` must be so Verify reads the right history table, and which
migration is the newest (so a migrator that applies only part of the set fails Verify instead of
passing on its exit code). Each answer comes from the file that identifies the tool, and is
reported with it ("Alembic project (alembic.ini)").

Layouts, as each tool's documentation gives them:
- Prisma: `<schema dir>/migrations/<name>/migration.sql`, one folder per migration, applied in
  name order; `prisma.config.ts` may move it (`migrations: { path: "…" }`). A folder without its
  `migration.sql` is refused by Prisma (P3015), so it is refused here too.
- Alembic: `alembic.ini`; the heads come from Alembic's own ScriptDirectory.
- Flyway: versioned scripts `V<version>__<description>.sql` (in `sql/`, `db/migration/`, or the folder).
- golang-migrate: `<version>_<title>.up.sql` beside `.down.sql`.
- Django: `manage.py`. Rails: `db/migrate/<timestamp>_<name>.rb`.
The last four are recognised so the verify tool is right and the user is told what command to
pass; the rehearsal runs only what it can run faithfully here (Prisma, Alembic, or a given command).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ecs_migrate_deploy.prisma_runner import find_migrations_dir, list_migrations

# This repository's own install (our Prisma scaffolding), never taken for the project's own tool.
OUR_ROOT = Path(__file__).resolve().parents[2]


class NoMigrations(Exception):
    """The folder holds no migrations of any tool we know, or a layout the tool itself refuses."""


@dataclass(frozen=True)
class Project:
    """A migration project: its tool, where it was recognised, and what to run."""

    tool: str  # the stack's VerifyTool value
    evidence: Path  # the file or folder that identified the tool
    root: Path  # where the tool's command runs
    command: list[str] | None  # how to run it here; None: the user must pass --migrate-command
    newest: str | None  # the migration Verify must find applied (None: not knowable here)
    migrations_dir: Path | None = None  # Prisma: the migrations folder
    suggestion: str = ""  # for tools we do not run: what to pass

    @property
    def described(self) -> str:
        return f"{TOOL_NAMES[self.tool]} project ({self.evidence})"


TOOL_NAMES = {
    "prisma": "Prisma",
    "alembic": "Alembic",
    "flyway": "Flyway",
    "golang-migrate": "golang-migrate",
    "django": "Django",
    "rails": "Rails",
}


def detect(folder: Path) -> Project:
    """The project in `folder`, or NoMigrations naming what was looked for and where."""
    for probe in (_alembic, _prisma, _flyway, _golang_migrate, _django, _rails):
        project = probe(folder)
        if project is not None:
            return project
    raise NoMigrations(
        f"no migrations found in {folder}: looked for alembic.ini, Prisma's <name>/migration.sql folders "
        "(prisma/migrations, migrations, or prisma.config.ts's migrations.path), Flyway V<version>__*.sql, "
        "golang-migrate *.up.sql, Django manage.py and Rails db/migrate"
    )


def _alembic(folder: Path) -> Project | None:
    ini = folder / "alembic.ini"
    if not ini.is_file():
        return None
    return Project("alembic", ini, folder, ["alembic", "upgrade", "head"], alembic_head(ini))


def alembic_head(ini: Path) -> str | None:
    """The single head revision, read by Alembic itself (None when there are several or none)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config(str(ini))
    try:
        heads = ScriptDirectory.from_config(config).get_heads()
    except Exception:  # a broken script folder: `alembic upgrade` will say why, with its own words
        return None
    return heads[0] if len(heads) == 1 else None


def _prisma(folder: Path) -> Project | None:
    migrations = find_migrations_dir(folder)
    if migrations is None:
        return None
    listed = list_migrations(migrations)
    missing = [m.path.parent.name for m in listed if not m.path.is_file()]
    if missing:
        raise NoMigrations(
            f"{migrations / missing[0]} has no migration.sql; Prisma refuses such a folder (P3015: "
            "delete the directory or restore the migration file)"
        )
    evidence = migrations / "migration_lock.toml"
    own = own_prisma(folder)
    return Project(
        "prisma",
        evidence if evidence.is_file() else migrations,
        own.parent.parent.parent if own else folder,
        [str(own), "migrate", "deploy"] if own else None,  # None: our Prisma, chosen by the runner
        listed[-1].name if listed else None,
        migrations,
    )


def own_prisma(folder: Path) -> Path | None:
    """The project's own `node_modules/.bin/prisma`: in the folder or a parent, up to the repository
    root (the first folder holding `.git`), beside a package.json that depends on `prisma`."""
    for directory in _up_to_repository_root(folder.resolve()):
        if directory == OUR_ROOT:
            return None
        binary = directory / "node_modules" / ".bin" / "prisma"
        if binary.exists() and _declares_prisma(directory / "package.json"):
            return binary
    return None


def declared_prisma_without_install(folder: Path) -> Path | None:
    """A package.json that depends on prisma whose node_modules is not installed (to say so)."""
    for directory in _up_to_repository_root(folder.resolve()):
        if directory == OUR_ROOT:
            return None
        if (
            _declares_prisma(directory / "package.json")
            and not (directory / "node_modules" / ".bin" / "prisma").exists()
        ):
            return directory / "package.json"
    return None


def _up_to_repository_root(start: Path) -> Iterator[Path]:
    for directory in (start, *start.parents):
        yield directory
        if (directory / ".git").exists():
            return


def _declares_prisma(package_json: Path) -> bool:
    try:
        package = json.loads(package_json.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(package, dict) and any(
        "prisma" in (package.get(key) or {}) for key in ("dependencies", "devDependencies")
    )


_FLYWAY = re.compile(r"^V(?P<version>\d+(?:[._]\d+)*)__.+\.sql$")
_GOLANG = re.compile(r"^(?P<version>\d+)_.+\.up\.sql$")


def _flyway(folder: Path) -> Project | None:
    found = _versioned(folder, ("sql", "db/migration", "src/main/resources/db/migration", "."), _FLYWAY)
    if found is None:
        return None
    location, scripts = found
    return Project(
        "flyway",
        scripts[0][1],
        folder,
        None,
        scripts[-1][2].replace("_", "."),
        suggestion=(
            "--migrate-command \"sh -c 'flyway -url=jdbc:postgresql://$PGHOST:$PGPORT/$PGDATABASE "
            f"-user=$PGUSER -locations=filesystem:{location} migrate'\""
        ),
    )


def _golang_migrate(folder: Path) -> Project | None:
    found = _versioned(folder, ("migrations", "db/migrations", "."), _GOLANG)
    if found is None:
        return None
    location, scripts = found
    return Project(
        "golang-migrate",
        scripts[0][1],
        folder,
        None,
        scripts[-1][1].name.removesuffix(".up.sql"),
        suggestion=f'--migrate-command "sh -c \'migrate -path {location} -database \\"$DATABASE_URL\\" up\'"',
    )


def _versioned(
    folder: Path, places: tuple[str, ...], pattern: re.Pattern[str]
) -> tuple[str, list[tuple[tuple[int, ...], Path, str]]] | None:
    """(place, [(version key, script, version)] in version order) for the first place holding scripts."""
    for place in places:
        scripts = sorted(
            (_version_key(match["version"]), path, match["version"])
            for path in (folder / place).glob("*.sql")
            if (match := pattern.match(path.name))
        )
        if scripts:
            return place, scripts
    return None


def _django(folder: Path) -> Project | None:
    manage = folder / "manage.py"
    if not manage.is_file():
        return None
    return Project(
        "django",
        manage,
        folder,
        None,
        None,
        suggestion="--migrate-command 'python manage.py migrate --no-input' (with settings that read DATABASE_URL)",
    )


def _rails(folder: Path) -> Project | None:
    migrate = folder / "db" / "migrate"
    if not migrate.is_dir() or not any(migrate.glob("*.rb")):
        return None
    newest = max(p.name.split("_")[0] for p in migrate.glob("*.rb"))
    return Project("rails", migrate, folder, None, newest, suggestion="--migrate-command 'bin/rails db:migrate'")


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.split(r"[._]", version))
