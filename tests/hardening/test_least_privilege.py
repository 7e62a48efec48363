"""Least privilege, read from the IAM CloudFormation will actually create (SAM's transform).

tests/static/test_template.py checks the statements written in template.yaml (no wildcard actions,
`Resource: "*"` only for the APIs without resource-level permissions, each with a comment). This adds
what only the transformed template shows or what those tests leave open: the roles SAM generates and
the managed policies it attaches, statements without a Resource, iam:PassRole, the trigger's role,
ARNs that end in a wildcard, and the reasons of checkov's inline skips. checkov itself runs in
`make test` on both template.yaml and this transformed template.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from ecs_migrate_deploy.template import load_template
from tests.hardening.sam_translation import TEMPLATE, translated_template

BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
XRAY = "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"
VPC = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
# The managed policies SAM attaches, and why they stay (each grants its actions on "*").
MANAGED_POLICIES = {
    BASIC: "logs:CreateLogStream/PutLogEvents for the function's own log output (SAM adds it to every function role)",
    XRAY: "xray:PutTraceSegments for Tracing: Active (X-Ray has no resource-level permissions)",
    VPC: "the ENIs Lambda creates for a function with VpcConfig (EC2 gives no resource-level scope at creation)",
}
VPC_FUNCTION_ROLES = {"CaptureBaselineFunctionRole", "VerifyFunctionRole"}
PASS_ROLE_USERS = {"StartMigrationFunctionRole", "StartRolloutFunctionRole"}
# ARNs ending in a wildcard: what they cover and why it cannot be narrower.
PARTIAL_WILDCARDS = {
    "ecs:service/${ClusterName}/*": "the configured cluster's services (ServiceNames is a list: no per-item ARN)",
    "ecs:task-definition/*": "task-definition families are the services', unknown when the stack is deployed",
    "ecs:task/${ClusterName}/*": "the migration task's id is only known after RunTask",
    "logs:log-group:*": "the migration container's log group comes from its task definition (read only)",
    "rds:snapshot:pre-deploy-*": "the pipeline's own snapshots: every id it creates starts with pre-deploy-",
    "rds:cluster-snapshot:pre-deploy-*": "the pipeline's own Aurora snapshots, same prefix",
    "rds:db:*": "an Aurora cluster's writer instance, whose class a restore copies, has a name we cannot know",
    "rds:db:restored-*": "restores the pipeline makes beside the database (restore policy only)",
    "rds:cluster:restored-*": "Aurora restores the pipeline makes beside the cluster (restore policy only)",
    "rds:subgrp:*": "a restore keeps the source's subnet group, named outside this stack",
    "rds:og:*": "a restore uses the default option group of the engine",
    "rds:pg:*": "a restore uses the default parameter group of the engine",
    "rds:cluster-pg:*": "an Aurora restore uses the default cluster parameter group",
    "rds:secgrp:*": "a restore is checked against the source's security groups",
}


@cache
def cloudformation() -> dict[str, Any]:
    return translated_template()


def branches(node: Any) -> Iterator[Any]:
    """Every value a node can take: lists flattened, both sides of Fn::If, AWS::NoValue dropped."""
    if isinstance(node, list):
        for item in node:
            yield from branches(item)
    elif isinstance(node, dict) and set(node) == {"Fn::If"}:
        for branch in node["Fn::If"][1:]:
            yield from branches(branch)
    elif node != {"Ref": "AWS::NoValue"}:
        yield node


def roles() -> dict[str, dict[str, Any]]:
    return {
        name: resource["Properties"]
        for name, resource in cloudformation()["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role"
    }


def statements() -> Iterator[tuple[str, dict[str, Any]]]:
    """(owner, statement) of every identity and resource policy in the deployed template."""
    for name, resource in cloudformation()["Resources"].items():
        props = resource.get("Properties", {})
        documents = [p["PolicyDocument"] for p in branches(props.get("Policies", []))]
        if "PolicyDocument" in props:
            documents.append(props["PolicyDocument"])
        for document in documents:
            for statement in branches(document["Statement"]):
                yield name, statement


def test_every_statement_allows_named_actions_on_named_resources() -> None:
    found = list(statements())
    assert len({owner for owner, _ in found}) >= 16, "the transform made fewer roles than expected"
    for owner, statement in found:
        assert statement.get("Effect") == "Allow", (owner, statement)
        assert not {"NotAction", "NotResource", "NotPrincipal"} & set(statement), (owner, statement)
        resources = list(branches(statement.get("Resource")))
        assert resources, f"{owner}: a statement without a Resource: {statement}"
        if "*" in resources:
            # Written in template.yaml, where tests/static checks the action and the comment above it.
            assert statement.get("Sid"), f"{owner}: Resource '*' from a SAM policy template: {statement}"


def test_managed_policies_are_only_the_ones_sam_attaches() -> None:
    for name, role in roles().items():
        attached = set(role.get("ManagedPolicyArns", []))
        if name == "DeployStateMachineRole":
            expected = {XRAY}
        elif name.endswith("FunctionRole"):
            expected = {BASIC, XRAY} | ({VPC} if name in VPC_FUNCTION_ROLES else set())
        else:
            expected = set()
        assert attached == expected, f"{name}: {sorted(attached ^ expected)} ({MANAGED_POLICIES})"


def test_pass_role_only_for_the_task_roles_and_only_to_ecs_tasks() -> None:
    users = set()
    for owner, statement in statements():
        actions = list(branches(statement.get("Action")))
        if "iam:PassRole" not in actions:
            continue
        users.add(owner)
        assert actions == ["iam:PassRole"], f"{owner}: PassRole shares a statement with {actions}"
        assert statement["Resource"] == {"Ref": "PassRoleArns"}, owner
        assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}, owner
    assert users == PASS_ROLE_USERS


def test_the_trigger_may_only_start_this_state_machine() -> None:
    trigger = roles()["DeployStateMachineEcrPushRole"]
    principals = [s["Principal"]["Service"] for s in trigger["AssumeRolePolicyDocument"]["Statement"]]
    assert principals == [["events.amazonaws.com"]]
    granted = [s for p in trigger["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert granted == [
        {"Action": "states:StartExecution", "Effect": "Allow", "Resource": {"Ref": "DeployStateMachine"}}
    ]


def test_wildcard_arns_are_the_known_ones() -> None:
    found = set()
    for _, statement in statements():
        for resource in branches(statement.get("Resource")):
            text = resource.get("Fn::Sub") if isinstance(resource, dict) else resource
            if isinstance(text, str) and text != "*" and "*" in text:
                service, _, rest = text.removeprefix("arn:${AWS::Partition}:").partition(":")
                found.add(f"{service}:{rest.removeprefix('${AWS::Region}:${AWS::AccountId}:')}")
    unknown = sorted(found - set(PARTIAL_WILDCARDS))
    assert not unknown, f"new wildcard ARNs: narrow them, or add them to PARTIAL_WILDCARDS with the reason: {unknown}"
    assert found, "no wildcard ARN found: has the transform's output changed shape?"


def test_every_checkov_skip_is_inline_with_a_reason() -> None:
    skips = [
        (name, skip)
        for name, resource in load_template(TEMPLATE)["Resources"].items()
        for skip in ((resource.get("Metadata") or {}).get("checkov") or {}).get("skip", [])
    ]
    assert skips, "no checkov skips found: has their form changed?"
    for name, skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", str(skip.get("id"))), (name, skip)
        assert len(str(skip.get("comment", "")).split()) >= 6, f"{name}: say why {skip.get('id')} does not apply"


def test_the_transformed_template_keeps_the_skips_checkov_reads() -> None:
    """checkov runs on the transformed template too: SAM must carry each function's skips over."""
    functions = {
        name: resource
        for name, resource in cloudformation()["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
    }
    assert len(functions) == 16
    for name, resource in functions.items():
        assert json.dumps(resource.get("Metadata", {})).count("CKV_AWS_") >= 3, name
