"""The meeting of an event-driven wait's token and AWS's event in the table (aws/wakeups.py), on
moto's DynamoDB: whichever comes second sees the other, each wakes at most once, and a token whose
wait has ended is refused by Step Functions and ignored. Also: a record step is never marked on an
item whose record was not written."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from deploy_pipeline.aws import table, wakeups
from deploy_pipeline.logic import wakeups as logic_wakeups
from deploy_pipeline.settings import Settings
from moto import mock_aws

from ecs_migrate_deploy.emulation.engine import MOTO_CONFIG, reset_pipeline_caches

TABLE = "deployments"
TASK = "arn:aws:ecs:us-east-1:123456789012:task/acme-prod/0123456789abcdef"


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws(config=MOTO_CONFIG):  # Step Functions' own interpreter, which checks tokens
        reset_pipeline_caches()
        client = boto3.client("dynamodb")
        client.create_table(
            TableName=TABLE,
            AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in ("pk", "sk")],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client
    reset_pipeline_caches()


def test_a_token_registered_first_is_taken_by_the_event_once(dynamodb: object) -> None:
    assert wakeups.register(TABLE, TASK, "token-1", 2_000_000_000) is False  # no event yet

    assert wakeups.mark_seen(TABLE, TASK, "2026-11-29T12:00:00+00:00", 2_000_000_000) == "token-1"
    wakeups.consume(TABLE, TASK, "token-1")  # once that wait is woken
    assert wakeups.mark_seen(TABLE, TASK, "2026-11-29T12:00:01+00:00", 2_000_000_000) is None  # a duplicate


def test_an_event_that_finds_the_previous_wait_s_token_leaves_its_mark_for_the_next_wait(dynamodb: object) -> None:
    """The previous wait timed out with its token still in the item, and the event comes before the
    next wait registers: the stale token refuses the wake, and the mark must stay for the next wait
    (taking it away with the stale token would leave that wait to its fallback timeout)."""
    settings = Settings.model_construct(table_name=TABLE)
    assert wakeups.register(TABLE, TASK, "AAAAKgAAAAIAAAAAAAAAAQ-closed-token", 2_000_000_000) is False

    assert logic_wakeups.announce(TASK, settings) is False  # Step Functions refuses the closed token

    assert wakeups.register(TABLE, TASK, "token-2", 2_000_000_000) is True  # the next wait ends at once


def test_an_event_that_comes_first_wakes_the_next_wait_only(dynamodb: object) -> None:
    assert wakeups.mark_seen(TABLE, TASK, "2026-11-29T12:00:00+00:00", 2_000_000_000) is None

    assert wakeups.register(TABLE, TASK, "token-1", 2_000_000_000) is True  # the mark is taken
    assert wakeups.register(TABLE, TASK, "token-2", 2_000_000_000) is False  # and only once


def test_a_wait_that_has_ended_refuses_the_token_and_nothing_fails(dynamodb: object) -> None:
    assert wakeups.wake("AAAAKgAAAAIAAAAAAAAAAQ-not-a-live-token", TASK) is False  # InvalidToken, ignored


def test_a_record_step_is_not_marked_where_no_record_was_written(dynamodb: object) -> None:
    record = {"deployment_id": "d1", "started_at": "2026-11-29T12:00:00+00:00"}

    table.mark_record_step(TABLE, "acme-prod", record, "sns")

    assert boto3.client("dynamodb").scan(TableName=TABLE)["Items"] == []
