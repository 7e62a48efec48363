"""`watch --image-digest`: the execution that deploys one image digest, waited for until it starts.

CI knows the digest it pushed, not the execution: EventBridge names what its rule starts
`<event id>_<uuid>`. ListExecutions gives names, start times and statuses, not inputs, so every
execution that started within the look-back window is described once (an input never changes) and
matched by what the pipeline itself deploys:

- an ECR push (the trigger rule passes the event as the input): `detail.image-digest`;
- a manual start by digest (`start --digest`, `rollback`, `promote`): `image_digest`;
- a manual start by tag: the digest Resolve resolved the tag to (`plan.image.digest` in Resolve's
  output, one GetExecutionHistory page read once Resolve has run). A tag can be moved, so its
  input alone says nothing; Resolve's output is what the execution really deploys.

Several matches (a re-push of the same image under another tag, a manual start of it): the newest.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
PAGE_SIZE = 100  # ListExecutions' maximum
MAX_PAGES = 5  # the 500 newest executions at most, per poll
_RESOLVE_EVENTS = 50  # Resolve exits within the first ~10 events (more with retries)


@dataclass(frozen=True)
class Candidate:
    """An execution that deploys the digest, and how it was started (for the person reading the log)."""

    name: str
    arn: str
    started_at: datetime
    how: str


def requested_image(execution_input: str | None) -> tuple[str | None, str | None, str]:
    """(digest, tag, how it was started) from an execution's input, read as Resolve reads it."""
    try:
        data = json.loads(execution_input or "")
    except ValueError:
        return None, None, "an input that is not JSON"
    if not isinstance(data, dict):
        return None, None, "an input that is not an object"
    detail = data.get("detail")
    if data.get("source") == "aws.ecr" and isinstance(detail, dict):
        tag = detail.get("image-tag")
        return _text(detail.get("image-digest")), _text(tag), f"ECR push of tag {tag}" if tag else "ECR push"
    options = data.get("options")
    options = options if isinstance(options, dict) else {}
    kind = "rollback" if options.get("rollback") else "dry run" if options.get("dry_run") else "manual start"
    digest, tag = _text(data.get("image_digest")), _text(data.get("image_tag"))
    if digest:
        return digest, None, f"{kind} by digest"
    return None, tag, f"{kind} of tag {tag}" if tag else kind


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def resolved_digest(events: list[dict[str, Any]]) -> str | None:
    """The digest in Resolve's output, if Resolve has exited successfully among `events`."""
    for event in events:
        details = event.get("stateExitedEventDetails") or {}
        if details.get("name") != "Resolve" or not details.get("output"):
            continue
        try:
            output = json.loads(details["output"])
        except ValueError:
            return None
        digest = ((output.get("plan") or {}).get("image") or {}).get("digest") if isinstance(output, dict) else None
        return _text(digest)
    return None


@dataclass
class DigestFinder:
    """The state machine's executions of one digest that started at or after `not_before`."""

    sfn: Any
    state_machine_arn: str
    digest: str
    not_before: datetime
    _known: dict[str, Candidate | None] = field(default_factory=dict, init=False)

    def matches(self) -> list[Candidate]:
        """Newest first. ListExecutions lists newest first: paging stops at the window's start."""
        found: list[Candidate] = []
        kwargs: dict[str, Any] = {"stateMachineArn": self.state_machine_arn, "maxResults": PAGE_SIZE}
        for _ in range(MAX_PAGES):
            page = self.sfn.list_executions(**kwargs)
            executions = page["executions"]
            for listed in executions:
                if listed["startDate"] < self.not_before:
                    continue
                candidate = self._candidate(listed)
                if candidate is not None:
                    found.append(candidate)
            token = page.get("nextToken")
            if not token or any(listed["startDate"] < self.not_before for listed in executions):
                break
            kwargs["nextToken"] = token
        return sorted(found, key=lambda c: c.started_at, reverse=True)

    def _candidate(self, listed: dict[str, Any]) -> Candidate | None:
        arn = str(listed["executionArn"])
        if arn in self._known:
            return self._known[arn]
        described = self.sfn.describe_execution(executionArn=arn)
        digest, tag, how = requested_image(described.get("input"))
        settled = True
        if digest is None and tag is not None:
            events = self.sfn.get_execution_history(executionArn=arn, maxResults=_RESOLVE_EVENTS)["events"]
            digest = resolved_digest(events)
            how = f"{how}, resolved by Resolve"
            # Not resolved yet: ask again next time, unless it ended (or ran past Resolve) without a digest.
            settled = digest is not None or described["status"] != "RUNNING" or len(events) >= _RESOLVE_EVENTS
        candidate = Candidate(str(listed["name"]), arn, listed["startDate"], how) if digest == self.digest else None
        if settled:
            self._known[arn] = candidate
        return candidate


def wait_for_executions(
    finder: DigestFinder,
    wait_start: float,
    interval: float,
    on_waiting: Callable[[], None],
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> list[Candidate]:
    """Poll until an execution of the digest exists (newest first), or [] once `wait_start` seconds passed.

    `on_waiting` is called once, after the first look found nothing.
    """
    deadline = clock() + wait_start
    waiting = False
    while True:
        found = finder.matches()
        remaining = deadline - clock()
        if found or remaining <= 0:
            return found
        if not waiting:
            waiting = True
            on_waiting()
        sleep(min(interval, remaining))
