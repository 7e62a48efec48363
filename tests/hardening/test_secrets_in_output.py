"""The database secret appears nowhere the pipeline writes, on the paths that carry the most text.

Four representative runs of the real state machine against a scratch database whose application
role has a known password: a deployment that succeeds, one whose migration fails, one whose schema
verification fails, and one rolled back after a failed rollout. Failure paths are the ones to watch:
their reasons quote the migration's log, PostgreSQL's errors and AWS's messages.

Scanned for the password, the secret's full JSON and a connection URL built from it: the handlers'
log output (Powertools JSON lines on stdout, captured at the file-descriptor level), every
CloudWatch Logs group (the migration task's log), the execution history, every item of the
deployments table, and the SNS / EventBridge notifications. (The workflow fixture's teardown scans
histories, items and notifications for the password too; this test adds the log output and the other
forms of the secret, and checks that each place scanned actually holds this run's text.)
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from deploy_pipeline.observability import logger

from ecs_migrate_deploy.emulation.seams.ecs_tasks import TaskOutcome
from tests.support.pipeline import DB_PASSWORD, Pipeline, PipelineFactory

FAILED_PRISMA_ROW = (
    'CREATE TABLE "_prisma_migrations" (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, '
    "finished_at timestamptz, migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz, "
    "started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count int NOT NULL DEFAULT 0);"
    "INSERT INTO _prisma_migrations (id, checksum, migration_name, logs) "
    "VALUES ('1', 'x', '20250101090000_init', 'relation already exists')"
)


@pytest.fixture
def handler_output(capfd: pytest.CaptureFixture[str]) -> Iterator[Callable[[], str]]:
    """What the handlers print, as the Lambda runtime would ship it to CloudWatch.

    Powertools' handler keeps the `sys.stdout` it found when the module was first imported, which in
    a test run is some earlier test's (since closed) capture; it writes to file descriptor 1 here.
    """
    handler = logger.registered_handler
    saved = handler.stream
    handler.setStream(sys.__stdout__)
    capfd.readouterr()

    def read() -> str:
        sys.__stdout__.flush()
        captured = capfd.readouterr()
        return captured.out + captured.err

    try:
        yield read
    finally:
        handler.setStream(saved)


def secret_forms(pipeline: Pipeline) -> dict[str, str]:
    """What must never be emitted: the password, the secret as stored, and a URL holding the password."""
    secret = pipeline.client("secretsmanager").get_secret_value(SecretId=pipeline.world.secret_arn)["SecretString"]
    user = json.loads(secret)["username"]
    assert DB_PASSWORD in secret
    return {"password": DB_PASSWORD, "secret string": secret, "url credentials": f"{user}:{DB_PASSWORD}@"}


def log_groups(pipeline: Pipeline) -> str:
    logs = pipeline.client("logs")
    events: list[dict[str, Any]] = []
    for group in logs.describe_log_groups()["logGroups"]:
        events += logs.filter_log_events(logGroupName=group["logGroupName"])["events"]
    return json.dumps(events)


def table_items(pipeline: Pipeline) -> str:
    return json.dumps(pipeline.client("dynamodb").scan(TableName=pipeline.world.table_name)["Items"], default=str)


def rollout_fails(pipeline: Pipeline) -> Callable[[str, str], str]:
    initial = dict(pipeline.world.task_definition_arns)
    return lambda service, arn: "COMPLETED" if arn == initial[service] else "FAILED"


# scenario -> (example migrations, expected outcome, expected error)
SCENARIOS = {
    "succeeds": ("shop", "SUCCEEDED", None),
    "migration-fails": ("broken", "FAILED", "MigrationFailed"),
    "verification-fails": ("shop", "FAILED", "SchemaVerificationFailed"),
    "rolled-back": ("shop", "FAILED", "RolloutFailed"),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_no_form_of_the_secret_is_emitted(
    make_pipeline: PipelineFactory, handler_output: Callable[[], str], scenario: str
) -> None:
    migrations, status, error = SCENARIOS[scenario]
    holder: dict[str, Pipeline] = {}

    def lying_migrator(task_definition: Any, overrides: Any, started_by: str) -> TaskOutcome:
        holder["p"].query(FAILED_PRISMA_ROW + " RETURNING 1")
        return TaskOutcome.exited(0, ["All migrations have been successfully applied."])

    pipeline = holder["p"] = make_pipeline(
        migrations, task_runner=lying_migrator if scenario == "verification-fails" else None
    )
    if scenario == "rolled-back":
        pipeline.emulator.seams.rollouts.policy = rollout_fails(pipeline)
    handler_output()  # what building the world printed is not the pipeline's output

    report = pipeline.run(pipeline.world.ecr_push_event("v1.1.0"), name=f"secret-scan-{scenario}")

    assert (report.status, report.error) == (status, error), report.cause
    emitted = {
        "log output": handler_output(),
        "CloudWatch Logs": log_groups(pipeline),
        "execution history": json.dumps(report.events, default=str),
        "deployments table": table_items(pipeline),
        "notifications": json.dumps(pipeline.world.notifications() + pipeline.world.outcome_events()),
    }
    # Each place holds this run's own text, so an empty or unrelated capture cannot pass for a clean one.
    assert report.arn in emitted["deployments table"] and report.arn in emitted["notifications"]
    assert "Succeeded" in emitted["execution history"] or "Failed" in emitted["execution history"]
    if error:
        assert '"message":"phase failed"' in emitted["log output"], emitted["log output"][-2000:]
        assert error in emitted["log output"]
    if scenario != "verification-fails":
        assert "migration" in emitted["CloudWatch Logs"].lower()  # the migration task's own log lines
    leaks = [
        f"{what} in {where}"
        for what, secret in secret_forms(pipeline).items()
        for where, text in emitted.items()
        if secret in text
    ]
    assert not leaks, leaks
