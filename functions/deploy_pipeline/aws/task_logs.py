"""The tail of a task container's CloudWatch log stream, found from its awslogs configuration."""

from __future__ import annotations

from typing import Any

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


def tail(group: str, stream: str, lines: int = MAX_LINES) -> list[str]:
    """Last lines of the stream, each cut to a readable length; [] if the stream is not there yet."""
    logs = clients.logs()
    try:
        events = logs.get_log_events(logGroupName=group, logStreamName=stream, limit=lines, startFromHead=False)
    except logs.exceptions.ResourceNotFoundException:
        return []
    return [_cut(e.get("message", "").rstrip("\n")) for e in events.get("events", [])]


def _cut(line: str) -> str:
    return line if len(line) <= MAX_LINE_CHARS else line[: MAX_LINE_CHARS - 1] + "…"
