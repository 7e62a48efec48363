"""Overhead: the pipeline's own time per deployment on the emulated timeline, the migrator excluded.

The timeline of _timeline.py (15 minutes of snapshot, migration and rollout) runs on the emulator
with its waits skipped, so the wall time left is what the pipeline itself spends: its 14 handlers
(parsing, AWS calls, two PostgreSQL sessions), the state machine's interpreter and the emulated AWS
APIs. The migration command's own run (the shop example's migrations, really applied) is timed and
subtracted. The handlers' time is also shown alone, per function: on AWS it is the Lambda duration,
to which each state transition adds Step Functions' own latency (tens of milliseconds).

Run: `.venv/bin/python benchmarks/pipeline_overhead.py` (or `make bench`); needs PostgreSQL.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timeline import PLANNED_SECONDS, run_timeline

RUNS = 3


def main() -> None:
    runs = [run_timeline("events") for _ in range(RUNS)]
    overheads = [run.report.wall_seconds - run.migrator_seconds for run in runs]
    median = sorted(range(RUNS), key=lambda i: overheads[i])[RUNS // 2]
    run = runs[median]
    per_function: dict[str, list[float]] = defaultdict(list)
    for invocation in run.invocations:
        per_function[invocation.function_name].append(run.own_ms(invocation))
    handlers = sum(sum(d) for d in per_function.values()) / 1000
    print(
        f"emulated deployment: {PLANNED_SECONDS} s of work (snapshot + migration + rollout), "
        f"finished at {run.report.emulated_seconds:.0f} s on the pipeline's clock"
    )
    print(
        f"pipeline overhead (wall time minus the migrator, median of {RUNS}): {overheads[median]:.2f} s "
        f"per deployment (runs: {', '.join(f'{o:.2f}' for o in overheads)}); migrator {run.migrator_seconds:.2f} s excluded"
    )
    print(
        f"of which in the handlers: {handlers:.2f} s over {len(run.invocations)} invocations; "
        "the rest is the state machine interpreter and the emulated AWS APIs"
    )
    for name, durations in sorted(per_function.items(), key=lambda item: -sum(item[1])):
        print(f"  {name:26} {len(durations):2d} x, {sum(durations):7.1f} ms total, {max(durations):6.1f} ms max")


if __name__ == "__main__":
    main()
