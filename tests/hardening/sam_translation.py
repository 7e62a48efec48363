"""template.yaml as CloudFormation will deploy it: SAM's own transform (samtranslator), run offline.

The IAM that matters is mostly made by the transform (a role per function and for the state machine,
the EventBridge rule's role, the managed policies SAM attaches for logs, X-Ray and VPC access), not
written in template.yaml, so the least-privilege tests and checkov read this output too.

`python tests/hardening/sam_translation.py OUT.json` writes it (the `make test` checkov step).
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from ecs_migrate_deploy.template import load_template

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
# What `sam deploy` uploads the local code and definition to; the transform only needs a valid S3 URI.
PACKAGED = {
    "CodeUri": "s3://bucket/functions.zip",
    "DefinitionUri": "s3://bucket/deploy.asl.json",
    "ContentUri": "s3://bucket/dependencies.zip",
}


def translated_template(path: Path = TEMPLATE) -> dict[str, Any]:
    template = copy.deepcopy(load_template(path))
    template.setdefault("Globals", {}).setdefault("Function", {})["CodeUri"] = PACKAGED["CodeUri"]
    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::StateMachine":
            resource["Properties"]["DefinitionUri"] = PACKAGED["DefinitionUri"]
        if resource.get("Type") == "AWS::Serverless::LayerVersion":
            resource["Properties"]["ContentUri"] = PACKAGED["ContentUri"]
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name="us-east-1"))
    # Managed policies are named by ARN here, so the name -> ARN map (an IAM call) stays empty.
    translated: dict[str, Any] = translator.translate(template, parameter_values={}, get_managed_policy_map=dict)
    return translated


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(json.dumps(translated_template(), indent=1, default=str), encoding="utf-8")
