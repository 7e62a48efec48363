"""What a handler imports at cold start stays small (benchmarks/cold_start.py has the timings).

Checked in a fresh interpreter with LAMBDA_TASK_ROOT set, because Powertools and the X-Ray SDK
import more inside Lambda than outside it (the X-Ray SDK used to patch, and so import, psycopg2,
requests and sqlite3 in every function). psycopg2 is Verify's alone and loads on its first call;
boto3 loads on the first AWS call (aws/clients.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = sorted(
    f"deploy_pipeline.handlers.{p.stem}" for p in (ROOT / "functions/deploy_pipeline/handlers").glob("[!_]*.py")
)
NOT_AT_INIT = ("psycopg2", "aws_xray_sdk", "wrapt", "requests", "sqlite3", "boto3")

PROBE = """
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
watched, loaded = sys.argv[2].split(","), {}
for module in sys.argv[3:]:
    importlib.import_module(module)
    loaded[module] = [m for m in watched if m in sys.modules]
print(json.dumps(loaded))
"""


def test_no_handler_imports_what_only_one_path_needs() -> None:
    env = {**os.environ, "LAMBDA_TASK_ROOT": "/var/task", "AWS_LAMBDA_FUNCTION_NAME": "probe"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(ROOT / "functions"), ",".join(NOT_AT_INIT), *HANDLERS],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(loaded) == len(HANDLERS) >= 8
    assert all(modules == [] for modules in loaded.values()), loaded
