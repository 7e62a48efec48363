"""IAM as template.yaml grants it: the statements of a function's `Policies`, SAM policy templates expanded.

Shared by the static template checks (what may be granted) and the workflow tests (whether every
API call a Lambda made in the emulated account is granted to it: moto does not enforce IAM).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any

import pytest

from ecs_migrate_deploy.template import NO_VALUE, load_template

TEMPLATE_PATH = Path(__file__).resolve().parents[1] / "template.yaml"
SAM_MANAGED_ACTIONS = frozenset({"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"})
"""What AWSLambdaBasicExecutionRole (attached by SAM to every function role) grants."""


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


Conditions = tuple[tuple[str, bool], ...]
"""The template's Conditions as one stack's parameters decide them (hashable, for the caches)."""


def branches(node: Any, conditions: Conditions | None = None) -> Iterator[Any]:
    """The outcomes of an Fn::If (AWS::NoValue dropped), recursively: both of them, or the one that
    `conditions` decide; anything else as is."""
    if isinstance(node, dict) and set(node) == {"Fn::If"}:
        name, when_true, when_false = node["Fn::If"]
        decided = dict(conditions or ())
        taken = [when_true, when_false] if name not in decided else [when_true if decided[name] else when_false]
        for branch in taken:
            yield from branches(branch, conditions)
    elif node == {"Ref": "AWS::NoValue"} or node is NO_VALUE:
        return
    else:
        yield node


@cache
def sam_policy_templates() -> dict[str, Any]:
    try:
        text = (
            importlib_resources.files("samtranslator.policy_templates_data")
            .joinpath("policy_templates.json")
            .read_text(encoding="utf-8")
        )
    except ModuleNotFoundError:
        pytest.fail("samtranslator (aws-sam-cli) is not installed: run `make install`", pytrace=False)
    return dict(json.loads(text)["Templates"])


def statements_of(policies: Any, conditions: Conditions | None = None) -> Iterator[dict[str, Any]]:
    """Statements of a SAM `Policies` value: inline documents and expanded SAM policy templates."""
    for item in (p for raw in as_list(policies or []) for p in branches(raw, conditions)):
        if isinstance(item, str):
            continue  # an AWS managed policy by name
        if "Statement" in item:
            yield from document_statements(item, conditions)
            continue
        (name,) = item
        definition = sam_policy_templates().get(name)
        assert definition is not None, f"unknown SAM policy template or policy form: {item!r}"
        yield from document_statements(definition["Definition"])


def document_statements(document: Mapping[str, Any], conditions: Conditions | None = None) -> Iterator[dict[str, Any]]:
    for raw in as_list(document.get("Statement", [])):
        for statement in branches(raw, conditions):
            assert isinstance(statement, dict), f"unexpected statement {statement!r}"
            yield statement


@cache
def function_actions(logical_id: str, conditions: Conditions | None = None) -> frozenset[str]:
    """Every action the function's role may perform, on some resource: in any stack (Fn::If: either
    branch), or in the stack whose `conditions` are given."""
    resource = load_template(TEMPLATE_PATH)["Resources"][logical_id]
    actions = set(SAM_MANAGED_ACTIONS)
    for statement in statements_of((resource.get("Properties") or {}).get("Policies"), conditions):
        if statement.get("Effect", "Allow") == "Allow":
            actions.update(str(a) for a in as_list(statement.get("Action", [])))
    return frozenset(actions)
