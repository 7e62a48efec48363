"""A SAM template drives the world: functions, DefinitionSubstitutions and the Lambda environment.

A tiny template of our own (not the real one), read by `ecs_migrate_deploy.template` like the real one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecs_migrate_deploy.emulation import Emulator
from tests.support.emulation import TINY_ASL, small_spec

# Short-form tags, as the real template.yaml is written: load_template turns them into long form.
TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  ClusterName: {Type: String, Default: default-cluster}
  ServiceNames: {Type: CommaDelimitedList, Default: "a,b"}
  RepositoryName: {Type: String, Default: default/repo}
  DbSslMode: {Type: String, Default: verify-full}
  VerifyTool: {Type: String, Default: prisma}
  FunctionTimeout: {Type: Number, Default: 45}
Conditions:
  StrictTls: !Equals [!Ref DbSslMode, verify-full]
Globals:
  Function:
    Runtime: python3.12
    Timeout: !Ref FunctionTimeout
    MemorySize: 512
    CodeUri: functions/
    Environment:
      Variables:
        CLUSTER_NAME: !Ref ClusterName
        SERVICE_NAMES: !Join [",", !Ref ServiceNames]
        REPOSITORY_NAME: !Ref RepositoryName
        DB_SSLMODE: !Ref DbSslMode
        VERIFY_TOOL: !Ref VerifyTool
        TABLE_NAME: !Ref DeploymentsTable
        TOPIC_ARN: !Ref OutcomeTopic
        TLS_NOTE: !If [StrictTls, strict, relaxed]
        POWERTOOLS_SERVICE_NAME: ecs-migrate-deploy
        STACK_LABEL: !Sub "${AWS::StackName}-${AWS::Region}"
Resources:
  GreetFunction:
    Type: AWS::Serverless::Function
    Properties: {Handler: emulation_fake_handlers.greet}
  FlakyFunction:
    Type: AWS::Serverless::Function
    Properties: {Handler: emulation_fake_handlers.flaky}
  ExplodeFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: emulation_fake_handlers.explode
      Timeout: 120
      Environment:
        Variables:
          EXPLODE_TABLE_ARN: !GetAtt DeploymentsTable.Arn
  DeploymentsTable:
    Type: AWS::DynamoDB::Table
  OutcomeTopic:
    Type: AWS::SNS::Topic
  DeployStateMachine:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: statemachine/deploy.asl.json
      DefinitionSubstitutions:
        GreetFunctionArn: !GetAtt GreetFunction.Arn
        FlakyFunctionArn: !GetAtt FlakyFunction.Arn
        ExplodeFunctionArn: !GetAtt ExplodeFunction.Arn
        TableName: !Ref DeploymentsTable
"""


@pytest.fixture
def template_path(tmp_path: Path) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    return path


@pytest.fixture
def emu(template_path: Path) -> Iterator[Emulator]:
    asl = json.loads(json.dumps(TINY_ASL))
    asl["States"]["Greet"]["Parameters"] = {"table": "${TableName}", "who.$": "$.who"}
    spec = small_spec(template_path=template_path, functions={}, asl=asl)
    with Emulator(spec, parameters={"VerifyTool": "alembic"}) as emulator:
        yield emulator


def test_the_lambda_environment_comes_from_the_template_globals(emu: Emulator) -> None:
    world = emu.world
    expected = {
        "CLUSTER_NAME": "acme",
        "SERVICE_NAMES": "web,worker",
        "REPOSITORY_NAME": "acme/app",
        "DB_SSLMODE": "disable",
        "VERIFY_TOOL": "alembic",
        "TABLE_NAME": world.table_name,
        "TOPIC_ARN": world.topic_arn,
        "TLS_NOTE": "relaxed",
        "POWERTOOLS_SERVICE_NAME": "ecs-migrate-deploy",
        "STACK_LABEL": "ecs-migrate-deploy-local-us-east-1",
    }

    assert {k: os.environ.get(k) for k in expected} == expected
    assert world.env({"VerifyTool": "flyway"})["VERIFY_TOOL"] == "flyway"
    configured = emu.client("lambda").get_function_configuration(FunctionName="ExplodeFunction")
    assert configured["Environment"]["Variables"]["CLUSTER_NAME"] == "acme"
    assert configured["Timeout"] == 120
    assert configured["MemorySize"] == 512
    assert configured["Environment"]["Variables"]["EXPLODE_TABLE_ARN"].endswith(f":table/{world.table_name}")
    assert "EXPLODE_TABLE_ARN" not in os.environ  # a function's own variable is not global
    greet = emu.client("lambda").get_function_configuration(FunctionName="GreetFunction")
    assert greet["Timeout"] == 45


def test_functions_and_substitutions_come_from_the_template_and_handlers_are_routed_by_handler(
    emu: Emulator,
) -> None:
    world = emu.world
    functions = emu.client("lambda").list_functions()["Functions"]

    assert {f["FunctionName"]: f["Handler"] for f in functions} == {
        "GreetFunction": "emulation_fake_handlers.greet",
        "FlakyFunction": "emulation_fake_handlers.flaky",
        "ExplodeFunction": "emulation_fake_handlers.explode",
    }
    assert world.definition["States"]["Greet"]["Parameters"]["table"] == world.table_name

    report = emu.run({"who": "template", "nap": 0}, name="from-template")
    assert report.status == "SUCCEEDED", report.cause
    assert report.output["greeting"]["hello"] == "template"
    assert report.output["greeting"]["function_name"] == "GreetFunction"
    assert report.output["explode_result"]["own_env"].endswith(f":table/{world.table_name}")
    assert "EXPLODE_TABLE_ARN" not in os.environ
