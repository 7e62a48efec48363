"""Run the REAL `prisma` CLI on a machine where its native schema engine cannot be downloaded.

Prisma 6.19 can migrate through its WASM engine and a driver adapter (measured here: the native engine's
download is refused, this path runs the bundled examples; tests/integration/migrations/test_prisma_runner.py):
npm `prisma@6.19.3`, `@prisma/adapter-pg@7.10.1` and `pg` (this repository's package.json), a
`prisma.config.ts` with `engine: "js"` and an adapter, and a schema whose generator asks for the
client engine. This module writes that scaffolding into a throw-away project folder whose
`prisma/migrations` is the user's own migrations folder, so `migrate deploy` reads exactly their files.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

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
# executeScript: @prisma/adapter-pg (7.x) splits every migration script on each `;` and runs the pieces
# one by one, which breaks dollar-quoted function bodies, DO blocks and literals holding a semicolon
# ("unterminated dollar-quoted string"). Prisma's native schema engine sends the script whole, and so
# does this override: one simple-query message, which PostgreSQL runs as one implicit transaction
# ("When a simple Query message contains more than one SQL statement ... those statements are
# executed as a single transaction, unless explicit transaction control commands are included",
# PostgreSQL documentation, "Multiple Statements in a Simple Query").
PRISMA_CONFIG = """\
import { defineConfig } from "prisma/config";
import { PrismaPg } from "@prisma/adapter-pg";

function wholeScripts(factory) {
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    adapter.executeScript = async function (script) {
      try {
        await this.client.query(script);
      } catch (error) {
        // The database's own words, as psql prints them: the adapter maps the error to a kind
        // ("Null constraint failed") and the message would be lost.
        process.stderr.write(`ERROR:  ${error.message}${error.code ? ` (SQLSTATE ${error.code})` : ""}\n`);
        this.onError(error);
      }
    };
    return adapter;
  };
  return factory;
}

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "prisma/schema.prisma",
  async adapter() {
    return wholeScripts(new PrismaPg({ connectionString: process.env.DATABASE_URL, allowExitOnIdle: true }));
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


# Without `url` in the schema Prisma 6.19 applies nothing and exits 0 (measured); with it, it warns that
# the url is unused beside an adapter. The warning is about our scaffolding, not the user's schema: dropped.
_WARNING_FIRST = "WARNING: Your schema specifies the following datasource properties but you are using a Driver Adapter"
_WARNING_LAST = "We recommend you to remove those properties from your schema"


def scaffolding_noise() -> Callable[[str], bool]:
    """A filter of output lines: True for the lines of the warning our scaffolding causes."""
    state = {"inside": False, "after": False}

    def noise(line: str) -> bool:
        if line.startswith(_WARNING_FIRST):
            state["inside"] = True
        if state["inside"]:
            if line.startswith(_WARNING_LAST):
                state["inside"], state["after"] = False, True
            return True
        if state["after"]:
            state["after"] = False
            return not line.strip()
        return False

    return noise


def prisma_binary(node_modules: Path = REPO_ROOT / "node_modules") -> Path | None:
    """The prisma CLI to run for real: a 6.x install with the pg adapter beside it, else None."""
    explicit = os.environ.get("PRISMA_BIN")
    binary = Path(explicit) if explicit else node_modules / ".bin" / "prisma"
    modules = binary.parent.parent
    if not binary.exists() or not (modules / "@prisma" / "adapter-pg").is_dir() or not (modules / "pg").is_dir():
        return None
    version = json.loads((modules / "prisma" / "package.json").read_text()).get("version", "")
    return binary if str(version).startswith("6.") else None


@contextmanager
def prisma_project(migrations: Path, binary: Path) -> Iterator[Path]:
    """A temporary project whose `prisma/migrations` is `migrations` (linked, not copied)."""
    root = Path(tempfile.mkdtemp(prefix="emd-prisma-"))
    try:
        (root / "prisma").mkdir()
        (root / "prisma" / "schema.prisma").write_text(SCHEMA_PRISMA)
        (root / "prisma" / "migrations").symlink_to(migrations.resolve(), target_is_directory=True)
        (root / "prisma.config.ts").write_text(PRISMA_CONFIG)
        (root / "unref-timers.cjs").write_text(UNREF_TIMERS)
        no_engine = root / "no-native-engine.sh"
        no_engine.write_text("#!/bin/sh\nexit 0\n")
        no_engine.chmod(0o755)
        # prisma.config.ts imports @prisma/adapter-pg: resolve it from the install the binary is in.
        (root / "node_modules").symlink_to(binary.parent.parent, target_is_directory=True)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def prisma_environment(project: Path, database_url: str) -> dict[str, str]:
    """The environment `prisma migrate deploy|resolve|status` needs in such a project."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "CHECKPOINT_DISABLE": "1",
        "PRISMA_HIDE_UPDATE_MESSAGE": "1",
        "NODE_OPTIONS": f"--require {project / 'unref-timers.cjs'}",
        # `migrate resolve` probes the native engine first; this stand-in lets it pass.
        "PRISMA_SCHEMA_ENGINE_BINARY": str(project / "no-native-engine.sh"),
    }
