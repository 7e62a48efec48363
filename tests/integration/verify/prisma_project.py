"""Prisma fixtures produced by the REAL `prisma migrate deploy` (6.19.3 from package.json, run
through ecs_migrate_deploy.real_prisma), so the verifier is tested against what Prisma writes."""

from __future__ import annotations

import subprocess
from contextlib import ExitStack
from pathlib import Path

import pytest

from ecs_migrate_deploy.real_prisma import prisma_binary, prisma_environment, prisma_project


class PrismaProject:
    """A prisma/migrations folder in a temp dir, deployed to the scratch database by real Prisma."""

    def __init__(self, root: Path, url: str, stack: ExitStack) -> None:
        binary = prisma_binary()
        if binary is None:
            pytest.fail("Prisma 6 is not installed in node_modules: run `make install` (npm install)", pytrace=False)
        self.binary = binary
        self.url = url
        self.migrations = root / "migrations"
        self.migrations.mkdir(parents=True, exist_ok=True)
        (self.migrations / "migration_lock.toml").write_text('provider = "postgresql"\n')
        self.project = stack.enter_context(prisma_project(self.migrations, binary))

    def add(self, name: str, sql: str) -> Path:
        folder = self.migrations / name
        folder.mkdir(exist_ok=True)
        path = folder / "migration.sql"
        path.write_text(sql)
        return path

    def deploy(self) -> int:
        """`prisma migrate deploy`'s exit code."""
        return self._run("migrate", "deploy").returncode

    def resolve_rolled_back(self, name: str) -> int:
        """`prisma migrate resolve --rolled-back NAME`'s exit code."""
        return self._run("migrate", "resolve", "--rolled-back", name).returncode

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.binary), *args],
            cwd=self.project,
            env=prisma_environment(self.project, self.url),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
