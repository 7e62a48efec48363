"""Tables and outcome lines of the operator commands (rich), kept apart from the data they show."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ecs_migrate_deploy.operator.executions import Started
from ecs_migrate_deploy.operator.records import Deployment
from ecs_migrate_deploy.operator.status import Status

OUTCOME_STYLES = {
    "Succeeded": "green",
    "NoOp": "dim",
    "DryRun": "cyan",
    "Superseded": "dim",
    "Failed": "red",
    "RolledBack": "yellow",
    "RollbackFailed": "bold red",
}


def short_digest(digest: str | None) -> str:
    """`sha256:` and 12 hex digits: as many as `docker images` shows, unique in practice."""
    return digest[:19] if digest else "-"


def when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"


def outcome(name: str) -> str:
    return f"[{OUTCOME_STYLES.get(name, 'white')}]{escape(name)}[/]"


def image(deployment: Deployment) -> str:
    label = deployment.image_tag or "-"
    return f"{label} (rollback)" if deployment.rollback else label


def _columns(table: Table, fixed: Sequence[str], ids: Sequence[str]) -> None:
    """Short values never wrap; in a narrow terminal the ids fold onto a second line, never cut."""
    for column in fixed:
        table.add_column(column, no_wrap=True)
    for column in ids:
        table.add_column(column, overflow="fold")


def history_table(deployments: Sequence[Deployment], title: str) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    _columns(table, fixed=("Outcome", "Tag", "Digest", "Started (UTC)", "Duration"), ids=("Snapshot", "Deployment"))
    for d in deployments:
        table.add_row(
            outcome(d.outcome),
            escape(image(d)),
            short_digest(d.image_digest),
            when(d.started_at),
            duration(d.duration_seconds),
            escape(d.snapshot_id or "-"),
            escape(d.deployment_id),
        )
    return table


def status_table(status: Status, title: str) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    _columns(table, fixed=("Service", "Tag", "Digest", "Deployed (UTC)"), ids=("Deployment", "Last attempt", "Now"))
    for s in status.services:
        deployment = s.current
        now = f"[yellow]deploying[/] {short_digest(s.lock.digest)} ({escape(s.lock.execution)})" if s.lock else "idle"
        last = "-" if s.last is None else f"{outcome(s.last.outcome)} {escape(s.last.deployment_id)}"
        if deployment is not None and s.last is not None and s.last.deployment_id == deployment.deployment_id:
            last = "[dim]this one[/]"
        if deployment is None:
            table.add_row(escape(s.service), "-", "-", "-", "[dim]never deployed by this stack[/]", last, now)
            continue
        table.add_row(
            escape(s.service),
            escape(image(deployment)),
            short_digest(deployment.image_digest),
            when(deployment.finished_at or deployment.started_at),
            escape(deployment.deployment_id),
            last,
            now,
        )
    return table


def print_running(console: Console, status: Status) -> None:
    if not status.running:
        console.print("No execution is running.")
        return
    for running in status.running:
        console.print(f"[yellow]Running[/] {escape(running.name)} since {when(running.started_at)} UTC")


def print_outcome(console: Console, described: dict[str, Any], record: dict[str, Any] | None) -> None:
    """The end of a watch: status, recorded outcome, and the recorded explanation (or the error)."""
    status = str(described["status"])
    name = str((record or {}).get("outcome") or status)
    colour = "green" if status == "SUCCEEDED" else "red"
    console.print()
    console.print(f"[bold {colour}]{escape(name)}[/]  ({status})")
    text = (record or {}).get("cause") or described.get("cause") or ""
    if status != "SUCCEEDED" and described.get("error"):
        console.print(f"  [red]{escape(str(described['error']))}[/]")
    for line in str(text).splitlines():
        console.print(f"  {escape(line)}")
    console.print(f"  execution {escape(str(described['executionArn']))}")


def print_started(console: Console, started: Started) -> None:
    console.print(f"[bold]Started[/] {escape(started.name)}")
    console.print(f"  input      {escape(json.dumps(started.input))}")
    console.print(f"  execution  {escape(started.arn)}")
    console.print(f"  console    {escape(started.console_url)}")
