"""`logs`: the migration task's whole CloudWatch log stream (the execution only keeps its tail).

Where the stream is comes from the execution itself: StartMigration's (and CheckMigration's) output
carries the awslogs group and stream it derived from the task definition.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ecs_migrate_deploy.operator import OperatorError
from ecs_migrate_deploy.operator.executions import history, state_outputs


def migration_log_location(events: list[dict[str, Any]]) -> tuple[str, str]:
    for state in ("CheckMigration", "StartMigration"):
        for output in reversed(list(state_outputs(events, state))):
            migration = output.get("migration") or {}
            if migration.get("log_group") and migration.get("log_stream"):
                return str(migration["log_group"]), str(migration["log_stream"])
    if any((e.get("stateEnteredEventDetails") or {}).get("name") == "StartMigration" for e in events):
        raise OperatorError(
            "the migration task's container has no awslogs configuration with a stream prefix: its output is not in CloudWatch Logs"
        )
    raise OperatorError("this execution ran no migration (a rollback, a dry run, skipped, or it stopped before)")


def execution_log_location(sfn: Any, arn: str) -> tuple[str, str]:
    return migration_log_location(list(history(sfn, arn)))


def log_lines(logs: Any, group: str, stream: str) -> Iterator[str]:
    """Every event of the stream, oldest first: GetLogEvents until the forward token stops moving."""
    kwargs: dict[str, Any] = {"logGroupName": group, "logStreamName": stream, "startFromHead": True}
    while True:
        page = logs.get_log_events(**kwargs)
        for event in page["events"]:
            yield str(event["message"]).rstrip("\n")
        token = page.get("nextForwardToken")
        if not token or token == kwargs.get("nextToken"):
            return
        kwargs["nextToken"] = token
