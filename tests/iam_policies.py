"""IAM as template.yaml grants it: the statements of a function's `Policies`, SAM policy templates expanded.

Shared by the static template checks (what may be granted) and the workflow tests (whether every
API call a Lambda made in the emulated account is granted to it: moto does not enforce IAM).
"""

from __future__ import annotations

import json
import re
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
def allow_statements(logical_id: str, conditions: Conditions | None = None) -> tuple[dict[str, Any], ...]:
    """The function's Allow statements: in any stack (Fn::If: either branch), or in the stack whose
    `conditions` are given. Its `Policies`, and the AWS::IAM::Policy resources attached to the role SAM
    makes for it (`<function>Role`), where a grant would otherwise be a circular dependency."""
    resources = load_template(TEMPLATE_PATH)["Resources"]
    statements = list(statements_of((resources[logical_id].get("Properties") or {}).get("Policies"), conditions))
    role = {"Ref": f"{logical_id}Role"}
    for resource in resources.values():
        properties = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::IAM::Policy" and role in as_list(properties.get("Roles", [])):
            statements.extend(document_statements(properties["PolicyDocument"], conditions))
    return tuple(s for s in statements if s.get("Effect", "Allow") == "Allow")


@cache
def function_actions(logical_id: str, conditions: Conditions | None = None) -> frozenset[str]:
    """Every action the function's role may perform, on some resource: in any stack (Fn::If: either
    branch), or in the stack whose `conditions` are given."""
    actions = set(SAM_MANAGED_ACTIONS)
    for statement in allow_statements(logical_id, conditions):
        actions.update(str(a) for a in as_list(statement.get("Action", [])))
    return frozenset(actions)


LEADING_KEYS = "dynamodb:LeadingKeys"
LEADING_KEY_OPERATORS = frozenset({"ForAllValues:StringLike", "StringEquals", "ForAllValues:StringEquals"})
"""The condition operators on `dynamodb:LeadingKeys` that `is_granted` evaluates."""


def is_granted(logical_id: str, action: str, leading_key: str | None, conditions: Conditions | None = None) -> bool:
    """Whether the function's role allows `action` on an item whose partition key is `leading_key`
    (the `dynamodb:LeadingKeys` value the emulator recorded; None when there is none or it is unknown).

    A statement grants it when it lists the action and either has no `dynamodb:LeadingKeys` condition
    or the key matches one of that condition's values (DynamoDB Developer Guide, "Using IAM policy
    conditions for fine-grained access control"). A None key is granted only by a statement without
    such a condition: AWS's ForAllValues would also match a request without the key (an empty set),
    but a key the emulator could not read is no evidence the request had none. Resources and every
    other condition key (ecs:cluster, iam:PassedToService, events:source, ...) are not evaluated: a
    statement conditioned on them counts as granting its actions.
    """
    if action in SAM_MANAGED_ACTIONS:
        return True
    return any(statement_grants(s, action, leading_key) for s in allow_statements(logical_id, conditions))


def statement_grants(statement: Mapping[str, Any], action: str, leading_key: str | None) -> bool:
    """`is_granted` for one statement."""
    if action not in {str(a) for a in as_list(statement.get("Action", []))}:
        return False
    tests = leading_key_tests(statement)
    if not tests:
        return True
    return leading_key is not None and all(
        any(leading_key_matches(operator, pattern, leading_key) for pattern in patterns) for operator, patterns in tests
    )


def leading_key_tests(statement: Mapping[str, Any]) -> list[tuple[str, list[str]]]:
    """(operator, values) of each `dynamodb:LeadingKeys` condition of the statement (IAM: condition
    key names are case-insensitive); all of them must hold."""
    tests: list[tuple[str, list[str]]] = []
    for operator, block in (statement.get("Condition") or {}).items():
        for key, values in block.items():
            if key.lower() != LEADING_KEYS.lower():
                continue
            assert operator in LEADING_KEY_OPERATORS, f"{operator} on {LEADING_KEYS} is not evaluated: {statement}"
            patterns = as_list(values)
            assert all(isinstance(p, str) for p in patterns), f"{LEADING_KEYS} values must be literal: {statement}"
            tests.append((operator, patterns))
    return tests


def leading_key_matches(operator: str, pattern: str, leading_key: str) -> bool:
    """StringEquals: exactly, case-sensitively. StringLike: `*` any run of characters, `?` one, every
    other character itself (`[` included: IAM has no character classes)."""
    if operator.endswith("StringLike"):
        regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
        return re.fullmatch(regex, leading_key, re.DOTALL) is not None
    return pattern == leading_key
