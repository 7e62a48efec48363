"""Property-based fuzzing of the input models, through `parse_request` (what Resolve runs first).

Properties: whatever JSON arrives, parsing either returns a request or raises InvalidInput with one
printable line (never another exception, never a multi-line or invisible message); and whatever it
accepts names an image by an ECR-valid tag or digest, of the stack's repository, with options the
stack allows. Three generators: arbitrary JSON; manual inputs built field by field from valid,
hostile and wrong-typed values; ECR events mutated the same way (so acceptance is actually reached).

Example counts are modest (the whole module runs in a few seconds); `derandomize` keeps a run
reproducible in CI, and a failure prints the shrunk input.
"""

from __future__ import annotations

from typing import Any

from deploy_pipeline.errors import InvalidInput
from deploy_pipeline.logic.resolve import parse_request, tag_allowed
from deploy_pipeline.settings import Settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hardening.aws_patterns import IMAGE_DIGEST, IMAGE_TAG, REPOSITORY_NAME, matches
from tests.stack_inputs import ECR_ENVELOPE, REPOSITORY, stack_settings

FUZZ = settings(max_examples=250, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


STACKS = st.sampled_from([stack_settings(), stack_settings(tag_prefix="v", allow_skip_snapshot=True)])

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=25,
)
HOSTILE = st.sampled_from(
    ["; rm -rf /", "$(id)", "`id`", "\n", "\r\n", "\u2028", "\u202e", "\u200b", "\x00", "../", "|", "&&", " ",
     "\u0475", "\uff11", "\ud800", "'", '"', "%s", "{}", "\\"]
)  # fmt: skip
VALID_TAGS = st.from_regex(IMAGE_TAG, fullmatch=True)
TAGS = (
    VALID_TAGS
    | st.builds(lambda tag, bad, at: tag[:at] + bad + tag[at:], VALID_TAGS, HOSTILE, st.integers(0, 130))
    | st.text(max_size=140)
    | st.just("latest")
    | JSON
)
DIGESTS = (
    st.from_regex(IMAGE_DIGEST, fullmatch=True)
    | st.builds(lambda d, bad: d + bad, st.from_regex(IMAGE_DIGEST, fullmatch=True), HOSTILE)
    | st.from_regex(r"sha256:[0-9a-fA-F]{60,68}", fullmatch=True)
    | JSON
)
REPOSITORIES = st.sampled_from([REPOSITORY, "acme/other", "Acme/App", "acme/app/", "a"]) | st.text(max_size=20)
FLAGS = st.booleans() | st.sampled_from(["true", "false", 1, 0, "yes", None])
OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "skip_snapshot": FLAGS,
        "dry_run": FLAGS,
        "rollback": FLAGS,
        "expected_migration": st.from_regex(r"[A-Za-z0-9_.:-]{1,40}", fullmatch=True) | st.text(max_size=20) | JSON,
        "force": JSON,
    },
)
MANUAL = st.fixed_dictionaries(
    {},
    optional={
        "image_tag": TAGS,
        "image_digest": DIGESTS,
        "repository": REPOSITORIES,
        "options": OPTIONS | JSON,
        "extra": JSON,
    },
)


def ecr_event(detail: dict[str, Any], envelope: dict[str, Any]) -> dict[str, Any]:
    base = {"result": "SUCCESS", "action-type": "PUSH", "repository-name": REPOSITORY}
    return {**ECR_ENVELOPE, "detail": {**base, **detail}, **envelope}


EVENTS = st.builds(
    ecr_event,
    st.fixed_dictionaries(
        {"image-digest": DIGESTS},
        optional={
            "image-tag": TAGS,
            "repository-name": REPOSITORIES,
            "action-type": st.sampled_from(["PUSH", "DELETE", "push"]) | JSON,
            "result": st.sampled_from(["SUCCESS", "FAILURE"]) | JSON,
            "annotations": JSON,
        },
    ),
    st.fixed_dictionaries(
        {},
        optional={
            "source": st.sampled_from(["aws.ecr", "aws.ecs"]) | JSON,
            "account": st.from_regex(r"[0-9]{12}", fullmatch=True) | JSON,
            "region": st.sampled_from(["us-east-1", "us-east-1; ls"]) | JSON,
            "time": JSON,
        },
    ),
)


def parse(raw: Any, settings: Settings) -> tuple[str, str | None, str | None, Any] | None:
    """parse_request, with the only failure it may have checked: InvalidInput, on one printable line."""
    try:
        return parse_request(raw, settings)
    except InvalidInput as exc:
        message = str(exc)
        assert message.isprintable() and 0 < len(message) <= 1000, repr(message)
        return None


def assert_deployable(result: tuple[str, str | None, str | None, Any], settings: Settings) -> None:
    trigger, tag, digest, options = result
    assert tag is None or matches(IMAGE_TAG, tag)
    assert digest is None or matches(IMAGE_DIGEST, digest)
    assert (tag, digest) != (None, None)
    assert matches(REPOSITORY_NAME, settings.repository_name)
    assert isinstance(options.skip_snapshot, bool) and isinstance(options.dry_run, bool)
    assert settings.allow_skip_snapshot or not options.skip_snapshot
    assert not (options.rollback and options.expected_migration)
    if trigger == "manual":
        assert (tag is None) != (digest is None)


@FUZZ
@given(JSON, STACKS)
def test_arbitrary_json_is_refused_with_one_line_or_parsed(raw: Any, settings: Settings) -> None:
    result = parse(raw, settings)
    if result is not None:
        assert_deployable(result, settings)


@FUZZ
@given(MANUAL, STACKS)
def test_manual_inputs_are_refused_with_one_line_or_deployable(raw: dict[str, Any], settings: Settings) -> None:
    result = parse(raw, settings)
    if result is not None:
        assert_deployable(result, settings)
        assert raw.get("repository") in (None, settings.repository_name)


@FUZZ
@given(EVENTS, STACKS)
def test_ecr_events_are_refused_with_one_line_or_deployable(raw: dict[str, Any], settings: Settings) -> None:
    result = parse(raw, settings)
    if result is not None:
        assert_deployable(result, settings)
        assert result[0] == "ecr-push" and raw["detail"]["repository-name"] == settings.repository_name
        # The stack's tag filter binds pushes (a person may start any tag by hand).
        assert result[1] is None or tag_allowed(result[1], settings.tag_prefix)


def test_the_generators_reach_acceptance() -> None:
    """Guard against vacuous properties: each structured generator produces deployable inputs too."""
    accepted = {"manual": 0, "ecr": 0}

    @settings(max_examples=200, deadline=None, derandomize=True)
    @given(MANUAL, EVENTS)
    def count(manual: dict[str, Any], event: dict[str, Any]) -> None:
        accepted["manual"] += parse(manual, stack_settings()) is not None
        accepted["ecr"] += parse(event, stack_settings()) is not None

    count()
    assert accepted["manual"] > 0 and accepted["ecr"] > 0, accepted
