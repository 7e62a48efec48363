"""Cold start: how long each handler module takes to import in a fresh interpreter, against `import boto3`.

A Lambda's INIT phase is the import of its handler module. Each deployment meets most of the 14
functions cold (deployments are rare), so what a handler imports is paid over and over. The
yardstick is `import boto3` alone, the floor of any Python Lambda that calls AWS: the goal is a
handler import of at most 1.5x that.

Measured the way Lambda runs the code: `functions/` first on sys.path (the bundle's layout) and
`LAMBDA_TASK_ROOT` set, because Powertools and the X-Ray SDK behave differently inside Lambda than
outside it. Each figure is the median of RUNS fresh interpreters, timed in-process (interpreter
start-up is the same for every row and is left out). Also shown: the same import followed by
`import boto3` (what the first invocation adds: `aws/clients.py` imports boto3 lazily), and the
heavy modules a handler loaded that only one path needs (psycopg2 belongs to Verify alone).

Run: `.venv/bin/python benchmarks/cold_start.py` (or `make bench`). Prints figures, asserts nothing.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from ecs_migrate_deploy.template import load_template

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ROOT / "functions"
RUNS = 7
GOAL_RATIO = 1.5
# Heavy modules worth naming when a handler loads them: psycopg2 belongs to Verify alone, and the
# X-Ray SDK (with wrapt, and the requests/sqlite3 it patches) to no handler any more.
WATCHED = ("psycopg2", "aws_xray_sdk", "wrapt", "requests", "sqlite3", "boto3")

_PROBE = """
import json, sys, time
sys.path.insert(0, {functions!r})
started = time.perf_counter()
{statement}
elapsed = (time.perf_counter() - started) * 1000
print(json.dumps({{"ms": elapsed, "loaded": [m for m in {watched!r} if m in sys.modules]}}))
"""


def lambda_environment() -> dict[str, str]:
    """What the Lambda runtime sets that changes what gets imported (Powertools checks these)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_"))}
    env.update(
        LAMBDA_TASK_ROOT="/var/task",
        AWS_LAMBDA_FUNCTION_NAME="cold-start-benchmark",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256",
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
        POWERTOOLS_SERVICE_NAME="ecs-migrate-deploy",
        POWERTOOLS_METRICS_NAMESPACE="EcsMigrateDeploy",
        PYTHONDONTWRITEBYTECODE="",
    )
    return env


def probe(statement: str, runs: int = RUNS) -> tuple[float, list[str]]:
    """(median milliseconds, modules of WATCHED loaded) of `statement` in fresh interpreters."""
    code = _PROBE.format(functions=str(FUNCTIONS), statement=statement, watched=WATCHED)
    env = lambda_environment()
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)  # warm .pyc files
    times: list[float] = []
    loaded: list[str] = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        times.append(result["ms"])
        loaded = result["loaded"]
    return statistics.median(times), loaded


def handler_modules() -> list[str]:
    """The handler modules template.yaml names, once each (several functions share a module)."""
    template = load_template(ROOT / "template.yaml")
    modules = {
        str(resource["Properties"]["Handler"]).rpartition(".")[0]
        for resource in template["Resources"].values()
        if resource.get("Type") == "AWS::Serverless::Function"
    }
    return sorted(modules)


def main() -> None:
    boto3_ms, _ = probe("import boto3")
    print(
        f"import boto3 alone: {boto3_ms:.0f} ms (median of {RUNS}, Lambda-like environment, {sys.version.split()[0]})"
    )
    print(f"{'handler module':42} {'import':>8} {'ratio':>6} {'+boto3':>8} {'ratio':>6}  loaded")
    worst = 0.0
    for module in handler_modules():
        alone, loaded = probe(f"import {module}")
        with_boto3, _ = probe(f"import {module}\nimport boto3")
        worst = max(worst, alone / boto3_ms)
        print(
            f"{module:42} {alone:6.0f}ms {alone / boto3_ms:5.2f}x {with_boto3:6.0f}ms {with_boto3 / boto3_ms:5.2f}x"
            f"  {', '.join(loaded) or '-'}"
        )
    verdict = "met" if worst <= GOAL_RATIO else "NOT met"
    print(f"worst handler import / import boto3: {worst:.2f}x (goal <= {GOAL_RATIO}x: {verdict})")


if __name__ == "__main__":
    main()
