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

BUILTIN_PRISMA = [sys.executable, "-m", "ecs_migrate_deploy.prisma_runner"]


def prisma_engine_available(workdir: Path) -> bool:
    """Only a project with its own Prisma CLI installed can run Prisma's engine (none is downloadable here)."""
    return (workdir / "node_modules" / ".bin" / "prisma").exists()


def choose_command(workdir: Path, requested: Sequence[str] | None) -> tuple[list[str], str]:
    """(argv, how it was chosen) for the migrations in `workdir`."""
    if requested:
        argv = list(requested)
        if _is_prisma_deploy(argv) and not prisma_engine_available(workdir):
            return BUILTIN_PRISMA, (
                "built-in Prisma-compatible runner (Prisma's schema engine is not installed in "
                f"{workdir}; it keeps _prisma_migrations exactly as `prisma migrate deploy` does)"
            )
        return argv, "as configured"
    if (workdir / "alembic.ini").exists():
        return ["alembic", "upgrade", "head"], "Alembic project (alembic.ini found)"
    if find_migrations_dir(workdir) is not None:
        if prisma_engine_available(workdir):
            return ["npx", "prisma", "migrate", "deploy"], "Prisma migrations with a local Prisma CLI"
        return BUILTIN_PRISMA, (
            "Prisma-style migrations; built-in runner, as Prisma's schema engine cannot be downloaded here"
        )
    raise ValueError(f"{workdir} holds neither alembic.ini nor Prisma-style migrations/<name>/migration.sql")


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
    runs: list[tuple[list[str], int]] = field(default_factory=list, init=False)

    def __call__(
        self, task_definition: dict[str, Any], container_overrides: list[dict[str, Any]], started_by: str
    ) -> TaskOutcome | None:
        requested = self.command or next((o.get("command") for o in container_overrides if o.get("command")), None)
        try:
            argv, self.chosen = choose_command(self.workdir, requested)
        except ValueError as exc:
            return TaskOutcome.exited(1, [f"ecs-migrate-deploy rehearse: {exc}"])
        resolved = shutil.which(argv[0]) or argv[0]
        env = {**os.environ, "DATABASE_URL": self.database_url, "CHECKPOINT_DISABLE": "1", "PYTHONUNBUFFERED": "1"}
        lines: list[str] = []
        try:
            process = subprocess.Popen(
                [resolved, *argv[1:]],
                cwd=self.workdir,
                env=env,
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
        code = process.wait(timeout=self.timeout_seconds)
        self.runs.append((argv, code))
        return TaskOutcome.exited(code, lines)
