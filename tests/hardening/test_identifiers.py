"""What the pipeline names in AWS follows AWS's own patterns, and nothing from the event reaches a shell.

The deployment id comes from the execution name, which may hold characters AWS identifiers reject
and may differ from another execution's only in them. It names the snapshot, the migration task
(startedBy) and the task-definition revisions, and a retried Lambda finds those again by it, so two
executions must never share one. The end-to-end test runs a deployment whose execution name, tag and
migration command are all awkward, and reads back from the emulated AWS what was actually created.
"""

from __future__ import annotations

import shlex
from typing import Any

import pytest
from deploy_pipeline.logic.identifiers import derived_identifier, safe_deployment_id
from deploy_pipeline.logic.snapshot import snapshot_id
from deploy_pipeline.models.state import DeploymentPlan
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.hardening.aws_patterns import (
    ECS_STARTED_BY,
    IMAGE_DIGEST,
    IMAGE_TAG,
    RDS_INSTANCE_ID,
    RDS_SNAPSHOT_ID,
    TAG_VALUE,
    matches,
)
from tests.support.pipeline import Pipeline, PipelineFactory

# Step Functions execution names: 1-80 characters, no whitespace, brackets, wildcards or `"#%\^|~`$&,;:/`.
SFN_NAME_CHARACTERS = st.characters(
    blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp"), blacklist_characters='<>{}[]?*"#%\\^|~`$&,;:/'
)
EXECUTION_NAMES = st.text(SFN_NAME_CHARACTERS, min_size=1, max_size=80) | st.text(min_size=1, max_size=120)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(EXECUTION_NAMES)
def test_every_derived_identifier_is_one_aws_accepts(name: str) -> None:
    deployment_id = safe_deployment_id(name)
    assert matches(ECS_STARTED_BY, deployment_id) and matches(TAG_VALUE, deployment_id)
    assert matches(RDS_SNAPSHOT_ID, snapshot_id(deployment_id))
    assert matches(RDS_INSTANCE_ID, derived_identifier("restored-", deployment_id, 63))
    assert _plan_accepts(deployment_id)  # the check every handler repeats on the plan


@settings(max_examples=300, deadline=None, derandomize=True)
@given(EXECUTION_NAMES, EXECUTION_NAMES)
def test_different_execution_names_never_share_a_deployment_id(first: str, second: str) -> None:
    if first != second:
        assert safe_deployment_id(first) != safe_deployment_id(second)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("release_1", "release-1"),  # cleaned to the same text
        ("Release-1", "release-1"),  # RDS identifiers ignore case
        ("v1.2.3", "v1-2-3"),
        ("déploiement", "d-ploiement"),
        ("___", "deployment"),
    ],
)
def test_names_that_clean_to_the_same_text_keep_distinct_ids(first: str, second: str) -> None:
    assert safe_deployment_id(first) != safe_deployment_id(second)


def test_a_safe_name_is_kept_and_a_cut_identifier_keeps_a_hash() -> None:
    assert safe_deployment_id("push-v1-1-0") == "push-v1-1-0"
    long_id = safe_deployment_id("d" * 80)
    restored = [derived_identifier("restored-", long_id[:79] + tail, 63) for tail in "ab"]
    assert restored[0] != restored[1] and all(len(r) <= 63 for r in restored)


def _plan_accepts(deployment_id: str) -> bool:
    try:
        DeploymentPlan.model_validate({**_PLAN, "deployment_id": deployment_id})
    except ValidationError:
        return False
    return True


_PLAN: dict[str, Any] = {
    "trigger": "manual",
    "image": {
        "repository": "acme/app",
        "repository_uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/acme/app",
        "digest": "sha256:" + "a" * 64,
    },
    "cluster": "acme-prod",
    "services": [],
    "migration_container": "app",
    "migration_command": ["true"],
    "database": {"kind": "instance", "identifier": "acme-db"},
}


@pytest.mark.parametrize("deployment_id", ["a_b", "a--b", "-a", "a-", "A-b", "a b", "a;b", "x" * 81, ""])
def test_a_plan_refuses_a_deployment_id_aws_would_reject(deployment_id: str) -> None:
    """Every handler re-validates the plan, so a hand-edited state cannot smuggle an id past Resolve."""
    assert not _plan_accepts(deployment_id)


# --------------------------------------------------------------------------------------------------
# End to end: what a deployment with an awkward name, tag and command creates in AWS
# --------------------------------------------------------------------------------------------------

EXECUTION_NAME = "Release_1.2.0.RC1"
TAG = "Release_1.2.0-rc.1"
# Shell syntax in the stack's command: it must reach ECS as these literal argv items, never a shell.
COMMAND = "npx prisma migrate deploy --schema 'prisma dir/schema.prisma' ; echo $HOME `id` | tee /tmp/x"


def created_resources(pipeline: Pipeline) -> dict[str, Any]:
    world, ecs, rds = pipeline.world, pipeline.client("ecs"), pipeline.client("rds")
    [snapshot] = rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    [task_arn] = ecs.list_tasks(cluster=world.cluster_name, desiredStatus="STOPPED")["taskArns"]
    [task] = ecs.describe_tasks(cluster=world.cluster_name, tasks=[task_arn], include=["TAGS"])["tasks"]
    new_revisions = [
        arn
        for arn in ecs.list_task_definitions()["taskDefinitionArns"]
        if arn not in world.task_definition_arns.values()
    ]
    revision_tags = [
        tag["value"]
        for arn in new_revisions
        for tag in ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"]).get("tags", [])
    ]
    return {
        "snapshot_id": snapshot["DBSnapshotIdentifier"],
        "snapshot_tags": [
            t["Value"] for t in rds.list_tags_for_resource(ResourceName=snapshot["DBSnapshotArn"])["TagList"]
        ],
        "started_by": task["startedBy"],
        "task_tags": [t["value"] for t in task.get("tags", [])],
        "revision_tags": revision_tags,
    }


def test_a_deployment_names_everything_within_aws_patterns_and_passes_the_command_as_argv(
    make_pipeline: PipelineFactory,
) -> None:
    commands: list[Any] = []

    def recording_runner(task_definition: Any, overrides: list[dict[str, Any]], started_by: str) -> Any:
        commands.extend(o.get("command") for o in overrides)
        return pipeline.local(task_definition, overrides, started_by)

    pipeline = make_pipeline("shop", task_runner=recording_runner, parameters={"MigrationCommand": COMMAND})
    digest = pipeline.world.push_image(TAG)

    report = pipeline.run({"image_tag": TAG}, name=EXECUTION_NAME)

    assert report.status == "SUCCEEDED", (report.error, report.cause)
    deployment_id = safe_deployment_id(EXECUTION_NAME)
    assert deployment_id.startswith("release-1-2-0-rc1-") and matches(IMAGE_TAG, TAG) and matches(IMAGE_DIGEST, digest)
    created = created_resources(pipeline)
    assert created["snapshot_id"] == snapshot_id(deployment_id) and matches(RDS_SNAPSHOT_ID, created["snapshot_id"])
    assert created["started_by"] == deployment_id and matches(ECS_STARTED_BY, created["started_by"])
    tag_values = created["snapshot_tags"] + created["task_tags"] + created["revision_tags"]
    assert {deployment_id, digest, TAG} <= set(tag_values) and len(created["revision_tags"]) == 2
    assert all(matches(TAG_VALUE, value) for value in tag_values), tag_values
    # The command is the stack's, split like a shell would split it and handed over as an argv list.
    assert commands == [shlex.split(COMMAND)]
    assert not any(TAG in arg or digest in arg or EXECUTION_NAME in arg for arg in commands[0])
