"""The automatic secret scan of every workflow test can fail: a leaked password is found."""

from __future__ import annotations

import pytest

from tests.support.pipeline import DB_PASSWORD, PipelineFactory, assert_no_secret_emitted


def test_scan_finds_a_password_written_to_the_table(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline("shop")
    table = pipeline.world.table_name
    item = {"pk": {"S": "LEAK"}, "sk": {"S": "LEAK"}, "note": {"S": f"connect with {DB_PASSWORD}"}}
    pipeline.client("dynamodb").put_item(TableName=table, Item=item)
    with pytest.raises(AssertionError, match="password was emitted"):
        assert_no_secret_emitted(pipeline.emulator)
    pipeline.client("dynamodb").delete_item(TableName=table, Key={"pk": {"S": "LEAK"}, "sk": {"S": "LEAK"}})


def test_scan_finds_a_password_in_a_notification_the_test_already_read(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline("shop")
    world = pipeline.world
    pipeline.client("sns").publish(TopicArn=world.topic_arn, Subject="leak", Message=f"password {DB_PASSWORD}")
    assert len(world.notifications()) == 1  # the test reads (and so consumes) it
    with pytest.raises(AssertionError, match="password was emitted"):
        assert_no_secret_emitted(pipeline.emulator)
    world._delivered.clear()  # the planted leak is this test's own: the fixture's scan must pass
