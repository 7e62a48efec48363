"""Prisma fixtures: the real `prisma migrate deploy` when it is installed, else a faithful stand-in.

Real: Prisma 6.19.x with @prisma/adapter-pg and pg in /work/main/node_modules (or the
node_modules holding the binary named by VERIFY_PRISMA_BIN). It runs on the WASM schema engine
through a driver adapter, since its native engine cannot be downloaded here (EMULATION-NOTES.md).

Stand-in (otherwise): writes `_prisma_migrations` as Prisma 6.19.3 was seen to write it here:
checksum = sha256 hex of the migration.sql bytes, one row per attempt, a failure leaves
finished_at NULL with the error in logs and the statements before it applied (not atomic), the
next deploy refuses to run (P3009), and `resolve --rolled-back` sets rolled_back_at.
Both expose the same methods, so the tests do not know which one ran.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import uuid
from pathlib import Path

import psycopg2

from tests.integration.verify.tool_tables import PRISMA_DDL

REPO_ROOT = Path(__file__).resolve().parents[3]

SCHEMA_PRISMA = """\
generator client {
  provider        = "prisma-client-js"
  engineType      = "client"
  previewFeatures = ["driverAdapters", "queryCompiler"]
}

datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}
"""

# allowExitOnIdle: pg's pool would otherwise keep node alive for its 10 s idle timeout.
PRISMA_CONFIG = """\
import { defineConfig } from "prisma/config";
import { PrismaPg } from "@prisma/adapter-pg";

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "prisma/schema.prisma",
  async adapter() {
    return new PrismaPg({ connectionString: process.env.DATABASE_URL, allowExitOnIdle: true });
  },
});
"""

# The WASM engine arms a 10 s timer that delays exit; unref'd timers do not keep node alive.
UNREF_TIMERS = """\
const timers = require("timers");
for (const name of ["setTimeout", "setInterval"]) {
  const original = global[name];
  const patched = function (fn, ms, ...args) {
    const timer = original(fn, ms, ...args);
    if (typeof ms === "number" && ms >= 1000 && timer && typeof timer.unref === "function") timer.unref();
    return timer;
  };
  global[name] = patched;
  timers[name] = patched;
}
"""


def real_prisma() -> Path | None:
    """The prisma binary to run for real, when a usable 6.x install with the pg adapter is present."""
    explicit = os.environ.get("VERIFY_PRISMA_BIN")
    binary = Path(explicit) if explicit else REPO_ROOT / "node_modules" / ".bin" / "prisma"
    modules = binary.parent.parent
    if not binary.exists() or not (modules / "@prisma" / "adapter-pg").is_dir() or not (modules / "pg").is_dir():
        return None
    version = json.loads((modules / "prisma" / "package.json").read_text()).get("version", "")
    return binary if str(version).startswith("6.") else None


class PrismaProject:
    """A prisma/migrations folder in a temp dir, deployed to the scratch database."""

    def __init__(self, root: Path, url: str) -> None:
        self.root = root
        self.url = url
        self.binary = real_prisma()
        self.migrations = root / "prisma" / "migrations"
        self.migrations.mkdir(parents=True, exist_ok=True)
        (self.migrations / "migration_lock.toml").write_text('provider = "postgresql"\n')
        if self.binary is not None:
            self._write_real_project(self.binary)

    @property
    def real(self) -> bool:
        return self.binary is not None

    def add(self, name: str, sql: str) -> Path:
        folder = self.migrations / name
        folder.mkdir(exist_ok=True)
        path = folder / "migration.sql"
        path.write_text(sql)
        return path

    def deploy(self) -> int:
        """`prisma migrate deploy`'s exit code."""
        if self.binary is not None:
            return self._run("migrate", "deploy").returncode
        return self._emulated_deploy()

    def resolve_rolled_back(self, name: str) -> int:
        """`prisma migrate resolve --rolled-back NAME`'s exit code."""
        if self.binary is not None:
            return self._run("migrate", "resolve", "--rolled-back", name).returncode
        with psycopg2.connect(self.url) as conn, conn.cursor() as cur:
            cur.execute(
                "UPDATE _prisma_migrations SET rolled_back_at = now()"
                " WHERE migration_name = %s AND finished_at IS NULL AND rolled_back_at IS NULL",
                (name,),
            )
            return 0 if cur.rowcount else 1

    # -- real Prisma ---------------------------------------------------------------------------

    def _write_real_project(self, binary: Path) -> None:
        (self.root / "prisma" / "schema.prisma").write_text(SCHEMA_PRISMA)
        (self.root / "prisma.config.ts").write_text(PRISMA_CONFIG)
        (self.root / "unref-timers.cjs").write_text(UNREF_TIMERS)
        fake_engine = self.root / "no-native-engine.sh"
        fake_engine.write_text("#!/bin/sh\nexit 0\n")
        fake_engine.chmod(0o755)
        # prisma.config.ts imports @prisma/adapter-pg: resolve it from the install the binary is in.
        (self.root / "node_modules").symlink_to(binary.parent.parent, target_is_directory=True)

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        assert self.binary is not None
        env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "CHECKPOINT_DISABLE": "1",
            "PRISMA_HIDE_UPDATE_MESSAGE": "1",
            "NODE_OPTIONS": f"--require {self.root / 'unref-timers.cjs'}",
            # `migrate resolve` probes the native engine first; this stand-in lets it pass.
            "PRISMA_SCHEMA_ENGINE_BINARY": str(self.root / "no-native-engine.sh"),
        }
        return subprocess.run(
            [str(self.binary), *args], cwd=self.root, env=env, capture_output=True, text=True, timeout=120, check=False
        )

    # -- stand-in ------------------------------------------------------------------------------

    def _emulated_deploy(self) -> int:
        conn = psycopg2.connect(self.url)
        conn.autocommit = True  # Prisma runs each statement on its own: a failure keeps the earlier ones
        try:
            with conn.cursor() as cur:
                cur.execute(PRISMA_DDL)
                cur.execute("SELECT 1 FROM _prisma_migrations WHERE finished_at IS NULL AND rolled_back_at IS NULL")
                if cur.fetchone():
                    return 1  # P3009: failed migrations in the target database
                cur.execute(
                    "SELECT DISTINCT migration_name FROM _prisma_migrations"
                    " WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL"
                )
                applied = {row[0] for row in cur.fetchall()}
                for folder in sorted(p for p in self.migrations.iterdir() if p.is_dir()):
                    if folder.name not in applied and not self._apply(cur, folder):
                        return 1
            return 0
        finally:
            conn.close()

    @staticmethod
    def _apply(cur: psycopg2.extensions.cursor, folder: Path) -> bool:
        script = (folder / "migration.sql").read_bytes()
        row_id = str(uuid.uuid4())
        cur.execute(
            "INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at)"
            " VALUES (%s, %s, %s, clock_timestamp())",
            (row_id, hashlib.sha256(script).hexdigest(), folder.name),
        )
        # Test scripts put one statement per line-ending ';' (no functions with bodies).
        for statement in (s.strip() for s in script.decode().split(";\n")):
            if not statement:
                continue
            try:
                cur.execute(statement)
            except psycopg2.Error as exc:
                cur.execute(
                    "UPDATE _prisma_migrations SET logs = %s WHERE id = %s",
                    (f"Database error code: {exc.pgcode}\n\nDatabase error:\n{exc.pgerror}", row_id),
                )
                return False
        cur.execute(
            "UPDATE _prisma_migrations SET finished_at = clock_timestamp(), applied_steps_count = 1 WHERE id = %s",
            (row_id,),
        )
        return True
