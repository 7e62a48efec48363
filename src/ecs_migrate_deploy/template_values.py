"""The SAM template's values for one stack: its parameters, the functions' environment, and the state
machine's DefinitionSubstitutions, as CloudFormation and SAM would resolve them.

Beside template.py (which reads a template and resolves intrinsics), this is what the local emulation
takes from template.yaml: the world it builds (emulation/world.py) passes its own names and ARNs as
`WorldValues`, matched to whatever the template names them, so the functions run with exactly the
environment the template gives them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ecs_migrate_deploy.template import parameter_defaults, resolve

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_.:-]+)\}")


class StackSpec(Protocol):
    """What a stack's parameters depend on besides the template (emulation.world.WorldSpec has it)."""

    @property
    def region(self) -> str: ...

    @property
    def account(self) -> str: ...

    @property
    def stack_name(self) -> str: ...

    @property
    def parameters(self) -> Mapping[str, str]: ...


@dataclass(frozen=True)
class WorldValues:
    """What the world decides, keyed so it can be matched to whatever the template names it."""

    env: dict[str, str]
    refs: dict[str, str]  # resource kind -> Ref value
    attrs: dict[str, str]  # "kind.Attr" -> GetAtt value
    functions: dict[str, str]  # logical id -> function ARN


_KIND_BY_TYPE = {
    "AWS::DynamoDB::Table": "table",
    "AWS::Serverless::SimpleTable": "table",
    "AWS::SNS::Topic": "topic",
    "AWS::Serverless::StateMachine": "state_machine",
    "AWS::StepFunctions::StateMachine": "state_machine",
}


def template_functions(template: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Logical id -> Properties (Globals.Function merged in) of every AWS::Serverless::Function."""
    if not template:
        return {}
    defaults = dict(((template.get("Globals") or {}).get("Function")) or {})
    out: dict[str, dict[str, Any]] = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") == "AWS::Serverless::Function":
            props = {**defaults, **(resource.get("Properties") or {})}
            out[logical_id] = props
    return out


def _resource_params(template: Mapping[str, Any] | None, values: WorldValues) -> dict[str, Any]:
    """Ref/GetAtt values of the template's resources and pseudo parameters, for `resolve`."""
    spec_refs: dict[str, Any] = {}
    for logical_id, resource in ((template or {}).get("Resources") or {}).items():
        kind = _KIND_BY_TYPE.get(str(resource.get("Type")))
        if kind and kind in values.refs:
            spec_refs[logical_id] = values.refs[kind]
            for attr_key, attr_value in values.attrs.items():
                attr_kind, _, attr = attr_key.partition(".")
                if attr_kind == kind:
                    spec_refs[f"{logical_id}.{attr}"] = attr_value
    for logical_id, arn in values.functions.items():
        spec_refs[logical_id] = arn.rsplit(":", 1)[-1]
        spec_refs[f"{logical_id}.Arn"] = arn
    return spec_refs


def as_env_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(as_env_string(v) for v in value)
    if value is None:
        return ""
    return str(value)


def _param_for(value: Any) -> str | None:
    """The Parameter an env var takes as is: `{"Ref": P}` or `{"Fn::Join": [",", {"Ref": P}]}`."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return str(value["Ref"])
    if isinstance(value, dict) and set(value) == {"Fn::Join"}:
        join = value["Fn::Join"]
        if isinstance(join, list) and len(join) == 2 and join[0] == "," and isinstance(join[1], dict):
            return _param_for(join[1])
    return None


def template_parameters(
    spec: StackSpec,
    template: Mapping[str, Any],
    values: WorldValues,
    overrides: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """What `Ref`/`Fn::GetAtt`/`Fn::Sub` see: Parameters, pseudo parameters, our resources.

    Parameter values = template defaults, overridden by the world's values (matched through the
    Globals env var that takes the parameter directly, e.g. CLUSTER_NAME: !Ref ClusterName), then
    by `spec.parameters`, then by `overrides`.
    """
    variables = global_variables(template)
    declared = template.get("Parameters") or {}
    params: dict[str, Any] = dict(parameter_defaults(template))
    for env_name, raw in variables.items():
        param = _param_for(raw)
        if param and param in declared and env_name in values.env:
            params[param] = values.env[env_name]
    params.update(spec.parameters)
    params.update(overrides or {})
    params.update(
        {
            "AWS::Region": spec.region,
            "AWS::AccountId": spec.account,
            "AWS::StackName": spec.stack_name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
    )
    params.update(_resource_params(template, values))
    return params


def global_variables(template: Mapping[str, Any]) -> dict[str, Any]:
    function = (template.get("Globals") or {}).get("Function") or {}
    return dict((function.get("Environment") or {}).get("Variables") or {})


def compute_environment(
    spec: StackSpec,
    template: Mapping[str, Any] | None,
    values: WorldValues,
    overrides: Mapping[str, str] | None = None,
    variables: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """The Lambda environment: `Globals.Function.Environment.Variables` (or `variables`), resolved.

    Without a template: the world's values keyed by env var, then `spec.parameters` and
    `overrides` applied by env var name.
    """
    if not template:
        return {**values.env, **spec.parameters, **(overrides or {})}
    params = template_parameters(spec, template, values, overrides)
    raw = global_variables(template) if variables is None else dict(variables)
    resolved = resolve(raw, params, template.get("Conditions") or {})
    return {name: as_env_string(value) for name, value in resolved.items()}


def substitute_definition(
    definition_text: str, template: Mapping[str, Any] | None, values: WorldValues, spec: StackSpec
) -> dict[str, Any]:
    """Apply DefinitionSubstitutions (moto does not) and parse; `${X}` left over is an error."""
    substitutions: dict[str, str] = {}
    if template:
        params = template_parameters(spec, template, values)
        for resource in (template.get("Resources") or {}).values():
            if resource.get("Type") in ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"):
                raw = (resource.get("Properties") or {}).get("DefinitionSubstitutions") or {}
                resolved = resolve(raw, params, template.get("Conditions") or {})
                substitutions.update({key: as_env_string(value) for key, value in resolved.items()})
    # Without a template (or for names it does not list): `${<Name>FunctionArn}` -> <Name>Function.
    for logical_id, arn in values.functions.items():
        substitutions.setdefault(f"{logical_id}Arn", arn)

    missing: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in substitutions:
            missing.add(key)
            return match.group(0)
        return substitutions[key]

    text = _PLACEHOLDER.sub(replace, definition_text)
    if missing:
        raise ValueError(f"state machine placeholders without a value: {', '.join(sorted(missing))}")
    return dict(json.loads(text))


def function_names_in(definition_text: str) -> list[str]:
    return sorted(
        {
            m.group(1)[: -len("Arn")]
            for m in _PLACEHOLDER.finditer(definition_text)
            if m.group(1).endswith("FunctionArn")
        }
    )
