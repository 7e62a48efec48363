"""The two entry inputs: what is accepted, and the one-line reason for what is not."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from deploy_pipeline.errors import InvalidInput
from deploy_pipeline.logic.resolve import parse_request, safe_deployment_id, tag_allowed

from tests.stack_inputs import DIGEST, ECR_ENVELOPE, REPOSITORY, stack_settings


def ecr_event(**detail: Any) -> dict[str, Any]:
    base = {
        "result": "SUCCESS",
        "repository-name": REPOSITORY,
        "image-digest": DIGEST,
        "action-type": "PUSH",
        "image-tag": "v1.2.3",
    }
    return {**ECR_ENVELOPE, "detail": {**base, **detail}}


def test_ecr_push_is_parsed_into_tag_digest_and_trigger() -> None:
    trigger, tag, digest, options = parse_request(ecr_event(), stack_settings())
    assert (trigger, tag, digest) == ("ecr-push", "v1.2.3", DIGEST)
    assert not options.skip_snapshot


def test_manual_by_tag_and_by_digest() -> None:
    assert parse_request({"image_tag": "v2"}, stack_settings())[:3] == ("manual", "v2", None)
    trigger, tag, digest, options = parse_request(
        {"image_digest": DIGEST, "options": {"dry_run": True, "expected_migration": "20240101000000_init"}},
        stack_settings(),
    )
    assert (trigger, tag, digest) == ("manual", None, DIGEST)
    assert options.dry_run and options.expected_migration == "20240101000000_init"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (ecr_event(**{"action-type": "DELETE"}), "not a PUSH"),
        (ecr_event(result="FAILURE"), "did not succeed"),
        (ecr_event(**{"repository-name": "other/app"}), "this stack deploys 'acme/app'"),
        (ecr_event(**{"image-tag": "latest"}), "filtered out"),
        (ecr_event(**{"image-digest": "sha256:xyz"}), "detail.image-digest"),
        ({"image_tag": "v1", "image_digest": DIGEST}, "exactly one"),
        ({}, "exactly one"),
        ({"image_tag": "v1; rm -rf /"}, "image_tag"),
        ({"image_tag": "v" * 300}, "image_tag"),
        ({"image_tag": "v1", "colour": "red"}, "colour"),
        ({"image_tag": "v1", "options": {"skip_snapshot": True}}, "AllowSkipSnapshot"),
        ({"image_tag": "v1", "options": {"rollback": True, "expected_migration": "x"}}, "rollback"),
        ("v1.2.3", "expected a JSON object"),
        ([1, 2], "expected a JSON object"),
    ],
)
def test_bad_input_gets_a_one_line_reason(raw: Any, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_request(copy.deepcopy(raw), stack_settings())
    message = str(caught.value)
    assert reason in message
    assert "\n" not in message


def test_tag_prefix_filter_matches_the_event_rule() -> None:
    assert tag_allowed("v1", None) and not tag_allowed("latest", None)
    assert tag_allowed("v1", "v") and not tag_allowed("release-1", "v")
    with pytest.raises(InvalidInput, match="prefix 'v'"):
        parse_request(ecr_event(**{"image-tag": "release-1"}), stack_settings(tag_prefix="v"))


def test_skip_snapshot_allowed_when_the_stack_allows_it() -> None:
    options = parse_request(
        {"image_tag": "v1", "options": {"skip_snapshot": True}}, stack_settings(allow_skip_snapshot=True)
    )[3]
    assert options.skip_snapshot


def test_deployment_id_is_safe_for_ecs_and_rds() -> None:
    assert safe_deployment_id("push-v1-1-0") == "push-v1-1-0"  # already safe: kept as it is
    # cleaned, plus a hash of the original name (tests/hardening/test_identifiers.py: no collisions)
    assert safe_deployment_id("manual_v1.2.3__2026").startswith("manual-v1-2-3-2026-")
    assert safe_deployment_id("___").startswith("deployment-")


def test_exact_trigger_tags_match_the_event_rule() -> None:
    assert tag_allowed("latest", None, ["latest"]) and not tag_allowed("v1", None, ["latest"])
    with pytest.raises(InvalidInput, match="exact tags 'latest', 'develop'"):
        parse_request(ecr_event(**{"image-tag": "v1"}), stack_settings(trigger_tags="latest,develop"))
    assert parse_request(ecr_event(**{"image-tag": "develop"}), stack_settings(trigger_tags="latest,develop"))[1] == (
        "develop"
    )
