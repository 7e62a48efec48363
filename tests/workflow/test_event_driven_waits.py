"""Event-driven waits through the real ASL: AWS's state-change events, emitted by the emulated account
and delivered through template.yaml's rules to NoticeFunction, end each wait within the delivery delay;
a duplicate or foreign event changes nothing, and a lost one only delays the check to its timeout."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ecs_migrate_deploy.emulation.aws_events import EventDelivery
from ecs_migrate_deploy.emulation.engine import ExecutionReport
from tests.support.pipeline import Pipeline, PipelineFactory

WAITS = ("WaitForSnapshot", "WaitForMigration", "WaitForRollout")


def _waited(report: ExecutionReport, state: str) -> list[float]:
    return [visit.slept_seconds for visit in report.visits(state)]


def _notices(pipeline: Pipeline) -> list[Any]:
    return [i for i in pipeline.emulator.seams.lambdas.invocations if i.function_name == "NoticeFunction"]


def _slow_snapshot_and_task(pipeline_factory: PipelineFactory, **changes: Any) -> Pipeline:
    """A snapshot that takes 40 s and a migration task that runs 30 s on the emulated clock."""
    from deploy_pipeline.logic.polling import now

    started: dict[str, Any] = {}

    def snapshot_policy(kind: str, snapshot_id: str) -> str:
        started.setdefault(snapshot_id, now())
        return "available" if (now() - started[snapshot_id]).total_seconds() >= 40 else "creating"

    return pipeline_factory("shop", snapshot_policy=snapshot_policy, **changes)


def test_each_wait_ends_when_aws_s_event_arrives(make_pipeline: PipelineFactory) -> None:
    delivery = EventDelivery(delay_seconds=2.0)
    pipeline = _slow_snapshot_and_task(make_pipeline, event_delivery=delivery)

    report = pipeline.run({"image_tag": "v1.1.0"})

    assert report.status == "SUCCEEDED", (report.error, report.cause)
    # StartSnapshot finds it creating; its event ends the wait after ~40 s, not at the 60 s fallback
    # (the handlers' own real time counts on the pipeline's clock too, hence no lower bound).
    snapshot_waits = _waited(report, "WaitForSnapshot")
    assert len(snapshot_waits) == 1 and snapshot_waits[0] <= 40 + 2 + 1, snapshot_waits
    for state in WAITS:
        assert report.visits(state), f"{state} never waited"
    woken = [i for i in _notices(pipeline) if i.result and i.result.get("woken")]
    assert {i.result["resource"] for i in woken} >= {
        pipeline.record()["snapshot_id"],
        pipeline.record()["migration"]["task_arn"],
    }
    # every wait ended by its event: the delivery delay after the change, plus up to one tick spacing
    # (a tick of 1 s, stretched by the real time other branches' Lambdas take meanwhile: allow one
    # more tick for that on a loaded machine), far inside the 60 s fallback
    events = pipeline.emulator.events
    assert events is not None
    for delivered in events.deliveries:
        if delivered.matched and delivered.delivered_at:
            lag = (delivered.delivered_at - delivered.emitted_at).total_seconds()
            assert 2.0 <= lag <= 2.0 + 2 * delivery.tick_seconds, lag


def test_an_event_delivered_twice_or_for_another_deployment_changes_nothing(make_pipeline: PipelineFactory) -> None:
    pipeline = _slow_snapshot_and_task(make_pipeline, event_delivery=EventDelivery(copies=2))
    events = pipeline.emulator.events
    assert events is not None
    foreign = events._envelope(
        "aws.ecs",
        "ECS Deployment State Change",
        [pipeline.world.service_arns["web"]],
        {"eventType": "INFO", "eventName": "SERVICE_DEPLOYMENT_COMPLETED", "deploymentId": "ecs-svc/0000000000000000"},
    )
    events.deliver_now(foreign)  # a deployment nobody here waits for: a mark, and nothing woken

    report = pipeline.run({"image_tag": "v1.1.0"})

    assert report.status == "SUCCEEDED", (report.error, report.cause)
    notices = _notices(pipeline)
    assert notices[0].result == {"resource": "ecs-svc/0000000000000000", "woken": False}
    by_resource: dict[str, list[bool]] = {}
    for notice in notices[1:]:
        by_resource.setdefault(notice.result["resource"], []).append(notice.result["woken"])
    # each event came twice: the second copy finds no token (already taken) and wakes nothing
    assert by_resource and all(woken.count(True) <= 1 for woken in by_resource.values()), by_resource
    assert any(woken == [True, False] for woken in by_resource.values()), by_resource
    assert pipeline.record()["outcome"] == "Succeeded"


def test_a_lost_event_delays_the_check_to_its_timeout_and_never_wedges(make_pipeline: PipelineFactory) -> None:
    pipeline = _slow_snapshot_and_task(make_pipeline, event_delivery=EventDelivery(drop=lambda event: True))

    report = pipeline.run({"image_tag": "v1.1.0"})

    assert report.status == "SUCCEEDED", (report.error, report.cause)
    assert _notices(pipeline) == []
    # no event ever came: each wait ran to the interval its check chose (the first snapshot one: 60 s)
    assert _waited(report, "WaitForSnapshot")[0] == 60
    # StartSnapshot saw it creating; the one check, at the 60 s fallback, finds it available
    assert len(report.visits("CheckSnapshot")) == 1


def test_an_event_that_came_before_its_wait_ends_the_wait_at_once(make_pipeline: PipelineFactory) -> None:
    """ECS reports the migration task stopped between StartMigration and the wait's registration (a
    fast migrator, a slow Lambda): NoticeFunction leaves a mark, and the wait ends at once
    (EventAlreadyArrived, caught into the check) instead of sleeping to its timeout."""
    from deploy_pipeline.logic import wakeups
    from deploy_pipeline.models.state import AwsEvent
    from deploy_pipeline.settings import get_settings

    from ecs_migrate_deploy.emulation.seams.awslambda import resolve_handler

    await_event = resolve_handler("deploy_pipeline.handlers.wakeups.await_event")

    def notice_first(event: dict[str, Any], context: Any) -> Any:
        if event["wait_for"] == "migration":  # NoticeFunction's work for that event, just before
            task_arn = event["state"]["migration"]["task_arn"]
            detail = {"taskArn": task_arn, "lastStatus": "STOPPED"}
            stopped = AwsEvent.model_validate(
                {"source": "aws.ecs", "detail-type": "ECS Task State Change", "detail": detail}
            )
            assert wakeups.notice(stopped, get_settings()).woken is False  # no wait registered yet
        return await_event(event, context)

    pipeline = make_pipeline("shop", routes={"AwaitEventFunction": notice_first})

    report = pipeline.run({"image_tag": "v1.1.0"})

    assert report.status == "SUCCEEDED", (report.error, report.cause)
    awaits = [i for i in pipeline.emulator.seams.lambdas.invocations if i.function_name == "AwaitEventFunction"]
    migration = [i for i in awaits if i.event["wait_for"] == "migration"]
    assert migration[0].error_type == "EventAlreadyArrived", [(i.event["wait_for"], i.error_type) for i in awaits]
    assert _waited(report, "WaitForMigration")[0] == 0  # not one tick: the check ran at once


def test_an_event_between_a_timed_out_wait_and_the_next_one_is_not_lost(make_pipeline: PipelineFactory) -> None:
    """The snapshot's first wait times out with its token still in the table; RDS reports the snapshot
    before the second wait registers. The event finds the first wait's token, which Step Functions
    refuses (closed: TaskTimedOut), so its mark stays and the second wait ends at once."""
    from deploy_pipeline.logic import wakeups
    from deploy_pipeline.logic.polling import now
    from deploy_pipeline.models.state import AwsEvent
    from deploy_pipeline.settings import get_settings

    from ecs_migrate_deploy.emulation.seams.awslambda import resolve_handler

    await_event = resolve_handler("deploy_pipeline.handlers.wakeups.await_event")
    registrations: list[str] = []
    started: dict[str, Any] = {}

    def snapshot_policy(kind: str, snapshot_id: str) -> str:  # 100 s: longer than the first wait (60 s)
        started.setdefault(snapshot_id, now())
        return "available" if (now() - started[snapshot_id]).total_seconds() >= 100 else "creating"

    def notice_between(event: dict[str, Any], context: Any) -> Any:
        if event["wait_for"] == "snapshot":
            registrations.append(event["token"])
            if len(registrations) == 2:  # NoticeFunction's work for an event, just before the second wait
                detail = {"SourceIdentifier": event["state"]["snapshot"]["snapshot_id"]}
                snapshot = AwsEvent.model_validate(
                    {"source": "aws.rds", "detail-type": "RDS DB Snapshot Event", "detail": detail}
                )
                # NoticeFunction's own invocation, not AwaitEvent's (the router records calls per thread)
                with ThreadPoolExecutor(1) as notice_function:
                    noticed = notice_function.submit(wakeups.notice, snapshot, get_settings()).result()
                assert noticed.woken is False  # the first wait's token: closed
        return await_event(event, context)

    pipeline = make_pipeline(
        "shop",
        snapshot_policy=snapshot_policy,
        routes={"AwaitEventFunction": notice_between},
        event_delivery=EventDelivery(drop=lambda event: True),  # no event but the one above
    )

    report = pipeline.run({"image_tag": "v1.1.0"})

    assert report.status == "SUCCEEDED", (report.error, report.cause)
    awaits = [i for i in pipeline.emulator.seams.lambdas.invocations if i.function_name == "AwaitEventFunction"]
    snapshot_awaits = [(i.error_type, i.error_message) for i in awaits if i.event["wait_for"] == "snapshot"]
    assert snapshot_awaits[1][0] == "EventAlreadyArrived", snapshot_awaits  # the mark was there
    waits = _waited(report, "WaitForSnapshot")
    assert waits[0] == 60 and waits[1] == 0, waits  # the second: not one tick
