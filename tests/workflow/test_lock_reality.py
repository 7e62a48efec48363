"""The lock as AWS really behaves around it: concurrent transactions, duplicate and out-of-order pushes.

Pushes are delivered the way EventBridge delivers them (through the stack's rule, executions named by
"AWS", possibly several at once and in any order: EventBridge does not promise ordering), and the
executions run concurrently on the real ASL.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from ecs_migrate_deploy.emulation.engine import ExecutionReport
from ecs_migrate_deploy.emulation.seams.documented_limits import TransactionConflicts
from tests.support.pipeline import Pipeline, PipelineFactory

PATIENT = {"LockWaitSeconds": "86400"}  # concurrent executions share one emulated clock


def running_images(pipeline: Pipeline) -> set[str]:
    ecs = pipeline.client("ecs")
    images = set()
    for service in pipeline.world.spec.services:
        arn = pipeline.world.service(service)["taskDefinition"]
        images.add(
            ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]["containerDefinitions"][0]["image"]
        )
    return images


def migration_tasks(pipeline: Pipeline) -> list[str]:
    ecs = pipeline.client("ecs")
    cluster = pipeline.world.cluster_name
    return [
        arn
        for status in ("RUNNING", "STOPPED")
        for arn in ecs.list_tasks(cluster=cluster, desiredStatus=status)["taskArns"]
    ]


def push_event(pipeline: Pipeline, tag: str, pushed_at: datetime) -> dict[str, Any]:
    if tag not in pipeline.world.digests:
        pipeline.world.push_image(tag)
    event = pipeline.world.ecr_push_event(tag)
    event["time"] = pushed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return event


def holds_lock(pipeline: Pipeline, execution_arn: str) -> bool:
    name = execution_arn.rsplit(":", 1)[-1]
    items = pipeline.client("dynamodb").scan(
        TableName=pipeline.world.table_name,
        FilterExpression="sk = :l",
        ExpressionAttributeValues={":l": {"S": "LOCK"}},
    )["Items"]
    return any(item["execution"]["S"] == name for item in items)


def deliver_while_held(pipeline: Pipeline, first: dict[str, Any], second: dict[str, Any]) -> list[ExecutionReport]:
    """Deliver `first`, and `second` once the first execution holds the lock: the second queues."""
    first_arn = pipeline.emulator.deliver(first)
    assert first_arn is not None
    deadline = time.monotonic() + 30
    while not holds_lock(pipeline, first_arn):
        assert time.monotonic() < deadline, "the first execution never took the lock"
        time.sleep(0.01)
    second_arn = pipeline.emulator.deliver(second)
    assert second_arn is not None
    return [pipeline.emulator.wait(arn, timeout=120) for arn in (first_arn, second_arn)]


def test_a_transaction_conflict_on_the_lock_is_waited_out(make_pipeline: PipelineFactory) -> None:
    conflicts = TransactionConflicts(count=2)
    pipeline = make_pipeline("shop", extra_seams=[conflicts])

    report = pipeline.run({"image_tag": "v1.1.0"}, name="conflicted")

    assert report.status == "SUCCEEDED", (report.error, report.cause)
    assert conflicts.raised == 2
    assert report.state_names.count("WaitForLock") == 2
    assert [r["outcome"] for r in pipeline.records()] == ["Succeeded"]


def test_two_tags_of_one_image_pushed_together_deploy_once(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline("shop", parameters=PATIENT)
    digest = pipeline.world.digests["v1.1.0"]
    revisions = len(pipeline.client("ecs").list_task_definitions()["taskDefinitionArns"])
    now = datetime.now(UTC)
    by_version = push_event(pipeline, "v1.1.0", now)
    by_commit = pipeline.world.ecr_push_event("v1.1.0", digest=digest)
    by_commit["detail"]["image-tag"] = "git-3f2a9c1"
    by_commit["time"] = by_version["time"]

    reports = deliver_while_held(pipeline, by_version, by_commit)

    assert [r.status for r in reports] == ["SUCCEEDED", "SUCCEEDED"], [(r.error, r.cause) for r in reports]
    assert sorted(r["outcome"] for r in pipeline.records()) == ["NoOp", "Succeeded"]
    # one deployment's worth of work: one snapshot, one migration task, one revision per service
    assert len(pipeline.client("rds").describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]) == 1
    assert len(migration_tasks(pipeline)) == 1
    after = len(pipeline.client("ecs").list_task_definitions()["taskDefinitionArns"])
    assert after - revisions == len(pipeline.world.spec.services)
    assert "StartSnapshot" not in reports[1].state_names
    assert running_images(pipeline) == {f"{pipeline.world.repository_uri}@{digest}"}


def test_an_older_push_delivered_after_a_newer_one_is_superseded(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline("shop", parameters=PATIENT)
    now = datetime.now(UTC)
    older = push_event(pipeline, "v1.1.0", now - timedelta(seconds=5))
    newer = push_event(pipeline, "v1.2.0", now)

    reports = deliver_while_held(pipeline, newer, older)  # arrival order: newest first

    assert [r.status for r in reports] == ["SUCCEEDED", "SUCCEEDED"], [(r.error, r.cause) for r in reports]
    assert running_images(pipeline) == {f"{pipeline.world.repository_uri}@{pipeline.world.digests['v1.2.0']}"}
    by_tag = {r["image_tag"]: r for r in pipeline.records()}
    assert by_tag["v1.2.0"]["outcome"] == "Succeeded"
    assert by_tag["v1.1.0"]["outcome"] == "Superseded"
    assert "v1.2.0" in by_tag["v1.1.0"]["cause"] and "nothing was touched" in by_tag["v1.1.0"]["cause"]
    # the superseded one touched nothing: one snapshot, one migration task
    assert len(pipeline.client("rds").describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]) == 1
    assert len(migration_tasks(pipeline)) == 1
    subjects = sorted(n["Subject"] for n in pipeline.world.notifications())
    assert any("[Superseded]" in s for s in subjects) and any("[Succeeded]" in s for s in subjects)


def test_pushes_arriving_in_push_order_both_deploy_and_the_newest_runs(make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline("shop", parameters=PATIENT)
    now = datetime.now(UTC)
    older = push_event(pipeline, "v1.1.0", now - timedelta(seconds=5))
    newer = push_event(pipeline, "v1.2.0", now)

    reports = deliver_while_held(pipeline, older, newer)  # arrival order: oldest first

    assert [r.status for r in reports] == ["SUCCEEDED", "SUCCEEDED"], [(r.error, r.cause) for r in reports]
    assert sorted(r["outcome"] for r in pipeline.records()) == ["Succeeded", "Succeeded"]
    assert running_images(pipeline) == {f"{pipeline.world.repository_uri}@{pipeline.world.digests['v1.2.0']}"}


def test_the_same_event_delivered_twice_deploys_once(make_pipeline: PipelineFactory) -> None:
    """EventBridge delivers at least once: a duplicate delivery starts a second execution."""
    pipeline = make_pipeline("shop", parameters=PATIENT)
    event = push_event(pipeline, "v1.1.0", datetime.now(UTC))

    reports = deliver_while_held(pipeline, event, event)

    assert [r.status for r in reports] == ["SUCCEEDED", "SUCCEEDED"]
    assert sorted(r["outcome"] for r in pipeline.records()) == ["NoOp", "Succeeded"]
    assert len(migration_tasks(pipeline)) == 1


def test_a_queued_deployment_starts_as_soon_as_the_lock_is_released(make_pipeline: PipelineFactory) -> None:
    """ReleaseLock wakes the deployment waiting for the lock (logic/lock.py, `_announce_release`), so it
    takes the lock seconds after the release, not at its next try (up to 90 s later), and it says so."""
    from deploy_pipeline.logic.polling import now

    from ecs_migrate_deploy.emulation.seams.awslambda import resolve_handler

    released_at: list[datetime] = []
    acquired_at: list[datetime] = []
    release = resolve_handler("deploy_pipeline.handlers.lock.release")
    acquire = resolve_handler("deploy_pipeline.handlers.lock.acquire")

    def releasing(event: dict[str, Any], context: Any) -> Any:
        result = release(event, context)
        released_at.append(now())
        return result

    def acquiring(event: dict[str, Any], context: Any) -> Any:
        result = acquire(event, context)
        if result["acquired"]:
            acquired_at.append(now())
        return result

    pipeline = make_pipeline(
        "shop", parameters=PATIENT, routes={"ReleaseLockFunction": releasing, "AcquireLockFunction": acquiring}
    )
    now_utc = datetime.now(UTC)
    older = push_event(pipeline, "v1.1.0", now_utc - timedelta(seconds=5))
    newer = push_event(pipeline, "v1.2.0", now_utc)

    first, second = deliver_while_held(pipeline, older, newer)

    assert [r.status for r in (first, second)] == ["SUCCEEDED", "SUCCEEDED"], (second.error, second.cause)
    waits = second.visits("WaitForLock")
    assert waits, "the second deployment never waited for the lock"
    # the first's release (its first ReleaseLock) to the second's taking the lock, on the shared clock:
    # a tick of the emulated clock and the Lambdas' own time, where a try every 30-90 s would leave more
    lag = (acquired_at[1] - released_at[0]).total_seconds()
    assert 0 <= lag <= 5, (lag, [visit.slept_seconds for visit in waits])
    woken = [e for e in second.events if e["type"] == "TaskSucceeded" and "woken_by" in str(e)]
    assert woken or "EventAlreadyArrived" in str(second.events), "neither woken nor told of the release"
