"""Rehearsal at scale: `ecs-migrate-deploy rehearse` on generated Prisma projects of 20, 200 and 1,000
migrations, as a user runs it (a subprocess, the default runner: the real Prisma CLI when installed).

Each migration creates a table and an index; every 10th also creates a dollar-quoted PL/pgSQL
trigger function and its trigger (the statements a `;` splitter breaks). Printed per size: the whole
command's wall time (process start to exit, measured outside), the migrator's own time, the time
before the first state started (the setup a user waits through), and the per-migration cost, so
how it grows is visible. A last line breaks the setup down: interpreter and imports, emulated
world, first Lambda.

Run: `.venv/bin/python benchmarks/rehearsal_scale.py [SIZES...]` (or `make bench`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = (20, 200, 1000)


def generate(root: Path, count: int) -> Path:
    """A Prisma project with `count` migrations under prisma/migrations."""
    migrations = root / "prisma" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "migration_lock.toml").write_text('provider = "postgresql"\n')
    for number in range(1, count + 1):
        name = f"2025{number:010d}_table_{number}"
        script = (
            f'CREATE TABLE "t{number}" ("id" SERIAL NOT NULL, "name" TEXT NOT NULL, "updatedAt" TIMESTAMP(3),\n'
            f'    CONSTRAINT "t{number}_pkey" PRIMARY KEY ("id"));\n'
            f'CREATE INDEX "t{number}_name_idx" ON "t{number}"("name");\n'
        )
        if number % 10 == 0:
            script += (
                f'CREATE FUNCTION "touch_t{number}"() RETURNS trigger LANGUAGE plpgsql AS $$\n'
                'BEGIN\n  NEW."updatedAt" := now(); -- stamped; by the database\n  RETURN NEW;\nEND;\n$$;\n'
                f'CREATE TRIGGER "t{number}_touch" BEFORE UPDATE ON "t{number}" '
                f'FOR EACH ROW EXECUTE FUNCTION "touch_t{number}"();\n'
            )
        (migrations / name).mkdir()
        (migrations / name / "migration.sql").write_text(script)
    return root


def rehearse(project: Path) -> tuple[float, dict[str, object]]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "ecs_migrate_deploy.cli", "rehearse", "--migrations", str(project), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    elapsed = time.monotonic() - started
    if not done.stdout.strip().startswith("{"):
        raise SystemExit(f"rehearse failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    payload = json.loads(done.stdout)
    if payload["status"] != "SUCCEEDED":
        raise SystemExit(f"rehearse of {project} did not succeed: {payload['cause']}")
    return elapsed, payload


def setup_breakdown() -> str:
    """Where the time before the first state goes, measured in a fresh interpreter."""
    probe = (
        "import time; t0 = time.monotonic()\n"
        "from ecs_migrate_deploy.emulation.engine import Emulator\n"
        "from ecs_migrate_deploy.emulation.world import WorldSpec\n"
        "t1 = time.monotonic(); e = Emulator(WorldSpec()); e.__enter__(); t2 = time.monotonic()\n"
        "print(f'{t1 - t0:.2f} {t2 - t1:.2f}'); e.__exit__(None, None, None)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    imports, world = out.stdout.split()
    return f"setup: imports {imports}s, emulated world {world}s (the rest before the first state: the scratch database and Resolve's first run)"


def main() -> None:
    sizes = tuple(int(arg) for arg in sys.argv[1:]) or SIZES
    print(f"{'migrations':>10}  {'wall s':>7}  {'migrator s':>10}  {'first state s':>13}  {'ms/migration':>12}  runner")
    rows = []
    with tempfile.TemporaryDirectory(prefix="emd-bench-") as tmp:
        for count in sizes:
            project = generate(Path(tmp) / f"p{count}", count)
            elapsed, payload = rehearse(project)
            migrator = float(payload["migrator_seconds"])  # type: ignore[arg-type]
            rows.append((count, migrator))
            print(
                f"{count:>10}  {elapsed:>7.2f}  {migrator:>10.2f}  {payload['first_state_seconds']:>13.2f}  "
                f"{1000 * migrator / count:>12.1f}  {payload['migration_command_chosen']}"
            )
    if len(rows) > 1:
        (small, t_small), (large, t_large) = rows[0], rows[-1]
        print(f"growth: {large / small:.0f}x the migrations took {t_large / t_small:.1f}x the migrator time")
    print(setup_breakdown())


if __name__ == "__main__":
    main()
