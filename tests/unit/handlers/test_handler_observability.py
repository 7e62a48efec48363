"""What the Lambdas tell CloudWatch: EMF metrics the template's alarm and dashboard read, and log lines
that carry the execution name as correlation id."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from deploy_pipeline.handlers import record, resolve
from deploy_pipeline.logic.record import phase_seconds
from deploy_pipeline.models.state import RecordInput

from ecs_migrate_deploy.emulation.engine import Emulator
from ecs_migrate_deploy.emulation.seams.awslambda import LambdaContext
from ecs_migrate_deploy.emulation.world import WorldSpec

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """The emulated account, with the handlers' shared Metrics set up as a Lambda's would be.

    Powertools reads the namespace and service when `deploy_pipeline.observability` is imported:
    in Lambda the function's environment is there by then; in this test process it was not.
    """
    from deploy_pipeline.observability import metrics

    with Emulator(WorldSpec()) as emu:
        env = emu.world.env()
        saved = metrics.namespace, metrics.service
        metrics.namespace, metrics.service = env["POWERTOOLS_METRICS_NAMESPACE"], env["POWERTOOLS_SERVICE_NAME"]
        try:
            yield emu
        finally:
            metrics.clear_metrics()
            metrics.namespace, metrics.service = saved


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """The handlers' Powertools log output (its stream and level were fixed when it was first imported)."""
    from deploy_pipeline.observability import logger

    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    previous_stream, previous_level = handler.setStream(stream), logger.log_level
    logger.setLevel("INFO")
    try:
        yield stream
    finally:
        handler.setStream(previous_stream)
        logger.setLevel(previous_level)


def call(handler: Any, event: dict[str, Any]) -> Any:
    return handler(event, LambdaContext(function_name="test", invoked_function_arn="arn:aws:lambda:::function:test"))


def execution(name: str) -> dict[str, str]:
    arn = f"arn:aws:states:us-east-1:123456789012:execution:ecs-migrate-deploy:{name}"
    return {"name": name, "arn": arn, "started_at": T0.isoformat()}


def emf_documents(text: str) -> list[dict[str, Any]]:
    documents = []
    for line in text.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            documents.append(json.loads(line))
    return documents


def test_phase_durations_run_from_each_start_to_the_next() -> None:
    state = RecordInput.model_validate(
        {
            "execution": execution("d1"),
            "snapshot": {"started_at": T0.isoformat(), "snapshot_id": "pre-deploy-d1"},
            "migration": {
                "started_at": (T0 + timedelta(seconds=120)).isoformat(),
                "task_arn": "t",
                "task_definition_arn": "td",
            },
            "rollout": {"started_at": (T0 + timedelta(seconds=300)).isoformat(), "services": []},
            "rollback": {"started_at": (T0 + timedelta(seconds=500)).isoformat()},
        }
    )
    assert phase_seconds(state, T0 + timedelta(seconds=560)) == {
        "snapshot": 120.0,
        "migration": 180.0,  # the migration task and the verification after it
        "rollout": 200.0,
        "rollback": 60.0,
    }
    assert phase_seconds(RecordInput.model_validate({"execution": execution("d2")}), T0) == {}


def test_record_emits_deployments_by_outcome_and_phase_durations(
    emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    state = call(resolve.resolve, {"input": {"image_tag": "v1.1.0"}, "execution": execution("metrics-1")})
    started = datetime.now(UTC) - timedelta(seconds=400)
    state["snapshot"] = {"started_at": started.isoformat(), "snapshot_id": "pre-deploy-metrics-1", "done": True}
    state["migration"] = {
        "started_at": (started + timedelta(seconds=100)).isoformat(),
        "task_arn": "arn:aws:ecs:us-east-1:123456789012:task/acme-prod/0123",
        "task_definition_arn": emulator.world.task_definition_arns["web"],
        "done": True,
    }
    state["rollout"] = {"started_at": (started + timedelta(seconds=250)).isoformat(), "services": []}
    capsys.readouterr()

    assert call(record.record_outcome, state)["outcome"] == "Succeeded"

    documents = emf_documents(capsys.readouterr().out)
    by_metric = {
        (d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"], d.get("phase") or d.get("outcome")): d
        for d in documents
    }
    deployments = by_metric[("Deployments", "Succeeded")]
    assert set(deployments["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]) == {"service", "outcome"}
    assert deployments["service"] == "ecs-migrate-deploy"  # POWERTOOLS_SERVICE_NAME from the template
    for phase, seconds in (("snapshot", 100.0), ("migration", 150.0)):
        document = by_metric[("PhaseDuration", phase)]
        (directive,) = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "EcsMigrateDeploy"  # POWERTOOLS_METRICS_NAMESPACE from the template
        assert set(directive["Dimensions"][0]) == {"service", "phase"}
        assert directive["Metrics"] == [{"Name": "PhaseDuration", "Unit": "Seconds"}]
        assert (document["service"], document["PhaseDuration"]) == ("ecs-migrate-deploy", [seconds])
    assert by_metric[("PhaseDuration", "rollout")]["PhaseDuration"][0] >= 150.0
    assert not any("outcome" in d and "phase" in d for d in documents)


def test_log_lines_carry_the_execution_name_as_correlation_id(emulator: Emulator, log_lines: io.StringIO) -> None:
    with pytest.raises(Exception, match="invalid manual input"):
        call(resolve.resolve, {"input": {"image_tag": "not a tag"}, "execution": execution("corr-resolve")})
    # Record logs when a side effect fails (here: the table is gone); its input has `execution` too.
    emulator.client("dynamodb").delete_table(TableName=emulator.world.table_name)
    call(record.record_outcome, {"execution": execution("corr-record"), "input": {"image_tag": "v1.1.0"}})

    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    resolve_lines = [line for line in lines if line.get("function_name") and line["message"] == "phase failed"]
    record_lines = [line for line in lines if line["message"] == "record step failed"]
    assert resolve_lines and record_lines
    assert {line["correlation_id"] for line in resolve_lines} == {"corr-resolve"}
    assert {line["correlation_id"] for line in record_lines} == {"corr-record"}
    assert {line["step"] for line in record_lines} == {"record"}
