"""Every input of the bad-input corpus (corpus/*.json) fails the REAL state machine at Resolve.

Two emulated worlds serve the whole corpus (building one takes ~2 s, an execution ~0.2 s). For
each case: the execution fails with the case's error (InvalidInput; ImageNotFound for a well-formed
tag or digest the repository does not hold: a subclass of InvalidInput, caught by the same Catch,
that names the problem exactly), Resolve's reason is one printable line, no Lambda but Resolve failed, and no AWS
resource was created or changed. Resolve's refusal is still recorded and notified (Failed, with
the reason): a refused input leaves a trace, not a deployment.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from deploy_pipeline.logic.resolve import parse_request
from deploy_pipeline.settings import get_settings

from ecs_migrate_deploy.emulation.engine import Emulator, ExecutionReport
from ecs_migrate_deploy.emulation.world import WorldSpec
from tests.hardening.corpus import Case, load_cases

CASES = load_cases()
# Two halves, two xdist workers, one emulated world each (the module-scoped fixture).
GROUPS = [pytest.mark.xdist_group(f"bad-input-corpus-{half}") for half in (0, 1)]
PARAMS = [pytest.param(case, id=case.id, marks=GROUPS[i % 2]) for i, case in enumerate(CASES)]
REFUSED_PATH = ["Start", "Resolve", "RecordOutcome", "ReleaseLock", "Finish", "DeploymentFailed"]
MAX_REASON_CHARS = 1000


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(
        WorldSpec(), parameters={"DbSslMode": "disable"}, extra_env={"POWERTOOLS_METRICS_DISABLED": "1"}
    ) as emulator:
        emulator.world.notifications(), emulator.world.outcome_events()  # start from empty queues
        yield emulator


def bases(emulator: Emulator) -> dict[str, Any]:
    """Deployable inputs of this world, which the corpus cases change one field at a time."""
    return {"ecr-push": emulator.world.ecr_push_event("v1.1.0"), "manual": {"image_tag": "v1.1.0"}}


def run(emulator: Emulator, execution_input: Any, name: str) -> ExecutionReport:
    """StartExecution with any JSON value (Emulator.start takes objects only), then wait."""
    arn = emulator.client("stepfunctions").start_execution(
        stateMachineArn=emulator.world.state_machine_arn, name=name, input=json.dumps(execution_input)
    )["executionArn"]
    return emulator.wait(arn, timeout=30)


def aws_resources(emulator: Emulator) -> dict[str, Any]:
    """Everything a deployment could create or change, read back from the emulated account."""
    world, ecs, rds = emulator.world, emulator.client("ecs"), emulator.client("rds")
    services = ecs.describe_services(cluster=world.cluster_name, services=list(world.spec.services))["services"]
    locks = emulator.client("dynamodb").scan(
        TableName=world.table_name, FilterExpression="sk = :l", ExpressionAttributeValues={":l": {"S": "LOCK"}}
    )["Items"]
    return {
        "snapshots": rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"],
        "databases": [d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"]],
        "tasks": [
            ecs.list_tasks(cluster=world.cluster_name, desiredStatus=status)["taskArns"]
            for status in ("RUNNING", "STOPPED")
        ],
        "task_definitions": ecs.list_task_definitions(status="ACTIVE")["taskDefinitionArns"],
        "services": [
            (
                s["serviceName"],
                s["taskDefinition"],
                [(d["id"], d["taskDefinition"], d["status"], d.get("rolloutState")) for d in s["deployments"]],
            )
            for s in services
        ],
        "locks": locks,
    }


def resolve_failures(report: ExecutionReport) -> list[dict[str, str]]:
    """(error, errorMessage) of every Lambda task that failed, from the execution history."""
    failures = []
    for event in report.events:
        if event["type"] == "LambdaFunctionFailed":
            details = event["lambdaFunctionFailedEventDetails"]
            failures.append({"error": details["error"], "message": json.loads(details["cause"])["errorMessage"]})
    return failures


def record_of(emulator: Emulator, execution_arn: str) -> dict[str, Any]:
    world = emulator.world
    items = emulator.client("dynamodb").query(
        TableName=world.table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"DEPLOYMENTS#{world.cluster_name}"}},
    )["Items"]
    [record] = [r for r in (json.loads(i["record"]["S"]) for i in items) if r["execution_arn"] == execution_arn]
    return record


def test_the_corpus_is_large_and_well_formed() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) >= 50
    assert len(set(ids)) == len(ids), "case ids must be unique (they name the executions)"
    assert {case.error for case in CASES} == {"InvalidInput", "ImageNotFound"}
    assert all(len(f"bad-{case.id}") <= 80 and case.why and case.reason for case in CASES)
    assert {case.file for case in CASES} >= {"ecr_events.json", "manual_inputs.json", "not_objects.json"}


@pytest.mark.parametrize("case", PARAMS)
def test_bad_input_fails_at_resolve_and_touches_nothing(emulator: Emulator, case: Case) -> None:
    before = aws_resources(emulator)

    report = run(emulator, case.build(bases(emulator)), name=f"bad-{case.id}")

    assert (report.status, report.error) == ("FAILED", case.error), report.cause
    assert report.state_names == REFUSED_PATH
    [failure] = resolve_failures(report)  # only Resolve failed: ReleaseLock copes with a refused input
    reason = failure["message"]
    assert failure["error"] == case.error
    assert case.reason in reason, reason
    assert reason.isprintable() and len(reason) <= MAX_REASON_CHARS, reason
    assert (report.cause or "").splitlines() == [
        f"Failed: {case.error}: {reason}",
        "Nothing was deployed and no AWS resource was touched.",
    ]
    assert aws_resources(emulator) == before
    record = record_of(emulator, report.arn)
    assert (record["outcome"], record["error"]) == ("Failed", case.error)
    [note] = emulator.world.notifications()
    assert note["Subject"].startswith("[Failed]") and report.arn in note["Message"]
    assert [e["detail-type"] for e in emulator.world.outcome_events()] == ["Deployment Failed"]


@GROUPS[0]
def test_control_the_unchanged_bases_are_deployable(emulator: Emulator) -> None:
    """Each case fails for what it changes: its base passes Resolve and (as a dry run) the whole machine."""
    for name, base in bases(emulator).items():
        assert parse_request(base, get_settings())[0] in ("ecr-push", "manual"), name
    before = aws_resources(emulator)

    report = run(emulator, {"image_tag": "v1.1.0", "options": {"dry_run": True}}, name="control-dry-run")

    assert report.status == "SUCCEEDED", (report.error, report.cause)
    assert "AcquireLock" in report.state_names and resolve_failures(report) == []
    assert aws_resources(emulator) == before  # a dry run takes and releases the locks, nothing else
    assert record_of(emulator, report.arn)["outcome"] == "DryRun"
    emulator.world.notifications(), emulator.world.outcome_events()


@GROUPS[1]
def test_control_the_untouched_check_sees_a_change(emulator: Emulator) -> None:
    before = aws_resources(emulator)
    rds = emulator.client("rds")
    rds.create_db_snapshot(DBSnapshotIdentifier="control-snapshot", DBInstanceIdentifier=emulator.world.db_identifier)
    try:
        assert aws_resources(emulator) != before
    finally:
        rds.delete_db_snapshot(DBSnapshotIdentifier="control-snapshot")
    assert aws_resources(emulator) == before
