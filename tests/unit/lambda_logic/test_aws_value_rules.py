"""Values the pipeline orders or hands to AWS, within the rules botocore documents."""

from __future__ import annotations

from datetime import UTC, datetime

from deploy_pipeline.aws.rds import SnapshotInfo, newest_first
from deploy_pipeline.logic import migration_tasks
from deploy_pipeline.models.state import DEPLOYMENT_ID_MAX_LENGTH


def snapshot(identifier: str, created: datetime | None) -> SnapshotInfo:
    return SnapshotInfo(
        identifier, f"arn:aws:rds:us-east-1:123456789012:snapshot:{identifier}", "available", created, {}
    )


def test_a_snapshot_without_a_create_time_sorts_as_the_newest_among_aware_times() -> None:
    ordered = newest_first(
        [
            snapshot("old", datetime(2026, 1, 1, tzinfo=UTC)),
            snapshot("creating", None),  # botocore's model: SnapshotCreateTime is optional
            snapshot("new", datetime(2026, 6, 1, tzinfo=UTC)),
        ]
    )

    assert [s.identifier for s in ordered] == ["creating", "new", "old"]


def test_the_run_task_client_token_fits_its_64_characters_and_differs_per_deployment() -> None:
    longest = "d" * (DEPLOYMENT_ID_MAX_LENGTH - 1)
    tokens = {migration_tasks.client_token(longest + suffix) for suffix in ("a", "b")}

    assert len(tokens) == 2
    assert all(len(t) <= 64 and all(33 <= ord(c) <= 126 for c in t) for t in tokens)
