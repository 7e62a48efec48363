"""Regenerate events/: the inputs each Lambda really receives, captured from emulated executions.

`sam local invoke <Function> -e events/<file>.json` needs one input per function. Writing them by
hand drifts from the state machine; capturing them from a run of the real ASL does not. Run
`python -m ecs_migrate_deploy.sample_events` after changing the state's shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ecs_migrate_deploy.emulation.engine import Emulator
from ecs_migrate_deploy.emulation.seams.awslambda import Invocation
from ecs_migrate_deploy.emulation.seams.ecs_tasks import TaskOutcome
from ecs_migrate_deploy.emulation.world import World, WorldSpec
from ecs_migrate_deploy.image_labels import labels_for

EVENTS = Path(__file__).resolve().parents[2] / "events"
FIXED_EVENT_ID = "3f7a1c2e-5b4d-4e8f-9a0b-1c2d3e4f5a6b"
FIXED_TIME = "2026-11-25T07:00:00Z"


def file_name(function: str) -> str:
    """`StartSnapshotFunction` -> `start-snapshot.json`."""
    words = re.findall(r"[A-Z][a-z]*", function.removesuffix("Function"))
    return "-".join(w.lower() for w in words) + ".json"


def lambda_inputs(invocations: Iterable[Invocation]) -> dict[str, Any]:
    """Function name -> the first input it was invoked with: by the state machine (its Tasks, and the
    waits' AwaitEvent) or by EventBridge (NoticeFunction, with an AWS state-change event)."""
    found: dict[str, Any] = {}
    for invocation in invocations:
        found.setdefault(invocation.function_name, invocation.event)
    return found


def ecr_push_event(world: World, tag: str) -> dict[str, Any]:
    event = world.ecr_push_event(tag)
    event["id"], event["time"] = FIXED_EVENT_ID, FIXED_TIME
    return event


def sample_spec() -> WorldSpec:
    """The default world, its release image (v1.1.0) labelled as `ecs-migrate-deploy image-labels
    examples/shop` prints (docs/image-labels.md)."""
    return WorldSpec(image_labels={"v1.1.0": labels_for(EVENTS.parent / "examples" / "shop")})


def capture() -> dict[str, Any]:
    """File name -> content, from a successful deployment and a rolled-back one."""
    files: dict[str, Any] = {}

    def migrated(task_definition: Any, overrides: Any, started_by: str) -> TaskOutcome:
        return TaskOutcome.exited(0, ["All migrations have been successfully applied."])

    with Emulator(
        sample_spec(),
        task_runner=migrated,
        rollout_policy=lambda service, arn: "FAILED" if arn.endswith(":2") else "COMPLETED",
        extra_env={"POWERTOOLS_METRICS_DISABLED": "1", "POWERTOOLS_LOG_LEVEL": "ERROR"},
        routes={"CaptureBaselineFunction": _no_database, "VerifyFunction": _no_database},
    ) as emulator:
        push = ecr_push_event(emulator.world, "v1.1.0")
        files["ecr-push.json"] = push
        files["manual-start.json"] = {"image_tag": "v1.1.0"}
        files["manual-start-options.json"] = {
            "image_digest": emulator.world.digests["v1.1.0"],
            "options": {"dry_run": True, "expected_migration": "20250310083000_order_status"},
        }
        emulator.run(push, name="sample-deployment")
        # `sam local invoke --env-vars events/local-env.json`: the stack's variables for every function
        variables = {**emulator.world.env(), "DB_SSLMODE": "verify-full"}  # what a real stack uses
        files["local-env.json"] = {"Parameters": dict(sorted(variables.items()))}
        for function, payload in lambda_inputs(emulator.seams.lambdas.invocations).items():
            files.setdefault(file_name(function), payload)
    return files


def _no_database(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The samples need the shapes, not a database: stand-ins for the two VPC functions' outputs."""
    if "baseline" not in event:
        return {"fingerprint_key": f"BASELINE#{event['plan']['deployment_id']}", "objects": 12}
    return {"tool": "prisma", "passed": True, "applied_count": 3, "latest_applied": "20250310083000_order_status"}


def main() -> None:
    EVENTS.mkdir(exist_ok=True)
    for name, content in sorted(capture().items()):
        (EVENTS / name).write_text(json.dumps(content, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
