"""The seams in `emulation/seams/documented_behaviour.py` behave as the AWS text each one quotes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ecs_migrate_deploy.emulation import Emulator
from ecs_migrate_deploy.emulation.seams.documented_behaviour import DatabaseBackingUp, LogsEmptyFirstPage
from tests.support.emulation import small_spec


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(small_spec(), extra_seams=[LogsEmptyFirstPage(), DatabaseBackingUp(calls=1)]) as emulator:
        yield emulator


def run_task(emu: Emulator, token: str, command: str = "migrate", cluster: str | None = None) -> dict[str, Any]:
    world = emu.world
    return dict(
        emu.client("ecs").run_task(
            cluster=cluster or world.cluster_name,
            taskDefinition=world.task_definition_arns["web"],
            launchType="FARGATE",
            networkConfiguration=world.network_configuration,
            startedBy="deploy-1",
            clientToken=token,
            overrides={"containerOverrides": [{"name": "app", "command": [command]}]},
        )
    )


def test_run_task_with_the_same_client_token_and_parameters_starts_one_task(emu: Emulator) -> None:
    first = run_task(emu, "deploy-1")["tasks"][0]["taskArn"]
    again = run_task(emu, "deploy-1")["tasks"][0]["taskArn"]
    other = run_task(emu, "deploy-2")["tasks"][0]["taskArn"]

    assert again == first and other != first
    listed = emu.client("ecs").list_tasks(cluster=emu.world.cluster_name, startedBy="deploy-1")["taskArns"]
    assert sorted(listed) == sorted({first, other})


def test_run_task_with_the_same_client_token_and_other_parameters_is_a_conflict(emu: Emulator) -> None:
    run_task(emu, "deploy-1")

    with pytest.raises(ClientError) as raised:
        run_task(emu, "deploy-1", command="something-else")

    assert raised.value.response["Error"]["Code"] == "ConflictException"


def test_client_tokens_are_per_cluster(emu: Emulator) -> None:
    emu.client("ecs").create_cluster(clusterName="staging")
    first = run_task(emu, "deploy-1")["tasks"][0]["taskArn"]
    elsewhere = run_task(emu, "deploy-1", cluster="staging")["tasks"][0]["taskArn"]

    assert elsewhere != first


def test_the_first_get_log_events_page_is_empty_with_a_token_that_leads_on(emu: Emulator) -> None:
    logs = emu.client("logs")
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    now = int(time.time() * 1000)  # CloudWatch Logs rejects events older than 14 days
    logs.put_log_events(
        logGroupName="g",
        logStreamName="s",
        logEvents=[{"timestamp": now + i, "message": f"line {i}"} for i in range(5)],
    )

    first = logs.get_log_events(logGroupName="g", logStreamName="s", limit=3, startFromHead=False)
    assert first["events"] == []
    second = logs.get_log_events(
        logGroupName="g", logStreamName="s", limit=3, startFromHead=False, nextToken=first["nextBackwardToken"]
    )
    assert [e["message"] for e in second["events"]] == ["line 2", "line 3", "line 4"]
    assert second["nextBackwardToken"] != first["nextBackwardToken"]


def test_a_database_backing_up_refuses_a_manual_snapshot_with_the_documented_code(emu: Emulator) -> None:
    rds = emu.client("rds")
    db = emu.world.db_identifier

    with pytest.raises(ClientError) as raised:
        rds.create_db_snapshot(DBSnapshotIdentifier="pre-deploy-1", DBInstanceIdentifier=db)

    assert raised.value.response["Error"]["Code"] == "InvalidDBInstanceState"
    assert rds.describe_db_instances(DBInstanceIdentifier=db)["DBInstances"][0]["DBInstanceStatus"] == "backing-up"
    rds.create_db_snapshot(DBSnapshotIdentifier="pre-deploy-1", DBInstanceIdentifier=db)
    assert rds.describe_db_instances(DBInstanceIdentifier=db)["DBInstances"][0]["DBInstanceStatus"] == "available"


def test_the_database_endpoint_is_where_the_world_secret_points(emu: Emulator) -> None:
    instance = emu.client("rds").describe_db_instances(DBInstanceIdentifier=emu.world.db_identifier)["DBInstances"][0]
    secret = json.loads(emu.client("secretsmanager").get_secret_value(SecretId=emu.world.secret_arn)["SecretString"])

    assert (instance["Endpoint"]["Address"], instance["Endpoint"]["Port"]) == (secret["host"], secret["port"])


def test_an_invocation_leaves_the_metrics_buffer_as_a_flush_would(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With metrics disabled Powertools' flush never empties its buffer, and its own flush at the 100th
    value of a metric fails on a Metrics object created without a namespace: each emulated invocation
    ends with the buffer empty, as `log_metrics` leaves it in Lambda."""
    from deploy_pipeline.observability import metrics

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "1")

    def counts(event: dict[str, Any], context: Any) -> dict[str, int]:
        for _ in range(60):
            metrics.add_metric(name="Deployments", unit="Count", value=1)
        return {"buffered": len(metrics.metric_set["Deployments"]["Value"])}

    name = next(iter(emu.world.function_arns.values())).rsplit(":", 1)[-1]
    emu.seams.lambdas.route(name, counts)
    for _ in range(2):  # 120 values in all: past Powertools' 100 had the first 60 stayed
        response = emu.client("lambda").invoke(FunctionName=name, Payload=b"{}")
        assert json.loads(response["Payload"].read()) == {"buffered": 60}
    assert not metrics.metric_set
