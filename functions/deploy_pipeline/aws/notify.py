"""Outcome notifications: one SNS message and one EventBridge event per deployment."""

from __future__ import annotations

import json
from typing import Any

from deploy_pipeline.aws import clients

# botocore's SNS model, PublishInput.Subject: "Subjects must be UTF-8 text with no line breaks or
# control characters, and less than 100 characters long." A subject SNS refuses loses the message.
MAX_SUBJECT_CHARS = 99


def sns_subject(text: str) -> str:
    """`text` as a valid SNS subject: one line, printable, cut with "..." to under 100 characters."""
    line = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return line if len(line) <= MAX_SUBJECT_CHARS else line[: MAX_SUBJECT_CHARS - 3] + "..."


def publish_sns(topic_arn: str, subject: str, message: str, outcome: str) -> None:
    clients.sns().publish(
        TopicArn=topic_arn,
        Subject=sns_subject(subject),
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
