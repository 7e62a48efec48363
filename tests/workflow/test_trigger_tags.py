"""TriggerTags: a stack that deploys an exact tag (`latest`, `develop`), always by digest, through the
stack's own rule and the real ASL; a second delivery of the same push changes nothing."""

from __future__ import annotations

from tests.support.pipeline import PipelineFactory


def test_a_stack_on_latest_deploys_latest_pushes_only_and_a_repeated_push_is_a_no_op(
    make_pipeline: PipelineFactory,
) -> None:
    pipeline = make_pipeline("shop", parameters={"TriggerTags": "latest,develop"})
    world = pipeline.world

    assert pipeline.emulator.deliver(world.ecr_push_event("v1.1.0")) is None  # not a tag this stack deploys

    digest = world.push_image("latest", seed="v1.1.0")  # `docker push :latest` of the v1.1.0 build
    assert digest == world.digests["v1.1.0"]
    report = pipeline.deliver(world.ecr_push_event("latest"))

    assert report.status == "SUCCEEDED", (report.error, report.cause)
    record = pipeline.record()
    assert (record["outcome"], record["image_tag"], record["image_digest"]) == ("Succeeded", "latest", digest)
    running = {service: world.service(service)["taskDefinition"] for service in world.spec.services}
    for task_definition in running.values():
        image = pipeline.client("ecs").describe_task_definition(taskDefinition=task_definition)["taskDefinition"][
            "containerDefinitions"
        ][0]["image"]
        assert image == f"{world.repository_uri}@{digest}"  # by digest, never by the moving tag

    again = pipeline.deliver(world.ecr_push_event("latest"))  # the same push, delivered again

    assert again.status == "SUCCEEDED", (again.error, again.cause)
    assert [r["outcome"] for r in pipeline.records()].count("NoOp") == 1
    assert {service: world.service(service)["taskDefinition"] for service in world.spec.services} == running
