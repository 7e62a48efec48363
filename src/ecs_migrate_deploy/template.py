"""Read the SAM template like CloudFormation does, for the static tests and the local emulation.

- `load_template(path)`: YAML with CloudFormation short-form tags (`!Ref`, `!Sub`, `!GetAtt`, `!If`, ...)
  turned into their long forms (`{"Ref": ...}`, `{"Fn::Sub": ...}`, `{"Fn::GetAtt": [...]}`), so the
  result is the same dict a JSON template would give.
- `parameter_defaults(template)`: every Parameter's Default, as the string CloudFormation would pass.
- `resolve(value, params, conditions)`: evaluate the intrinsics whose result depends only on parameter
  values (and on values the caller supplies for resources): Ref, Fn::GetAtt (looked up in `params`
  as "Logical.Attr"), Fn::If, Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition, Fn::Join, Fn::Sub,
  Fn::Select, Fn::Split. Anything else raises `UnresolvableIntrinsic`: this is not a CloudFormation engine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import yaml

__all__ = [
    "NO_VALUE",
    "CfnLoader",
    "UnresolvableIntrinsic",
    "load_template",
    "parameter_defaults",
    "resolve",
    "trigger_pattern",
]


class UnresolvableIntrinsic(ValueError):
    """An intrinsic function, reference or condition that `resolve` cannot evaluate."""


class _NoValue:
    """`!Ref AWS::NoValue`: the enclosing property or list item disappears."""

    _instance: _NoValue | None = None

    def __new__(cls) -> _NoValue:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE: Final = _NoValue()


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that knows CloudFormation's short-form tags and keeps dates as strings."""


# CloudFormation reads "2010-09-09" as a string; YAML 1.1 would make it a date.
CfnLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

# Short form name -> long form key. `!Ref` and `!Condition` have no `Fn::` prefix.
_SHORT_FORMS: Final[dict[str, str]] = {
    "Ref": "Ref",
    "Condition": "Condition",
    **{
        name: f"Fn::{name}"
        for name in (
            "And",
            "Base64",
            "Cidr",
            "Contains",
            "EachMemberEquals",
            "EachMemberIn",
            "Equals",
            "FindInMap",
            "ForEach",
            "GetAtt",
            "GetAZs",
            "If",
            "ImportValue",
            "Join",
            "Length",
            "Not",
            "Or",
            "RefAll",
            "Select",
            "Split",
            "Sub",
            "ToJsonString",
            "Transform",
            "ValueOf",
            "ValueOfAll",
        )
    },
}


def _construct(long_form: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if long_form == "Fn::GetAtt":
                # `!GetAtt Resource.Attribute` (the attribute may itself contain dots).
                logical_id, _, attribute = str(value).partition(".")
                value = [logical_id, attribute]
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        elif isinstance(node, yaml.MappingNode):
            value = loader.construct_mapping(node, deep=True)
        else:  # pragma: no cover - yaml has no other node kinds
            raise yaml.constructor.ConstructorError(None, None, f"unexpected node for !{long_form}", node.start_mark)
        return {long_form: value}

    return construct


for _short, _long in _SHORT_FORMS.items():
    CfnLoader.add_constructor(f"!{_short}", _construct(_long))


def load_template(path: str | Path) -> dict[str, Any]:
    """The template at `path` as a dict, short-form intrinsics in their long form."""
    text = Path(path).read_text(encoding="utf-8")
    loaded = yaml.load(text, Loader=CfnLoader)
    if not isinstance(loaded, dict):
        raise ValueError(f"{path}: a CloudFormation template must be a mapping, got {type(loaded).__name__}")
    return loaded


def trigger_pattern(template: Mapping[str, Any]) -> Any:
    """The EventBridge pattern that starts a deployment, as written (intrinsics unresolved).

    It is the state machine's `EventBridgeRule` event (SAM makes it an `AWS::Events::Rule`), or an
    `AWS::Events::Rule` written out; exactly one must exist, or what starts a deployment is ambiguous.
    """
    found = []
    for resource in (template.get("Resources") or {}).values():
        properties = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::Serverless::StateMachine":
            for event in (properties.get("Events") or {}).values():
                if event.get("Type") in ("EventBridgeRule", "CloudWatchEvent"):
                    found.append(event["Properties"]["Pattern"])
        elif resource.get("Type") == "AWS::Events::Rule" and "EventPattern" in properties:
            found.append(properties["EventPattern"])
    if len(found) != 1:
        raise ValueError(f"expected one trigger rule in the template, found {len(found)}")
    return found[0]


# --------------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------------


def _as_parameter_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(_as_parameter_string(v) for v in value)
    return str(value)


def parameter_defaults(template: Mapping[str, Any]) -> dict[str, str]:
    """Parameter name -> its Default as a string (CommaDelimitedList defaults stay comma-joined).

    Parameters without a Default are left out: the caller must supply them.
    """
    parameters = template.get("Parameters") or {}
    return {
        name: _as_parameter_string(spec["Default"])
        for name, spec in parameters.items()
        if isinstance(spec, Mapping) and "Default" in spec
    }


# --------------------------------------------------------------------------------------------------
# Resolving
# --------------------------------------------------------------------------------------------------

_SUB_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


def resolve(value: Any, params: Mapping[str, Any], conditions: Mapping[str, Any] | None = None) -> Any:
    """`value` with every intrinsic evaluated against `params` (and `conditions` for Fn::If).

    `params` maps parameter names, pseudo parameters (`AWS::Region`, ...) and any logical ids the
    caller knows (`Ref`) or "Logical.Attribute" (`Fn::GetAtt`) to values; a CommaDelimitedList may be
    given as a list or as its comma-joined string. `conditions` is the template's `Conditions`
    section (expressions) or already evaluated booleans. `!Ref AWS::NoValue` removes the enclosing
    key or list item (returns `NO_VALUE` when it is the whole value).
    """
    return _Resolver(params, conditions or {}).value(value)


class _Resolver:
    def __init__(self, params: Mapping[str, Any], conditions: Mapping[str, Any]) -> None:
        self.params = params
        self.conditions = conditions
        self._evaluating: set[str] = set()

    def value(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.value(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Condition" and isinstance(arg, str):
                return self.condition(arg)
            if key.startswith("Fn::"):
                return self.function(key, arg)
        resolved = {k: self.value(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def ref(self, name: Any) -> Any:
        if not isinstance(name, str):
            raise UnresolvableIntrinsic(f"Ref takes a name, got {name!r}")
        if name == "AWS::NoValue":
            return NO_VALUE
        if name not in self.params:
            raise UnresolvableIntrinsic(f"no value for Ref {name}")
        return self.params[name]

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise UnresolvableIntrinsic(f"unknown condition {name}")
        if name in self._evaluating:
            raise UnresolvableIntrinsic(f"condition {name} refers to itself")
        self._evaluating.add(name)
        try:
            return self.boolean(self.conditions[name])
        finally:
            self._evaluating.discard(name)

    def boolean(self, expression: Any) -> bool:
        result = self.value(expression)
        if isinstance(result, bool):
            return result
        if isinstance(result, str) and result.lower() in ("true", "false"):
            return result.lower() == "true"
        raise UnresolvableIntrinsic(f"a condition must evaluate to a boolean, got {result!r}")

    def function(self, key: str, arg: Any) -> Any:
        handler = getattr(self, "fn_" + key.removeprefix("Fn::").lower(), None)
        if handler is None:
            raise UnresolvableIntrinsic(f"{key} is not supported here")
        return handler(arg)

    @staticmethod
    def _args(name: str, arg: Any, count: int) -> list[Any]:
        if not isinstance(arg, list) or len(arg) != count:
            raise UnresolvableIntrinsic(f"Fn::{name} takes a list of {count} arguments, got {arg!r}")
        return arg

    def fn_getatt(self, arg: Any) -> Any:
        target = arg.split(".", 1) if isinstance(arg, str) else arg
        if not isinstance(target, list) or len(target) != 2:
            raise UnresolvableIntrinsic(f"Fn::GetAtt takes [Resource, Attribute], got {arg!r}")
        key = f"{target[0]}.{self.value(target[1])}"
        if key not in self.params:
            raise UnresolvableIntrinsic(f"no value for Fn::GetAtt {key}")
        return self.params[key]

    def fn_if(self, arg: Any) -> Any:
        name, when_true, when_false = self._args("If", arg, 3)
        if not isinstance(name, str):
            raise UnresolvableIntrinsic(f"Fn::If takes a condition name, got {name!r}")
        return self.value(when_true if self.condition(name) else when_false)

    def fn_equals(self, arg: Any) -> bool:
        left, right = (self.value(v) for v in self._args("Equals", arg, 2))
        return _as_parameter_string(left) == _as_parameter_string(right)

    def fn_not(self, arg: Any) -> bool:
        (operand,) = self._args("Not", arg, 1)
        return not self.boolean(operand)

    def fn_and(self, arg: Any) -> bool:
        if not isinstance(arg, list) or not arg:
            raise UnresolvableIntrinsic(f"Fn::And takes a list of conditions, got {arg!r}")
        return all(self.boolean(v) for v in arg)

    def fn_or(self, arg: Any) -> bool:
        if not isinstance(arg, list) or not arg:
            raise UnresolvableIntrinsic(f"Fn::Or takes a list of conditions, got {arg!r}")
        return any(self.boolean(v) for v in arg)

    def _list(self, value: Any) -> list[Any]:
        resolved = self.value(value)
        if isinstance(resolved, str):  # a CommaDelimitedList parameter given as its string
            return [part for part in resolved.split(",")] if resolved else []
        if not isinstance(resolved, list):
            raise UnresolvableIntrinsic(f"expected a list, got {resolved!r}")
        return resolved

    def fn_join(self, arg: Any) -> str:
        delimiter, items = self._args("Join", arg, 2)
        return str(delimiter).join(_as_parameter_string(v) for v in self._list(items))

    def fn_split(self, arg: Any) -> list[str]:
        """CloudFormation's Fn::Split: [delimiter, source string] -> the parts, empty ones kept."""
        delimiter, source = self._args("Split", arg, 2)
        text = self.value(source)
        if not isinstance(text, str):
            raise UnresolvableIntrinsic(f"Fn::Split takes a string to split, got {text!r}")
        return text.split(str(self.value(delimiter)))

    def fn_select(self, arg: Any) -> Any:
        index, items = self._args("Select", arg, 2)
        values = self._list(items)
        position = int(self.value(index))
        if not 0 <= position < len(values):
            raise UnresolvableIntrinsic(f"Fn::Select index {position} out of range for {values!r}")
        return values[position]

    def fn_sub(self, arg: Any) -> str:
        if isinstance(arg, str):
            text, variables = arg, {}
        elif isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) and isinstance(arg[1], dict):
            text, variables = arg[0], {k: self.value(v) for k, v in arg[1].items()}
        else:
            raise UnresolvableIntrinsic(f"Fn::Sub takes a string or [string, variables], got {arg!r}")

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):  # ${!Literal} stays as ${Literal}
                return "${" + name[1:] + "}"
            if name in variables:
                return _as_parameter_string(variables[name])
            if name in self.params:
                return _as_parameter_string(self.params[name])
            raise UnresolvableIntrinsic(f"no value for ${{{name}}} in Fn::Sub")

        return _SUB_PLACEHOLDER.sub(replace, text)
