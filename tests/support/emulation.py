"""A small emulated world for the emulation harness's own tests: a tiny ASL and tiny handlers
(tests/unit/emulation/emulation_fake_handlers.py), none of the real pipeline."""

from __future__ import annotations

from typing import Any

from ecs_migrate_deploy.emulation import WorldSpec

# Not the real state machine: just enough states to exercise every seam the harness offers.
TINY_ASL: dict[str, Any] = {
    "Comment": "harness test machine",
    "StartAt": "Greet",
    "States": {
        "Greet": {"Type": "Task", "Resource": "${GreetFunctionArn}", "ResultPath": "$.greeting", "Next": "Flaky"},
        "Flaky": {
            "Type": "Task",
            "Resource": "${FlakyFunctionArn}",
            "ResultPath": "$.flaky_result",
            "Retry": [
                {"ErrorEquals": ["TransientAwsError"], "IntervalSeconds": 30, "BackoffRate": 2, "MaxAttempts": 3}
            ],
            "Next": "Explode",
        },
        "Explode": {
            "Type": "Task",
            "Resource": "${ExplodeFunctionArn}",
            "ResultPath": "$.explode_result",
            "Catch": [{"ErrorEquals": ["MigrationFailed"], "ResultPath": "$.error", "Next": "Nap"}],
            "Next": "Nap",
        },
        "Nap": {"Type": "Wait", "SecondsPath": "$.nap", "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}

FUNCTIONS = {
    "GreetFunction": "emulation_fake_handlers.greet",
    "FlakyFunction": "emulation_fake_handlers.flaky",
    "ExplodeFunction": "emulation_fake_handlers.explode",
}


def small_spec(**changes: Any) -> WorldSpec:
    base: dict[str, Any] = {
        "template_path": None,
        "asl": TINY_ASL,
        "functions": FUNCTIONS,
        "repository": "acme/app",
        "image_tags": ("v1", "v2"),
        "initial_tag": "v1",
        "cluster": "acme",
        "services": ("web", "worker"),
    }
    base.update(changes)
    return WorldSpec(**base)
