"""The outcome notification's Subject is one SNS accepts: under 100 characters, one printable line.

A subject SNS refuses loses the whole message (Record never blocks on it), so the cut must be right at
the documented limit, which moto alone does not enforce (it accepts exactly 100).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from deploy_pipeline.aws import notify
from moto import mock_aws

from ecs_migrate_deploy.emulation.engine import reset_pipeline_caches
from ecs_migrate_deploy.emulation.seams.documented_limits import SnsSubjectRules


@pytest.fixture
def topic(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws(), SnsSubjectRules():
        reset_pipeline_caches()
        sns, sqs = boto3.client("sns"), boto3.client("sqs")
        arn = sns.create_topic(Name="outcomes")["TopicArn"]
        url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
        yield arn, url
    reset_pipeline_caches()


def received_subject(url: str) -> str:
    [message] = boto3.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    return str(json.loads(message["Body"])["Subject"])


@pytest.mark.parametrize("length", [99, 100, 150])
def test_a_long_subject_is_cut_below_the_limit_and_delivered(topic: tuple[str, str], length: int) -> None:
    arn, url = topic
    notify.publish_sns(arn, "x" * length, "body", "Succeeded")
    subject = received_subject(url)
    assert len(subject) < 100
    assert subject == "x" * 99 if length == 99 else subject.endswith("...")


def test_line_breaks_and_control_characters_become_spaces(topic: tuple[str, str]) -> None:
    arn, url = topic
    notify.publish_sns(arn, "[Failed] web\nv1\t2\x07", "body", "Failed")
    assert received_subject(url) == "[Failed] web v1 2"


def test_the_emulated_sns_refuses_what_aws_documents_as_invalid(topic: tuple[str, str]) -> None:
    arn, _ = topic
    sns = boto3.client("sns")
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.publish(TopicArn=arn, Subject="x" * 100, Message="m")
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.publish(TopicArn=arn, Subject="two\nlines", Message="m")
