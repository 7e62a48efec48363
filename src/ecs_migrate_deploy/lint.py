"""`ecs-migrate-deploy lint`: what the pending migrations will lock, read from their SQL by squawk.

A migration that applies on the rehearsal's small database can still take production down: a
`CREATE INDEX` blocks writes for as long as the index builds, `ADD COLUMN … NOT NULL` without a
default fails on a table with rows, a foreign key validates every row under a lock. squawk (PyPI
`squawk-cli`, its binary in the wheel) reads the statements and says so before anything runs.

What is linted: the migrations pending relative to `--base-ref` (present in the folder, not in that
commit's copy of it, read with `git archive` by base_state.checkout), or all of them without one:
- Prisma: each `<name>/migration.sql`; Flyway `V<version>__*.sql` and golang-migrate `*.up.sql`:
  each script, found as migration_project.detect finds the project;
- Alembic: the SQL `alembic upgrade --sql <base head>:head` renders offline, linted as one file (one
  connection runs it all, so a `SET lock_timeout` counts for what follows, as squawk reads it), each
  finding given to the revision whose `-- Running upgrade` section holds it. DATABASE_URL is set to a
  host that cannot resolve: lint never connects to a database.

How squawk runs (docs/lint.md says why for each rule):
- transactions: Prisma sends a migration.sql as one simple-query message (one implicit transaction),
  Flyway wraps each script in one, golang-migrate sends the file as one message: squawk is told
  (`--assume-in-transaction`), so an index on a table created in the same migration is not flagged,
  and `CREATE INDEX CONCURRENTLY` beside another statement is (PostgreSQL would refuse it). Alembic's
  rendered SQL carries its own BEGIN/COMMIT (`--no-assume-in-transaction`).
- rules: squawk's defaults without STYLE_RULES. A finding is an error when its rule is in
  ERROR_RULES, a warning otherwise; `--fail-on` decides which of them fail the command.
- the project's `.squawk.toml` (in the folder or a parent, up to the repository root) is given to
  squawk, and its `excluded_rules` and `included_rules` are combined with ours: squawk's `--exclude`
  replaces the file's list instead of adding to it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecs_migrate_deploy.base_state import BaseStateError, checkout
from ecs_migrate_deploy.migration_project import (
    _FLYWAY,
    _GOLANG,
    TOOL_NAMES,
    NoMigrations,
    Project,
    _up_to_repository_root,
    _versioned,
    detect,
)
from ecs_migrate_deploy.prisma_runner import list_migrations

FAIL_ON = ("error", "warning", "never")
LINTED_TOOLS = ("prisma", "alembic", "flyway", "golang-migrate")

# Off unless the project's .squawk.toml includes them: they restate choices the schema (and its
# generator) made, and take no lock in this migration.
STYLE_RULES = frozenset(
    {
        "prefer-robust-stmts",  # IF NOT EXISTS: the tool records what it applied and runs it once
        "prefer-bigint-over-int",
        "prefer-bigint-over-smallint",
        "prefer-identity",
        "prefer-text-field",
        "prefer-timestamp-tz",
        "ban-char-field",
        "require-statement-timeout",  # would abort a long CONCURRENTLY build; lock_timeout protects traffic
    }
)

# A lock that blocks traffic for as long as the statement runs on a large table, a statement that
# fails on a table with rows or in the tool's transaction, a change the release still running
# during the rollout breaks on, or a file squawk could not read (so no other rule was checked).
ERROR_RULES = frozenset(
    {
        "require-concurrent-index-creation",
        "require-concurrent-index-deletion",
        "require-concurrent-reindex",
        "require-concurrent-partition-detach",
        "adding-required-field",
        "adding-not-nullable-field",
        "adding-field-with-default",
        "adding-serial-primary-key-field",
        "changing-column-type",
        "constraint-missing-not-valid",
        "adding-foreign-key-constraint",
        "disallowed-unique-constraint",
        "ban-concurrent-index-creation-in-transaction",
        "renaming-column",
        "renaming-table",
        "ban-drop-column",
        "ban-drop-table",
        "ban-drop-database",
        "syntax-error",
    }
)

# Alembic's env.py is given this DATABASE_URL: offline mode needs a URL for its dialect only, and a
# project whose env.py connects anyway fails at once (RFC 2606: `.invalid` never resolves).
OFFLINE_DATABASE_URL = "postgresql://lint@offline.invalid/lint"
_RUNNING_UPGRADE = re.compile(r"^-- Running upgrade .*-> (?P<revision>\S+)\s*$")


class LintError(Exception):
    """Nothing could be linted (no migrations, a bad ref, squawk or alembic failed): one line, exit 2."""


@dataclass(frozen=True)
class Section:
    """Lines of a SQL file that belong to one migration, from `start` (0-based) to the next section."""

    start: int
    migration: str
    source: Path  # the file the user edits: the SQL itself, or the Alembic revision script
    pending: bool = True


@dataclass(frozen=True)
class Script:
    """A SQL file squawk reads, and the migrations its lines belong to."""

    path: Path
    sections: tuple[Section, ...]

    def section_at(self, line: int) -> Section:
        """The section holding 0-based `line` (the first starts at 0)."""
        return next(s for s in reversed(self.sections) if s.start <= line)


@dataclass(frozen=True)
class Finding:
    """One squawk finding, named by the migration and the file the user would change."""

    migration: str
    file: str  # relative to the project folder when inside it
    line: int | None  # 1-based in `file`; None when `file` is not what squawk read (Alembic's revisions)
    column: int | None
    rule: str
    severity: str  # "error" or "warning"
    message: str
    help: str | None
    sql: str  # the flagged text, on one line

    def describe(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{self.severity} {self.rule} in {where}: {self.message}"

    def as_json(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass(frozen=True)
class LintReport:
    """What `lint` found, in the form the CLI prints, `rehearse` notes and both put in their JSON."""

    project: Project
    base_ref: str | None
    migrations: tuple[str, ...]  # the pending ones, linted, in the order the tool applies them
    findings: tuple[Finding, ...]
    config: Path | None
    seconds: float

    def count(self, severity: str) -> int:
        return sum(1 for finding in self.findings if finding.severity == severity)

    def failed(self, fail_on: str) -> bool:
        """Whether a finding is at least as severe as `fail_on` ("never": none is)."""
        return {"error": self.count("error") > 0, "warning": bool(self.findings), "never": False}[fail_on]

    def summary(self) -> str:
        errors, warnings = self.count("error"), self.count("warning")
        scope = f"not in {self.base_ref}" if self.base_ref else "all: no --base-ref"
        return (
            f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)} in "
            f"{len(self.migrations)} pending migration{'s' * (len(self.migrations) != 1)} ({scope})"
        )

    def label(self) -> str:
        """The one line the image's lint-summary label carries: the counts, and which rules failed where."""
        errors = [f"{f.rule} in {f.migration}" for f in self.findings if f.severity == "error"]
        listed = f"; errors: {', '.join(dict.fromkeys(errors))}" if errors else ""
        return self.summary() + listed

    def as_json(self) -> dict[str, Any]:
        return {
            "tool": self.project.tool,
            "base_ref": self.base_ref,
            "migrations": list(self.migrations),
            "findings": [finding.as_json() for finding in self.findings],
            "counts": {"error": self.count("error"), "warning": self.count("warning")},
            "config": None if self.config is None else str(self.config),
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class SquawkConfig:
    """The project's .squawk.toml, and what of it squawk's command line would otherwise override."""

    path: Path | None = None
    excluded: frozenset[str] = frozenset()
    included: frozenset[str] = frozenset()
    sets_transaction: bool = False  # the file says `assume_in_transaction`: it decides, not the tool

    @classmethod
    def find(cls, folder: Path) -> SquawkConfig:
        """The first .squawk.toml in `folder` or a parent, up to the repository root (squawk looks up too)."""
        for directory in _up_to_repository_root(folder.resolve()):
            if (directory / ".squawk.toml").is_file():
                return cls.read(directory / ".squawk.toml")
        return cls()

    @classmethod
    def read(cls, path: Path) -> SquawkConfig:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise LintError(f"{path}: {exc}") from None
        return cls(
            path,
            _rule_list(data, "excluded_rules", path),
            _rule_list(data, "included_rules", path),
            "assume_in_transaction" in data,
        )

    def arguments(self, in_transaction: bool) -> list[str]:
        """squawk's options: our style rules off unless the file includes them, plus the file's exclusions."""
        excluded = (STYLE_RULES - self.included) | self.excluded
        arguments = [f"--exclude={','.join(sorted(excluded))}"]
        if self.path is not None:
            arguments.append(f"--config={self.path}")
        if not in_transaction:
            arguments.append("--no-assume-in-transaction")
        elif not self.sets_transaction:
            arguments.append("--assume-in-transaction")
        return arguments


def _rule_list(data: Mapping[str, Any], key: str, path: Path) -> frozenset[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(rule, str) for rule in value):
        raise LintError(f"{path}: {key} must be a list of rule names")
    return frozenset(value)


def lint(folder: Path, base_ref: str | None = None) -> LintReport:
    """squawk's findings for the migrations in `folder` that `base_ref`'s copy of it does not have."""
    started = time.monotonic()
    project = _project(folder)
    config = SquawkConfig.find(folder)
    squawk = _installed("squawk")
    if squawk is None:
        raise LintError(
            "squawk is not installed: pipx install 'ecs-migrate-deploy[lint]' (or pip install; it brings squawk-cli)"
        )
    with _base(folder, base_ref) as base, tempfile.TemporaryDirectory(prefix="emd-lint-") as scratch:
        scripts = pending_scripts(project, base, Path(scratch))
        in_transaction = project.tool != "alembic"
        findings = run_squawk(squawk, scripts, config, in_transaction, folder) if scripts else []
    migrations = tuple(s.migration for script in scripts for s in script.sections if s.pending)
    return LintReport(project, base_ref, migrations, tuple(findings), config.path, time.monotonic() - started)


def _project(folder: Path) -> Project:
    if not folder.is_dir():
        raise LintError(f"{folder} is not a directory")
    try:
        project = detect(folder)
    except NoMigrations as exc:
        raise LintError(str(exc)) from None
    if project.tool not in LINTED_TOOLS:
        *others, last = (TOOL_NAMES[tool] for tool in LINTED_TOOLS)
        covered = f"{', '.join(others)} and {last}"
        raise LintError(f"{project.described}: its migrations are not SQL files; lint reads {covered} migrations")
    return project


@contextmanager
def _base(folder: Path, ref: str | None) -> Iterator[Project | None]:
    """The project as it was at `ref` (None without a ref, or when the folder had no migrations then)."""
    if ref is None:
        yield None
        return
    try:
        with checkout(folder, ref) as copy:
            try:
                base: Project | None = detect(copy)
            except NoMigrations:
                base = None
            yield base
    except BaseStateError as exc:
        raise LintError(str(exc)) from None


def pending_scripts(project: Project, base: Project | None, scratch: Path) -> list[Script]:
    """The SQL of the migrations `project` has and `base` has not (all of them when base is None);
    Alembic's rendered into `scratch`."""
    same_tool = base is not None and base.tool == project.tool
    if project.tool == "alembic":
        return _alembic_scripts(project, base if same_tool else None, scratch)
    known = set(sql_migrations(base)) if base is not None and same_tool else set()
    return [
        Script(path, (Section(0, name, path),)) for name, path in sql_migrations(project).items() if name not in known
    ]


def sql_migrations(project: Project) -> dict[str, Path]:
    """Name -> SQL file of a Prisma, Flyway or golang-migrate project, in the order the tool applies them."""
    if project.migrations_dir is not None:
        return {migration.name: migration.path for migration in list_migrations(project.migrations_dir)}
    # detect() named the first script as its evidence: its folder is where the tool reads them all
    listed = _versioned(project.evidence.parent, (".",), _FLYWAY if project.tool == "flyway" else _GOLANG)
    return {path.name: path for _, path, _ in (listed[1] if listed else [])}


def _alembic_scripts(project: Project, base: Project | None, scratch: Path) -> list[Script]:
    revisions = alembic_revisions(project.evidence)
    known = set(alembic_revisions(base.evidence)) if base is not None else set()
    if all(revision in known for revision in revisions):
        return []
    start = base.newest if base is not None and base.newest in revisions else None
    sql = render_alembic(project.root, f"{start}:head" if start else "head")
    rendered = scratch / "alembic-upgrade.sql"
    rendered.write_text(sql, encoding="utf-8")
    sections = alembic_sections(sql, revisions, project.evidence, known)
    return [Script(rendered, sections)] if sections else []


def alembic_revisions(ini: Path) -> dict[str, Path]:
    """Revision -> its script, oldest first, as Alembic itself reads the script folder."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    try:
        walked = list(ScriptDirectory.from_config(Config(str(ini))).walk_revisions())
    except Exception as exc:  # a broken script folder: Alembic's own words
        raise LintError(f"{ini}: {exc}") from None
    return {script.revision: Path(script.path) for script in reversed(walked)}


def render_alembic(root: Path, target: str) -> str:
    """`alembic upgrade --sql TARGET` in the project, by the alembic installed with this tool (as the
    rehearsal runs it); its stdout is the SQL, its log goes to stderr."""
    alembic = _installed("alembic")
    if alembic is None:
        raise LintError("alembic is not installed: pipx install 'ecs-migrate-deploy[rehearse]' (or pip install)")
    done = subprocess.run(
        [alembic, "upgrade", "--sql", target],
        cwd=root,
        env={**os.environ, "DATABASE_URL": OFFLINE_DATABASE_URL},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise LintError(
            f"`alembic upgrade --sql {target}` failed in {root}: {_cause(done.stderr)} (lint renders the SQL "
            "offline: env.py must support offline mode, context.is_offline_mode() as `alembic init` writes it, "
            "without connecting)"
        )
    return done.stdout


def alembic_sections(sql: str, revisions: Mapping[str, Path], ini: Path, known: set[str]) -> tuple[Section, ...]:
    """One section per `-- Running upgrade A -> B` line (what comes before the first belongs to it)."""
    marks = [
        (number, m["revision"]) for number, line in enumerate(sql.splitlines()) if (m := _RUNNING_UPGRADE.match(line))
    ]
    return tuple(
        Section(0 if index == 0 else number, revision, revisions.get(revision, ini), revision not in known)
        for index, (number, revision) in enumerate(marks)
    )


def run_squawk(
    squawk: str, scripts: Sequence[Script], config: SquawkConfig, in_transaction: bool, folder: Path
) -> list[Finding]:
    """squawk's JSON report on `scripts`, as findings of their pending migrations."""
    with tempfile.TemporaryDirectory(prefix="emd-squawk-") as cwd:  # squawk looks for a config from its cwd up
        done = subprocess.run(
            [squawk, "--reporter=json", *config.arguments(in_transaction), *(str(s.path.resolve()) for s in scripts)],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=300,
        )
    try:
        reported = json.loads(done.stdout)
    except ValueError:
        raise LintError(f"squawk failed (exit {done.returncode}): {_cause(done.stderr or done.stdout)}") from None
    by_path = {str(script.path.resolve()): script for script in scripts}
    texts: dict[str, list[str]] = {}
    findings = []
    for raw in reported:
        script = by_path[raw["file"]]
        section = script.section_at(raw["line"])
        if section.pending:
            lines = texts.setdefault(raw["file"], script.path.read_text(encoding="utf-8").splitlines())
            findings.append(_finding(raw, section, script, lines, folder.resolve()))
    return findings


def _finding(raw: Mapping[str, Any], section: Section, script: Script, lines: list[str], folder: Path) -> Finding:
    """squawk's 0-based positions made 1-based, in the file the user edits when squawk read that one."""
    own_file = section.source == script.path
    source = section.source.resolve()
    first, last = raw["line"], raw.get("line_end", raw["line"])
    flagged = " ".join(line.strip() for line in lines[first : last + 1] if line.strip())
    rule = raw["rule_name"]
    return Finding(
        migration=section.migration,
        file=str(source.relative_to(folder) if source.is_relative_to(folder) else source),
        line=first + 1 if own_file else None,
        column=raw["column"] + 1 if own_file else None,
        rule=rule,
        severity="error" if rule in ERROR_RULES else "warning",
        message=raw["message"],
        help=raw.get("help"),
        sql=flagged if len(flagged) <= 200 else flagged[:199] + "…",
    )


def _installed(name: str) -> str | None:
    """`name` from this interpreter's environment first (where pip put squawk-cli and alembic), then PATH."""
    return shutil.which(name, path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))


def _cause(output: str) -> str:
    """The line that says what went wrong: the last one not indented (a traceback's exception)."""
    lines = [line.strip() for line in output.splitlines() if line.strip() and not line[0].isspace()]
    meaningful = [line for line in lines if not line.startswith(("(Background on this error", "Traceback"))]
    return (meaningful or lines or ["no output"])[-1]
