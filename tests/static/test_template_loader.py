"""ecs_migrate_deploy.template: short forms to long forms, parameter defaults, the small resolver."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ecs_migrate_deploy.template import NO_VALUE, UnresolvableIntrinsic, load_template, parameter_defaults, resolve

SHORT_FORMS = """
AWSTemplateFormatVersion: "2010-09-09"
Version: 2016-10-31
Parameters:
  Name: {Type: String, Default: app}
  Count: {Type: Number, Default: 3}
  Names: {Type: CommaDelimitedList, Default: "a,b"}
  Flag: {Type: String, Default: "false"}
  Required: {Type: String}
Conditions:
  HasName: !Not [!Equals [!Ref Name, ""]]
  Both: !And [!Condition HasName, !Equals [!Ref Flag, "false"]]
Resources:
  Thing:
    Type: AWS::Test::Thing
    Properties:
      Ref: !Ref Name
      Sub: !Sub "arn:${AWS::Partition}:x:::${Name}"
      SubList: !Sub ["${A}-${Name}", {A: !Ref Count}]
      GetAtt: !GetAtt Other.Arn
      GetAttDotted: !GetAtt Other.Endpoint.Address
      GetAttList: !GetAtt [Other, Arn]
      If: !If [HasName, yes-name, !Ref AWS::NoValue]
      Join: !Join [",", !Ref Names]
      Select: !Select [1, !Ref Names]
      Base64: !Base64 text
"""


@pytest.fixture
def loaded(tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "template.yaml"
    path.write_text(SHORT_FORMS, encoding="utf-8")
    return load_template(path)


def test_short_forms_become_long_forms(loaded: dict[str, Any]) -> None:
    props = loaded["Resources"]["Thing"]["Properties"]
    assert props["Ref"] == {"Ref": "Name"}
    assert props["Sub"] == {"Fn::Sub": "arn:${AWS::Partition}:x:::${Name}"}
    assert props["SubList"] == {"Fn::Sub": ["${A}-${Name}", {"A": {"Ref": "Count"}}]}
    assert props["GetAtt"] == {"Fn::GetAtt": ["Other", "Arn"]}
    assert props["GetAttDotted"] == {"Fn::GetAtt": ["Other", "Endpoint.Address"]}
    assert props["GetAttList"] == {"Fn::GetAtt": ["Other", "Arn"]}
    assert props["If"] == {"Fn::If": ["HasName", "yes-name", {"Ref": "AWS::NoValue"}]}
    assert props["Join"] == {"Fn::Join": [",", {"Ref": "Names"}]}
    assert props["Base64"] == {"Fn::Base64": "text"}
    assert loaded["Conditions"]["Both"] == {
        "Fn::And": [{"Condition": "HasName"}, {"Fn::Equals": [{"Ref": "Flag"}, "false"]}]
    }


def test_dates_stay_strings(loaded: dict[str, Any]) -> None:
    assert loaded["AWSTemplateFormatVersion"] == "2010-09-09"
    assert loaded["Version"] == "2016-10-31"


def test_parameter_defaults_are_strings_and_required_ones_are_absent(loaded: dict[str, Any]) -> None:
    assert parameter_defaults(loaded) == {"Name": "app", "Count": "3", "Names": "a,b", "Flag": "false"}


def test_resolve_evaluates_the_supported_intrinsics(loaded: dict[str, Any]) -> None:
    params = {**parameter_defaults(loaded), "AWS::Partition": "aws", "Other.Arn": "arn:other"}
    props = dict(loaded["Resources"]["Thing"]["Properties"])
    props.pop("GetAttDotted")
    props.pop("Base64")
    assert resolve(props, params, loaded["Conditions"]) == {
        "Ref": "app",
        "Sub": "arn:aws:x:::app",
        "SubList": "3-app",
        "GetAtt": "arn:other",
        "GetAttList": "arn:other",
        "If": "yes-name",
        "Join": "a,b",
        "Select": "b",
    }


def test_no_value_removes_the_property_or_item(loaded: dict[str, Any]) -> None:
    conditions = loaded["Conditions"]
    value = {"keep": 1, "drop": {"Fn::If": ["HasName", {"Ref": "AWS::NoValue"}, 2]}}
    assert resolve(value, {"Name": "x"}, conditions) == {"keep": 1}
    assert resolve([1, {"Ref": "AWS::NoValue"}, 3], {}) == [1, 3]
    assert resolve({"Ref": "AWS::NoValue"}, {}) is NO_VALUE


@pytest.mark.parametrize(
    ("name", "flag", "expected"), [("app", "false", True), ("", "false", False), ("app", "true", False)]
)
def test_conditions_compose(loaded: dict[str, Any], name: str, flag: str, expected: bool) -> None:
    value = {"Fn::If": ["Both", "yes", "no"]}
    assert resolve(value, {"Name": name, "Flag": flag}, loaded["Conditions"]) == ("yes" if expected else "no")


def test_a_comma_delimited_list_may_be_given_as_a_list_or_a_string() -> None:
    join = {"Fn::Join": ["|", {"Ref": "Names"}]}
    assert resolve(join, {"Names": ["a", "b"]}) == "a|b"
    assert resolve(join, {"Names": "a,b"}) == "a|b"
    assert resolve(join, {"Names": ""}) == ""


def test_sub_keeps_escaped_placeholders() -> None:
    assert resolve({"Fn::Sub": "${!Literal}-${X}"}, {"X": "1"}) == "${Literal}-1"


@pytest.mark.parametrize(
    "value",
    [
        {"Ref": "Unknown"},
        {"Fn::Sub": "${Unknown}"},
        {"Fn::If": ["NoSuchCondition", 1, 2]},
        {"Fn::GetAtt": ["Other", "Arn"]},
        {"Fn::ImportValue": "exported"},
        {"Fn::Equals": ["only-one"]},
    ],
)
def test_what_cannot_be_resolved_is_an_error(value: Any) -> None:
    with pytest.raises(UnresolvableIntrinsic):
        resolve(value, {})


def test_a_condition_that_refers_to_itself_is_an_error() -> None:
    with pytest.raises(UnresolvableIntrinsic, match="itself"):
        resolve({"Fn::If": ["Loop", 1, 2]}, {}, {"Loop": {"Condition": "Loop"}})


def test_non_mapping_templates_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="mapping"):
        load_template(path)
