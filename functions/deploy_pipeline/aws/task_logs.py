"""The tail of a task container's CloudWatch log stream, found from its awslogs configuration."""

from __future__ import annotations

import re
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from deploy_pipeline.aws import clients

MAX_LINES = 40
MAX_LINE_CHARS = 400


def awslogs_location(task_definition: dict[str, Any], container: str, task_arn: str) -> tuple[str, str] | None:
    """(group, stream) as the awslogs driver names them: `<prefix>/<container>/<task id>`."""
    definition = next((c for c in task_definition["containerDefinitions"] if c["name"] == container), None)
    config = (definition or {}).get("logConfiguration") or {}
    options = config.get("options") or {}
    if config.get("logDriver") != "awslogs" or "awslogs-group" not in options:
        return None
    prefix = options.get("awslogs-stream-prefix")
    if not prefix:  # without a prefix the stream name is the container id, which we cannot know
        return None
    return options["awslogs-group"], f"{prefix}/{container}/{task_arn.rsplit('/', 1)[-1]}"


MAX_EMPTY_PAGES = 5
"""Empty pages followed before giving up: GetLogEvents "can return empty results while there are more log
events available", so an empty page ends the read only when the returned token equals the one sent
(botocore's CloudWatch Logs model, GetLogEvents and nextBackwardToken)."""


def tail(group: str, stream: str, lines: int = MAX_LINES) -> list[str]:
    """Last lines of the stream, each cut to a readable length; [] if the stream is not there yet.

    A failed read (throttled, denied) loses evidence, it decides nothing: the caller gets one line
    saying the log could not be read instead of an error that would fail a migration that exited 0.
    """
    logs = clients.logs()
    request: dict[str, Any] = {"logGroupName": group, "logStreamName": stream, "limit": lines, "startFromHead": False}
    try:
        for _ in range(MAX_EMPTY_PAGES):
            page = logs.get_log_events(**request)
            events = page.get("events", [])
            token = page.get("nextBackwardToken")
            if events or not token or token == request.get("nextToken"):
                return [_cut(e.get("message", "").rstrip("\n")) for e in events]
            request["nextToken"] = token
    except logs.exceptions.ResourceNotFoundException:
        return []
    except (ClientError, BotoCoreError) as exc:
        code = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else type(exc).__name__
        return [f"[ecs-migrate-deploy] the log stream {group}/{stream} could not be read ({code})"]
    return []


def _cut(line: str) -> str:
    return line if len(line) <= MAX_LINE_CHARS else line[: MAX_LINE_CHARS - 1] + "…"


# The database's own error as migrators print it: PostgreSQL's "ERROR:  ..." (psql, Prisma's native
# engine under "Database error:", our Prisma scaffolding), a driver exception (psycopg2 / psycopg 3 /
# SQLAlchemy, as Alembic prints it), or failing that Prisma's own "Error: P30xx" code.
_DATABASE_ERROR = re.compile(
    r"\bERROR:\s+\S|\b(?:psycopg2?\.errors|sqlalchemy\.exc)\.\w+|\bdjango\.db\.utils\.\w+Error"
)
_PRISMA_CODE = re.compile(r"\bError: (P\d{4})\b")
# CloudWatch Logs filter pattern: any of these terms ("?term"; quoted because of the colon). An
# emulator that ignores the pattern returns every event, which the regexes above then sift.
ERROR_FILTER_PATTERN = '?"ERROR:" ?"psycopg" ?"sqlalchemy.exc" ?"django.db.utils" ?"Error: P"'
MAX_FILTER_PAGES = 5


def database_error(lines: list[str]) -> str | None:
    """The first line that is the database's own error; else Prisma's P-code and its message."""
    for line in lines:
        if _DATABASE_ERROR.search(line):
            return _cut(line.strip())
    for index, line in enumerate(lines):
        code = _PRISMA_CODE.search(line)
        if code:
            message = next((m.strip() for m in lines[index + 1 :] if m.strip()), "")
            return _cut(f"{code.group(1)}: {message}" if message else code.group(1))
    return None


def first_database_error(group: str, stream: str) -> str | None:
    """The database's first error in the whole stream, however long the script echoed after it.

    FilterLogEvents searches the stream server-side (the tail may hold only SQL text and a backtrace);
    a failed read only loses this line of evidence.
    """
    logs = clients.logs()
    request: dict[str, Any] = {
        "logGroupName": group,
        "logStreamNames": [stream],
        "filterPattern": ERROR_FILTER_PATTERN,
    }
    try:
        for _ in range(MAX_FILTER_PAGES):
            page = logs.filter_log_events(**request)
            found = database_error([e.get("message", "").rstrip("\n") for e in page.get("events", [])])
            if found or not page.get("nextToken"):
                return found
            request["nextToken"] = page["nextToken"]
    except (ClientError, BotoCoreError):
        return None
    return None
