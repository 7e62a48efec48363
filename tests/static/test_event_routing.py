"""The EventBridge trigger: which ECR events start a deployment, for a given TagPrefix.

The pattern is read from template.yaml, its intrinsics resolved for the parameter values under test,
and matched by moto's implementation of EventBridge pattern matching.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from deploy_pipeline.models.inputs import EcrPushEvent
from moto.events.models import EventPattern
from static_support import parameter_values, template

from ecs_migrate_deploy.template import resolve, trigger_pattern

REPOSITORY = "acme/api"

# The documented shape of an ECR push event (docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html).
ECR_PUSH: dict[str, Any] = {
    "version": "0",
    "id": "13cde686-328b-6117-af20-0e5566167482",
    "detail-type": "ECR Image Action",
    "source": "aws.ecr",
    "account": "123456789012",
    "time": "2026-11-16T01:54:34Z",
    "region": "us-east-1",
    "resources": [],
    "detail": {
        "result": "SUCCESS",
        "repository-name": REPOSITORY,
        "image-digest": "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd12345678",
        "action-type": "PUSH",
        "image-tag": "v1.2.3",
    },
}


def rule_pattern(**params: str) -> dict[str, Any]:
    values = parameter_values(RepositoryName=REPOSITORY, **params)
    pattern = resolve(trigger_pattern(template()), values, template().get("Conditions") or {})
    assert isinstance(pattern, dict)
    return pattern


def event(**detail: Any) -> dict[str, Any]:
    message = copy.deepcopy(ECR_PUSH)
    for key, value in detail.items():
        if value is None:
            message["detail"].pop(key, None)
        else:
            message["detail"][key] = value
    return message


def matches(pattern: dict[str, Any], message: dict[str, Any]) -> bool:
    return bool(EventPattern.load(json.dumps(pattern)).matches_event(message))  # type: ignore[arg-type]


def test_the_pattern_resolves_to_plain_json_for_both_tag_modes() -> None:
    assert rule_pattern(TagPrefix="")["detail"]["image-tag"] == [{"anything-but": "latest"}]
    assert rule_pattern(TagPrefix="v")["detail"]["image-tag"] == [{"prefix": "v"}]
    assert rule_pattern()["detail"]["repository-name"] == [REPOSITORY]
    json.dumps(rule_pattern())  # nothing unresolved is left


def test_the_sample_event_is_what_resolve_accepts() -> None:
    EcrPushEvent.model_validate(ECR_PUSH)


@pytest.mark.parametrize(
    ("prefix", "detail", "expected"),
    [
        ("", {}, True),
        ("", {"image-tag": "latest"}, False),
        ("", {"image-tag": "latest-but-not-quite"}, True),
        ("", {"result": "FAILURE"}, False),
        ("", {"action-type": "DELETE"}, False),
        ("", {"repository-name": "acme/other"}, False),
        ("", {"image-tag": None}, False),  # pushed by digest only: nothing to deploy by tag
        ("v", {"image-tag": "v1.2.3"}, True),
        ("v", {"image-tag": "1.2.3"}, False),
        ("v", {"image-tag": "latest"}, False),
        ("v", {"image-tag": "v1.2.3", "result": "FAILURE"}, False),
        ("v", {"image-tag": "v1.2.3", "repository-name": "acme/other"}, False),
        ("release-", {"image-tag": "release-42"}, True),
        ("release-", {"image-tag": "v42"}, False),
    ],
)
def test_which_events_start_a_deployment(prefix: str, detail: dict[str, Any], expected: bool) -> None:
    assert matches(rule_pattern(TagPrefix=prefix), event(**detail)) is expected


def test_other_sources_and_detail_types_are_ignored() -> None:
    pattern = rule_pattern()
    assert not matches(pattern, {**ECR_PUSH, "source": "custom.ecr"})
    assert not matches(pattern, {**ECR_PUSH, "detail-type": "ECR Image Scan"})


def test_exact_trigger_tags_replace_the_prefix_filter() -> None:
    pattern = rule_pattern(TriggerTags="latest,develop")
    assert pattern["detail"]["image-tag"] == ["latest", "develop"]
    assert matches(pattern, event(**{"image-tag": "latest"}))
    assert matches(pattern, event(**{"image-tag": "develop"}))
    assert not matches(pattern, event(**{"image-tag": "v1.2.3"}))
    assert not matches(pattern, event(**{"image-tag": "latest-2"}))
