"""Outcome notifications: one SNS message and one EventBridge event per deployment."""

from __future__ import annotations

import json
from typing import Any

from deploy_pipeline.aws import clients


def publish_sns(topic_arn: str, subject: str, message: str, outcome: str) -> None:
    clients.sns().publish(
        TopicArn=topic_arn,
        Subject=subject[:100],  # SNS rejects longer subjects
        Message=message,
        MessageAttributes={"outcome": {"DataType": "String", "StringValue": outcome}},
    )


def put_event(bus: str, source: str, detail_type: str, detail: dict[str, Any], resources: list[str]) -> None:
    response = clients.events().put_events(
        Entries=[
            {
                "EventBusName": bus,
                "Source": source,
                "DetailType": detail_type,
                "Detail": json.dumps(detail, default=str),
                "Resources": resources,
            }
        ]
    )
    if response.get("FailedEntryCount"):
        entry = response["Entries"][0]
        raise RuntimeError(f"PutEvents rejected the event: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}")
