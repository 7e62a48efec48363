"""Run the migration task's command for real, on this machine, when the emulated ECS starts it.

The pipeline asks ECS to run `MigrationCommand` from the new image; in a rehearsal that command runs
here instead, in the project's folder, against the scratch database, and its exit code and output
become the ECS task's exit code and CloudWatch log stream.

Which command runs:
- one given with `--migrate-command` runs exactly as given (split with shell rules, never through a
  shell), whatever it contains;
- the stack's configured command runs as configured, except `prisma migrate deploy` (however it is
  launched: npx, pnpm, yarn, bunx, npm exec), which stands for "the project's Prisma": the project's
  own install when it has one, else the real Prisma CLI of this repository on its WASM engine, else
  the built-in runner. The image's Prisma is not here; those are the closest faithful stand-ins;
- the template's default command in a project of another tool is that tool's own deploy command
  (Alembic), or, for tools that cannot be run faithfully here, an error saying what to pass.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ecs_migrate_deploy.emulation.seams.ecs_tasks import TaskOutcome
from ecs_migrate_deploy.migration_project import NoMigrations, Project, declared_prisma_without_install, detect
from ecs_migrate_deploy.real_prisma import prisma_binary, prisma_environment, prisma_project, scaffolding_noise

BUILTIN_PRISMA = [sys.executable, "-m", "ecs_migrate_deploy.prisma_runner"]
# `npx prisma migrate deploy`, `pnpm exec prisma …`, `npm exec -- prisma …`: launchers in front of prisma.
_LAUNCHERS = {"npx", "pnpm", "yarn", "bunx", "bun", "npm", "exec", "dlx", "x", "run", "--"}


@dataclass(frozen=True)
class MigrationPlan:
    """What to run for the migration task, where, and why it was chosen."""

    argv: list[str]
    how: str
    cwd: Path
    project: Project | None = None
    prisma_migrations: Path | None = None  # set: run the real Prisma CLI on this folder, through our scaffolding


def is_prisma_deploy(argv: Sequence[str]) -> bool:
    """`prisma migrate deploy [flags]`, possibly behind a package-manager launcher and its flags."""
    words = list(argv)
    while words and (words[0] in _LAUNCHERS or words[0].startswith("-")):
        words.pop(0)
    return len(words) >= 3 and Path(words[0]).name == "prisma" and words[1:3] == ["migrate", "deploy"]


def choose(folder: Path, explicit: Sequence[str] | None, configured: Sequence[str]) -> MigrationPlan:
    """The command for the migrations in `folder`: `explicit` literally, else `configured` interpreted.

    NoMigrations (bad input: nothing is created) when the folder holds no migrations and no command
    was given, or when its tool cannot run here without one.
    """
    try:
        project: Project | None = detect(folder)
    except NoMigrations:
        if explicit is None:
            raise
        project = None
    cwd = project.root if project else folder
    if explicit is not None:
        return MigrationPlan(list(explicit), "as given with --migrate-command", cwd, project)
    if not is_prisma_deploy(configured):
        return MigrationPlan(list(configured), "the stack's MigrationCommand, as configured", cwd, project)
    if project is None:
        raise NoMigrations(f"no migrations found in {folder}")
    if project.tool == "alembic" and project.command:
        how = f"`{shlex.join(project.command)}` for the {project.described}"
        return MigrationPlan(project.command, how, cwd, project)
    if project.tool != "prisma" or project.migrations_dir is None:
        raise NoMigrations(
            f"{project.described}: this tool's migrations are not run by the rehearsal on its own; pass "
            f"{project.suggestion}"
        )
    if project.command:
        return MigrationPlan(project.command, f"the project's own Prisma ({project.command[0]})", cwd, project)
    unused = declared_prisma_without_install(folder)
    hint = f" ({unused} asks for Prisma, but its node_modules is not installed)" if unused else ""
    binary = prisma_binary()
    if binary is not None:
        return MigrationPlan(
            [str(binary), "migrate", "deploy"],
            f"real `prisma migrate deploy` (Prisma 6 on its WASM engine, from this repository's node_modules){hint}",
            cwd,
            project,
            project.migrations_dir,
        )
    return MigrationPlan(
        [*BUILTIN_PRISMA, str(project.migrations_dir)],
        "built-in Prisma-compatible runner (no Prisma CLI installed: run `make install`); it keeps "
        f"_prisma_migrations as `prisma migrate deploy` does{hint}",
        cwd,
        project,
    )


def database_environment(database_url: str) -> dict[str, str]:
    """DATABASE_URL, and libpq's PG* variables for tools configured that way (psql, Flyway via sh -c)."""
    parts = urlsplit(database_url)
    env = {
        "DATABASE_URL": database_url,
        "PGHOST": parts.hostname or "127.0.0.1",
        "PGPORT": str(parts.port or 5432),
        "PGDATABASE": parts.path.lstrip("/"),
        "PGUSER": unquote(parts.username or "postgres"),
    }
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    return env


@dataclass
class LocalMigrationRunner:
    """A TaskRunner: runs the migration command locally and reports it as the ECS task's end.

    `command` is the one given with `--migrate-command` (run literally); without it, the command the
    pipeline put in the task's container override (the stack's MigrationCommand) is interpreted.
    """

    workdir: Path
    database_url: str
    command: Sequence[str] | None = None
    on_line: Callable[[str], None] | None = None
    timeout_seconds: float = 600

    def __call__(
        self, task_definition: dict[str, Any], container_overrides: list[dict[str, Any]], started_by: str
    ) -> TaskOutcome | None:
        return self.run(next((o["command"] for o in container_overrides if o.get("command")), []))

    def run(self, configured: Sequence[str]) -> TaskOutcome:
        """Choose the command (see the module's docstring) and run it to its end."""
        try:
            plan = choose(self.workdir, self.command, configured)
        except NoMigrations as exc:
            return TaskOutcome.exited(1, [f"ecs-migrate-deploy rehearse: {exc}"])
        if plan.prisma_migrations is not None:
            with prisma_project(plan.prisma_migrations, Path(plan.argv[0])) as project:
                env = prisma_environment(project, self.database_url)
                return self._run(plan.argv, project, env, scaffolding_noise())
        return self._run(plan.argv, plan.cwd, {**os.environ, **database_environment(self.database_url)})

    def _run(
        self, argv: list[str], cwd: Path, env: dict[str, str], noise: Callable[[str], bool] = lambda _: False
    ) -> TaskOutcome:
        # The tools installed with this one (alembic) come first on PATH, as they would in the image.
        path = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        resolved = shutil.which(argv[0], path=path) or argv[0]
        lines: list[str] = []
        try:
            process = subprocess.Popen(
                [resolved, *argv[1:]],
                cwd=cwd,
                env={**env, "PATH": path, "CHECKPOINT_DISABLE": "1", "PYTHONUNBUFFERED": "1"},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        except OSError as exc:
            return TaskOutcome.exited(127, [f"cannot run {shlex.join(argv)}: {exc.strerror}"])
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.rstrip("\n")
            if noise(line):
                continue
            lines.append(line)
            if self.on_line:
                self.on_line(line)
        return TaskOutcome.exited(process.wait(timeout=self.timeout_seconds), lines)
