"""Run the migration task's command for real, on this machine, when the emulated ECS starts it.

The pipeline asks ECS to run `MigrationCommand` from the new image; in a rehearsal that command runs
here instead, in the project's folder, against the scratch database, and its exit code and output
become the ECS task's exit code and CloudWatch log stream.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecs_migrate_deploy.emulation.moto_seams import TaskOutcome
from ecs_migrate_deploy.prisma_runner import find_migrations_dir
from ecs_migrate_deploy.real_prisma import prisma_binary, prisma_environment, prisma_project

BUILTIN_PRISMA = [sys.executable, "-m", "ecs_migrate_deploy.prisma_runner"]


@dataclass(frozen=True)
class MigrationPlan:
    """What to run for the migration task, and why it was chosen."""

    argv: list[str]
    how: str
    prisma_migrations: Path | None = None  # set: run the real Prisma CLI on this folder


def choose_command(workdir: Path, requested: Sequence[str] | None) -> MigrationPlan:
    """The command for the migrations in `workdir`: as configured, or chosen from what the folder holds."""
    if requested and not _is_prisma_deploy(requested):
        return MigrationPlan(list(requested), "as configured")
    if requested is None and (workdir / "alembic.ini").exists():
        return MigrationPlan(["alembic", "upgrade", "head"], "Alembic project (alembic.ini found)")
    migrations = find_migrations_dir(workdir)
    if migrations is None:
        if requested:
            return MigrationPlan(list(requested), "as configured")
        raise ValueError(f"{workdir} holds neither alembic.ini nor Prisma-style migrations/<name>/migration.sql")
    if (workdir / "node_modules" / ".bin" / "prisma").exists():
        return MigrationPlan(["npx", "prisma", "migrate", "deploy"], "the project's own Prisma CLI")
    binary = prisma_binary()
    if binary is not None:
        return MigrationPlan(
            [str(binary), "migrate", "deploy"],
            "real `prisma migrate deploy` (Prisma 6 on its WASM engine, from this repository's node_modules)",
            migrations,
        )
    return MigrationPlan(
        BUILTIN_PRISMA,
        "built-in Prisma-compatible runner (no Prisma CLI installed: run `make install`); it keeps "
        "_prisma_migrations as `prisma migrate deploy` does",
    )


def _is_prisma_deploy(argv: Sequence[str]) -> bool:
    joined = " ".join(argv)
    return "prisma" in joined and "migrate" in joined and "deploy" in joined


@dataclass
class LocalMigrationRunner:
    """A TaskRunner: runs the migration command locally and reports it as the ECS task's end."""

    workdir: Path
    database_url: str
    command: Sequence[str] | None = None
    on_line: Callable[[str], None] | None = None
    timeout_seconds: float = 600
    chosen: str = field(default="", init=False)

    def __call__(
        self, task_definition: dict[str, Any], container_overrides: list[dict[str, Any]], started_by: str
    ) -> TaskOutcome | None:
        requested = self.command or next((o.get("command") for o in container_overrides if o.get("command")), None)
        try:
            plan = choose_command(self.workdir, requested)
        except ValueError as exc:
            return TaskOutcome.exited(1, [f"ecs-migrate-deploy rehearse: {exc}"])
        self.chosen = plan.how
        if plan.prisma_migrations is not None:
            with prisma_project(plan.prisma_migrations, Path(plan.argv[0])) as project:
                return self._run(plan.argv, project, prisma_environment(project, self.database_url))
        env = {**os.environ, "DATABASE_URL": self.database_url, "CHECKPOINT_DISABLE": "1"}
        return self._run(plan.argv, self.workdir, env)

    def _run(self, argv: list[str], cwd: Path, env: dict[str, str]) -> TaskOutcome:
        resolved = shutil.which(argv[0]) or argv[0]
        lines: list[str] = []
        try:
            process = subprocess.Popen(
                [resolved, *argv[1:]],
                cwd=cwd,
                env={**env, "PYTHONUNBUFFERED": "1"},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        except OSError as exc:
            return TaskOutcome.exited(127, [f"cannot run {shlex.join(argv)}: {exc.strerror}"])
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.rstrip("\n")
            lines.append(line)
            if self.on_line:
                self.on_line(line)
        return TaskOutcome.exited(process.wait(timeout=self.timeout_seconds), lines)
