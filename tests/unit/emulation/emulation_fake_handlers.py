"""Tiny Lambda handlers for the harness's own tests, routed by dotted path like the real ones."""

from __future__ import annotations

import os
from typing import Any


class MigrationFailed(Exception):
    """Same name as the pipeline's error: the ASL's Catch matches the class name."""


class TransientAwsError(Exception):
    pass


CALLS: dict[str, int] = {}


def greet(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {
        "hello": event.get("who", "world"),
        "function_name": context.function_name,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "request_id": context.aws_request_id,
    }


def explode(event: dict[str, Any], context: Any) -> dict[str, Any]:
    kind = event.get("explode")
    if kind == "migration":
        raise MigrationFailed("the migration task exited 3")
    if kind == "value":
        raise ValueError("not caught by the ASL")
    # A function's own environment variable (template: ExplodeFunction's Environment) is visible here.
    return {"exploded": False, "own_env": os.environ.get("EXPLODE_TABLE_ARN")}


def flaky(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Fails `event['flaky']` times per key, then succeeds."""
    key = str(event.get("key", "default"))
    CALLS[key] = CALLS.get(key, 0) + 1
    if CALLS[key] <= int(event.get("flaky", 0)):
        raise TransientAwsError(f"throttled (attempt {CALLS[key]})")
    return {"attempts": CALLS[key]}


def poll(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Call 1 succeeds, call 2 is throttled, call 3 succeeds and says done (a check loop with a retry)."""
    key = f"poll:{event.get('key', 'default')}"
    CALLS[key] = CALLS.get(key, 0) + 1
    if CALLS[key] == 2:
        raise TransientAwsError("throttled on the second look")
    return {"calls": CALLS[key], "done": CALLS[key] >= 3}
