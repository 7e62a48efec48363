"""Find the deployed stack: its name (flag or samconfig.toml), then its outputs and parameters.

The outputs are the contract with template.yaml (`StateMachineArn`, `TopicArn`, `TableName`, and
`TriggerRuleName` for `pause`/`resume`); the parameters give the cluster and services the records are
keyed by.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from ecs_migrate_deploy.operator import OperatorError
from ecs_migrate_deploy.samconfig import SAMCONFIG, SamConfigError, deploy_parameters

REQUIRED_OUTPUTS = ("StateMachineArn", "TopicArn", "TableName")


def default_stack_name(config_env: str = "default", config_file: Path = SAMCONFIG) -> str:
    """The stack `sam deploy --config-env <env>` would deploy, so both tools agree without a flag."""
    try:
        name = deploy_parameters(config_env, config_file).get("stack_name")
    except SamConfigError as exc:
        raise OperatorError(f"no --stack-name given and {exc}") from None
    if isinstance(name, str) and name:
        return name
    raise OperatorError(f"no --stack-name given and no stack_name in {config_file} [{config_env}.deploy.parameters]")


@dataclass(frozen=True)
class Stack:
    """What the operator commands need to know about one deployed stack."""

    name: str
    region: str
    state_machine_arn: str
    topic_arn: str
    table_name: str
    parameters: dict[str, str]
    trigger_rule_name: str = ""  # output TriggerRuleName: optional, only `pause`, `resume` and `status` read it

    @property
    def cluster(self) -> str:
        return self._parameter("ClusterName")

    @property
    def repository(self) -> str:
        """The ECR repository whose pushes the stack deploys (parameter `RepositoryName`)."""
        return self._parameter("RepositoryName")

    @property
    def services(self) -> list[str]:
        return [name.strip() for name in self._parameter("ServiceNames").split(",") if name.strip()]

    def deployed_service(self, name: str) -> str:
        """`name` if the stack deploys it: a command about any other service would act on nothing."""
        if name not in self.services:
            raise OperatorError(f"stack {self.name!r} deploys {', '.join(self.services)}, not {name!r}")
        return name

    def _parameter(self, key: str) -> str:
        value = self.parameters.get(key)
        if not value:
            raise OperatorError(f"stack {self.name!r} has no {key} parameter: is it an ecs-migrate-deploy stack?")
        return value


@dataclass(frozen=True)
class Operator:
    """A boto3 session and the stack it acts on: what every command starts from."""

    session: boto3.session.Session
    stack: Stack

    def client(self, service: str) -> Any:
        return self.session.client(service)  # type: ignore[call-overload]


def caller_arn(operator: Operator) -> str:
    """Who runs the command (STS GetCallerIdentity, which needs no permission): the ARN that the
    record, a manual lock and a stop request name."""
    return str(operator.client("sts").get_caller_identity()["Arn"])


def region_name(region: str | None) -> str | None:
    """`--region`, else AWS_REGION: the order the AWS CLI v2 and the SDKs other than Python's follow.

    botocore reads AWS_DEFAULT_REGION and the profile's `region` only, so AWS_REGION (what Lambda,
    CodeBuild and the GitHub action `configure-aws-credentials` set) is passed on here; None leaves
    AWS_DEFAULT_REGION, then the profile, to boto3.
    """
    return region or os.environ.get("AWS_REGION") or None


def connect(stack_name: str | None, config_env: str, region: str | None, profile: str | None) -> Operator:
    session = boto3.session.Session(profile_name=profile, region_name=region_name(region))
    if not session.region_name:
        raise OperatorError(
            "no AWS region: pass --region, or set AWS_REGION, AWS_DEFAULT_REGION or a region in your profile"
        )
    name = stack_name or default_stack_name(config_env)
    return Operator(session=session, stack=describe_stack(session, name))


def describe_stack(session: boto3.session.Session, name: str) -> Stack:
    cloudformation = session.client("cloudformation")
    try:
        (stack,) = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ValidationError":
            raise OperatorError(
                f"stack {name!r} not found in {session.region_name}: pass --stack-name/--region, or deploy it with `sam deploy`"
            ) from None
        raise
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    missing = [key for key in REQUIRED_OUTPUTS if not outputs.get(key)]
    if missing:
        raise OperatorError(
            f"stack {name!r} ({stack.get('StackStatus')}) has no output {', '.join(missing)}: "
            "is it an ecs-migrate-deploy stack, fully deployed?"
        )
    return Stack(
        name=name,
        region=str(session.region_name),
        state_machine_arn=outputs["StateMachineArn"],
        topic_arn=outputs["TopicArn"],
        table_name=outputs["TableName"],
        parameters={p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])},
        trigger_rule_name=outputs.get("TriggerRuleName", ""),
    )
