"""events/: one input per function for `sam local invoke`, each valid for the handler that takes it."""

from __future__ import annotations

import importlib
import inspect
import json
import typing
from pathlib import Path
from typing import Any

import pytest

from ecs_migrate_deploy.emulation.engine import Emulator
from ecs_migrate_deploy.emulation.seams.awslambda import LambdaContext
from ecs_migrate_deploy.sample_events import file_name, sample_spec
from ecs_migrate_deploy.template import load_template

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = {
    name: resource["Properties"]["Handler"]
    for name, resource in load_template(ROOT / "template.yaml")["Resources"].items()
    if resource["Type"] == "AWS::Serverless::Function"
}


def input_model(handler: Any) -> Any:
    """The model a handler parses its event with: the annotation of the function `pipeline_handler`
    wrapped (functools.wraps chains `__wrapped__` through the Powertools decorators to it)."""
    function = inspect.unwrap(handler)
    (parameter,) = inspect.signature(function).parameters
    return typing.get_type_hints(function)[parameter]


def handler_for(dotted: str) -> Any:
    module, function = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(module), function)


def load(name: str) -> Any:
    return json.loads((ROOT / "events" / name).read_text())


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_function_has_an_event_its_handler_accepts(function: str) -> None:
    handler = handler_for(FUNCTIONS[function])
    input_model(handler).model_validate(load(file_name(function)))


@pytest.mark.parametrize("name", ["ecr-push.json", "manual-start.json", "manual-start-options.json"])
def test_entry_events_resolve_in_the_emulated_world(name: str) -> None:
    with Emulator(sample_spec(), extra_env={"POWERTOOLS_METRICS_DISABLED": "1"}) as emulator:
        resolve = handler_for(FUNCTIONS["ResolveFunction"])
        execution = {
            "name": "events-test",
            "arn": "arn:aws:states:::execution:x:events-test",
            "started_at": "2026-11-25T07:00:00Z",
        }
        context = LambdaContext(function_name="ResolveFunction", invoked_function_arn="arn:aws:lambda:::function:x")
        output = resolve({"input": load(name), "execution": execution}, context)
        assert output["plan"]["image"]["digest"] == emulator.world.digests["v1.1.0"]
