"""Cost: state transitions and Lambda invocations per deployment, and what they cost at list prices.

A typical deployment (snapshot 5 min, migration 2 min, rollout 8 min; see _timeline.py) runs twice
on the emulator: with the pipeline's adaptive waits (deploy_pipeline/logic/polling.py), and with
every Wait patched to a fixed 10 s, the naive design. Transitions (one per state entered) and
invocations are counted from each execution's history; "noticed late" is how long after a phase
really ended a check saw it, the latency the adaptive waits trade for fewer transitions.

Prices (us-east-1 list prices, free tiers ignored):
- Step Functions Standard: $0.025 per 1,000 state transitions;
- Lambda: $0.20 per 1M requests, and $0.0000133334 per GB-second on arm64, at each function's
  memory in template.yaml. Billed duration is shown two ways: the handlers' measured in-process
  time (a floor: the emulated AWS answers in microseconds), and an assumed 1 s per invocation (a
  cold start's INIT phase is billed, real AWS calls take tens of milliseconds each).
CloudWatch Logs, X-Ray, DynamoDB, SNS, EventBridge and the RDS snapshot's storage are not counted
(each is a fraction of a cent per deployment or not the pipeline's choice).

Run: `.venv/bin/python benchmarks/deployment_cost.py` (or `make bench`); needs PostgreSQL.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timeline import MIGRATION_SECONDS, ROLLOUT_SECONDS, SNAPSHOT_SECONDS, TimelineRun, run_timeline

from ecs_migrate_deploy.template import load_template

STATE_TRANSITION_USD = 0.025 / 1000
LAMBDA_REQUEST_USD = 0.20 / 1_000_000
LAMBDA_ARM64_GB_SECOND_USD = 0.0000133334
ASSUMED_BILLED_SECONDS = 1.0
GOAL_TRANSITIONS = 60


def function_memory_gb() -> dict[str, float]:
    """Function name -> memory in GB, from template.yaml (Globals, then the function's own)."""
    template = load_template(Path(__file__).resolve().parents[1] / "template.yaml")
    default = int(template["Globals"]["Function"].get("MemorySize", 128))
    return {
        name: int(resource["Properties"].get("MemorySize", default)) / 1024
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def dollars(run: TimelineRun) -> dict[str, float]:
    memory = function_memory_gb()
    measured_gb_s = sum(memory[i.function_name] * max(run.own_ms(i), 1) / 1000 for i in run.invocations)
    assumed_gb_s = sum(memory[i.function_name] * ASSUMED_BILLED_SECONDS for i in run.invocations)
    states = run.transitions * STATE_TRANSITION_USD
    requests = run.lambda_invocations * LAMBDA_REQUEST_USD
    return {
        "states": states,
        "requests": requests,
        "compute measured": measured_gb_s * LAMBDA_ARM64_GB_SECOND_USD,
        "compute assumed": assumed_gb_s * LAMBDA_ARM64_GB_SECOND_USD,
        "total measured": states + requests + measured_gb_s * LAMBDA_ARM64_GB_SECOND_USD,
        "total assumed": states + requests + assumed_gb_s * LAMBDA_ARM64_GB_SECOND_USD,
    }


def main() -> None:
    print(f"timeline: snapshot {SNAPSHOT_SECONDS} s, migration {MIGRATION_SECONDS} s, rollout {ROLLOUT_SECONDS} s")
    header = f"{'polling':12} {'transitions':>11} {'invocations':>11} {'checks snap/migr/roll':>22} {'noticed late (s)':>18} {'$ per deployment':>26}"
    print(header)
    runs = [run_timeline("adaptive"), run_timeline("fixed 10 s")]
    for run in runs:
        cost = dollars(run)
        checks = "/".join(str(n) for n in run.checks.values())
        late = "/".join(f"{p.noticed_late_seconds:.0f}" for p in run.phases.values())
        print(
            f"{run.polling:12} {run.transitions:11d} {run.lambda_invocations:11d} {checks:>22} {late:>18}"
            f"   ${cost['total measured']:.5f} .. ${cost['total assumed']:.5f}"
        )
    adaptive, fixed = runs
    cost = dollars(adaptive)
    print(
        f"adaptive, per deployment: Step Functions ${cost['states']:.6f} + Lambda requests ${cost['requests']:.6f}"
        f" + Lambda compute ${cost['compute measured']:.6f} (measured) .. ${cost['compute assumed']:.6f}"
        f" (at {ASSUMED_BILLED_SECONDS:.0f} s per invocation); per 1,000 deployments"
        f" ${1000 * cost['total measured']:.2f} .. ${1000 * cost['total assumed']:.2f}"
    )
    verdict = "met" if adaptive.transitions <= GOAL_TRANSITIONS else "NOT met"
    print(
        f"transitions: {adaptive.transitions} adaptive vs {fixed.transitions} with a fixed 10 s poll"
        f" ({fixed.transitions / adaptive.transitions:.1f}x); goal <= {GOAL_TRANSITIONS}: {verdict}"
    )


if __name__ == "__main__":
    main()
