"""Tables and outcome lines of the operator commands (rich), kept apart from the data they show."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ecs_migrate_deploy.operator.executions import Started
from ecs_migrate_deploy.operator.lock import ServiceLock
from ecs_migrate_deploy.operator.records import Deployment
from ecs_migrate_deploy.operator.rollback import RollbackPlan
from ecs_migrate_deploy.operator.services import revision, short_image
from ecs_migrate_deploy.operator.status import ServiceStatus, Status

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


def _table(title: str, columns: Sequence[str]) -> Table:
    """A table whose cells never wrap: it is printed only when it fits (`fits`), else the blocks are."""
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for column in columns:
        table.add_column(column, no_wrap=True)
    return table


def fits(console: Console, table: Table) -> bool:
    """Whether the table fits the console's width whole (in a pipe: COLUMNS, else 80).

    A rich table narrower than its content folds or drops cells, so the deployment id `rollback --to`
    needs would be cut; the caller prints one block per record instead, each id whole on its line.
    """
    unbounded = console.options.update_width(sys.maxsize)  # measured within the width, it always "fits"
    return console.measure(table, options=unbounded).maximum <= console.width


def started_by(d: Deployment) -> str:
    """Who started it, short: "ECR push", or the caller's name (the part of its ARN after the account)."""
    if not d.started_by:
        return "-"
    return d.started_by.split(":", 5)[-1] if d.started_by.startswith("arn:") else d.started_by


def migrations_applied(d: Deployment, *, latest: bool) -> str:
    """How many migrations the deployment applied (with `latest`: and the last of them); "-" when it
    was not verified. Their names are in `--json`."""
    applied = d.migrations_applied
    if applied is None:
        return "-"
    count = int(applied.get("count", 0))
    return f"{count}, the last {applied.get('after')}" if latest and count else str(count)


def print_history(console: Console, deployments: Sequence[Deployment], title: str) -> None:
    table = _table(
        title,
        ("Outcome", "Tag", "Digest", "Started (UTC)", "Duration", "By", "Migrations", "Snapshot", "Deployment"),
    )
    for d in deployments:
        table.add_row(
            outcome(d.outcome),
            escape(image(d)),
            short_digest(d.image_digest),
            when(d.started_at),
            duration(d.duration_seconds),
            escape(started_by(d)),
            migrations_applied(d, latest=False),
            escape(d.snapshot_id or "-"),
            escape(d.deployment_id),
        )
    if fits(console, table):
        console.print(table)
        for d in deployments:
            if d.lint_summary:
                console.print(f"lint {escape(d.deployment_id)}: {escape(d.lint_summary)}")
        return
    console.print(f"{escape(title)} (times UTC)")
    width = max(len(d.outcome) for d in deployments)
    for d in deployments:
        console.print(f"{outcome(d.outcome)}{' ' * (width - len(d.outcome))}  {escape(d.deployment_id)}")
        deployed = f"{escape(image(d))} {short_digest(d.image_digest)}" if d.image_digest else "no image resolved"
        console.print(f"  {deployed}, started {when(d.started_at)} ({duration(d.duration_seconds)})")
        said = [f"by {started_by(d)}"] if d.started_by else []
        said += [f"migrations applied: {migrations_applied(d, latest=True)}"] if d.migrations_applied else []
        if said:
            console.print(f"  {escape('; '.join(said))}")
        if d.lint_summary:
            console.print(f"  lint: {escape(d.lint_summary)}")
        if d.snapshot_id:
            console.print(f"  snapshot {escape(d.snapshot_id)}")


def print_status(console: Console, status: Status, title: str) -> None:
    """The table, or one block per service; then the drift, and the executions running."""
    table = _table(
        title, ("Service", "Task def", "Image", "Tasks", "Deployment", "Tag", "Deployed (UTC)", "Last attempt", "Now")
    )
    for s in status.services:
        deployment = s.current
        table.add_row(
            escape(s.service),
            *_ecs_cells(s, status.repository),
            escape(deployment.deployment_id) if deployment else "[dim]never deployed by this stack[/]",
            escape(image(deployment)) if deployment else "-",
            when(deployment.finished_at or deployment.started_at) if deployment else "-",
            _last_attempt(s),
            _now(s),
        )
    if fits(console, table):
        console.print(table)
        for s in status.services:
            for line in s.drift:
                console.print(f"[bold yellow]Drift[/] {escape(s.service)}: {escape(line)}")
    else:
        console.print(f"{escape(title)} (times UTC)")
        for s in status.services:
            _print_service_block(console, s, status.repository)
    console.print()
    # only when pushes may not deploy: the usual state adds no line (`--json` always has it)
    if status.trigger == "paused":
        console.print("trigger: [yellow]paused[/] (ECR pushes start no deployment until `resume`)")
    elif status.trigger != "enabled":
        console.print(f"trigger: {escape(status.trigger)}")
    _print_running(console, status)


def _print_service_block(console: Console, s: ServiceStatus, repository: str) -> None:
    task_definition, running_image, tasks = _ecs_cells(s, repository)
    console.print(f"[bold]{escape(s.service)}[/]")
    console.print(f"  ECS runs    {task_definition} {running_image}, {tasks} running")
    if s.current is None:
        console.print("  deployment  [dim]never deployed by this stack[/]")
    else:
        d = s.current
        console.print(f"  deployment  {escape(d.deployment_id)}")
        console.print(
            f"  deployed    {escape(image(d))} {short_digest(d.image_digest)}, {when(d.finished_at or d.started_at)}"
        )
    console.print(f"  last        {_last_attempt(s)}")
    console.print(f"  now         {_now(s)}")
    for line in s.drift:
        console.print(f"  [bold yellow]drift[/]       {escape(line)}")


def _ecs_cells(s: ServiceStatus, repository: str) -> tuple[str, str, str]:
    """(task definition revision, image, running/desired) as ECS reports them."""
    if s.ecs.status == "MISSING":
        return "[red]no such service[/]", "-", "-"
    return (
        escape(revision(s.ecs.task_definition)),
        escape(short_image(s.ecs.image(repository))),
        f"{s.ecs.running}/{s.ecs.desired}",
    )


def _last_attempt(s: ServiceStatus) -> str:
    if s.last is None:
        return "-"
    if s.current is not None and s.last.deployment_id == s.current.deployment_id:
        return "[dim]this one[/]"
    return f"{outcome(s.last.outcome)} {escape(s.last.deployment_id)}"


def _now(s: ServiceStatus) -> str:
    """Locked by hand (who, until when, why), deploying (an execution holds the service's lock), ECS
    rolling out (by whoever), or idle."""
    if s.lock:
        return lock_text(s.lock)
    if s.ecs.rolling_out:
        rolling = ", ".join(f"{revision(d.task_definition)} {d.counts()}" for d in s.ecs.deployments)
        return f"[yellow]ECS rolling out[/] {escape(rolling)}"
    return "idle"


def lock_text(lock: ServiceLock) -> str:
    """A held lock in one line: by hand (who, until when, why) or an execution deploying an image."""
    if lock.manual:
        return f"[red]locked[/] by {escape(lock.who)} until {when(lock.expires)} UTC: {escape(lock.reason)}"
    return f"[yellow]deploying[/] {short_digest(lock.digest)} ({escape(lock.holder)})"


def _print_running(console: Console, status: Status) -> None:
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


def print_rollback(console: Console, plan: RollbackPlan, services: Sequence[str]) -> None:
    """What `rollback` is about to do, printed before it starts: the target (tag, digest, when it was
    deployed), what runs now, and, when the target is the newer image, that this moves forward."""
    target = plan.target
    digest = str(target.image_digest)
    names, label = ", ".join(services), f"{escape(target.image_tag or '-')} {short_digest(digest)}"
    if plan.forward is None:
        console.print(f"[bold]Rolling back[/] {names} to deployment {escape(target.deployment_id)}: {label}")
    else:
        console.print(
            f"[bold yellow]Moving {names} FORWARD again[/] to deployment {escape(target.deployment_id)}: {label}"
        )
    console.print(f"  digest     {digest}")
    console.print(f"  deployed   {_deployed(target)}")
    by_deployment: dict[str, list[str]] = {}
    for service, deployment in plan.current.items():
        by_deployment.setdefault(deployment.deployment_id, []).append(service)
    for service_names in by_deployment.values():
        current = plan.current[service_names[0]]
        console.print(
            f"  running    {current.image_tag or '-'} {short_digest(current.image_digest)} on {', '.join(service_names)} "
            f"since {_deployed(current)}"
        )
    if plan.forward is not None:
        newer, older = plan.forward.target, plan.forward.running
        console.print(
            f"[bold yellow]This moves forward, not back[/]: {escape(newer.image_tag or '-')} was deployed "
            f"({_deployed(newer)}) after {escape(older.image_tag or '-')} ({_deployed(older)}), which runs now "
            "because of a rollback; `--to previous` after a rollback undoes it. To go further back, give "
            "`--to DEPLOYMENT_ID` (see `history`)."
        )
    console.print(
        "[bold yellow]The database is not touched[/]: no snapshot, no migration, no verification. "
        "The schema stays as the newer migrations left it; that image must work with it."
    )


def _deployed(deployment: Deployment) -> str:
    rollback = " (a rollback)" if deployment.rollback else ""
    return (
        f"{when(deployment.finished_at or deployment.started_at)} UTC, "
        f"deployment {escape(deployment.deployment_id)}{rollback}"
    )


def print_started(console: Console, started: Started) -> None:
    console.print(f"[bold]Started[/] {escape(started.name)}")
    console.print(f"  input      {escape(json.dumps(started.input))}")
    console.print(f"  execution  {escape(started.arn)}")
    console.print(f"  console    {escape(started.console_url)}")
