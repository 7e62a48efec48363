"""The `ecs-migrate-deploy` command: rehearse a deployment locally (more operator commands to come)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from ecs_migrate_deploy.progress import StateLine

app = typer.Typer(add_completion=False, no_args_is_help=True, help="A release phase for Amazon ECS.")
ROOT = Path(__file__).resolve().parents[2]


@app.callback()
def _main() -> None:
    """ecs-migrate-deploy: snapshot, migrate, verify and roll out every new image."""


@app.command()
def rehearse(
    migrations: Annotated[
        Path, typer.Option(help="Project folder with the migrations (Prisma migrations/ or alembic.ini).")
    ] = ROOT / "examples" / "shop",
    event: Annotated[
        Path | None, typer.Option(help="An ECR push event or a manual input (JSON), validated as in AWS.")
    ] = None,
    tag: Annotated[str | None, typer.Option(help="Deploy this tag (manual start). Default: v1.1.0.")] = None,
    parameter: Annotated[
        list[str] | None, typer.Option("--parameter", "-p", help="Template parameter override KEY=VALUE (repeatable).")
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="PostgreSQL server to create the scratch database on (default: TEST_DATABASE_URL, DATABASE_URL, 127.0.0.1:5432)."
        ),
    ] = None,
    migrate_command: Annotated[
        str | None, typer.Option(help="Command that applies the migrations (default: chosen from the folder).")
    ] = None,
    scenario: Annotated[
        str, typer.Option(help="Make emulated AWS misbehave: none, rollout-fails, task-fails-to-start.")
    ] = "none",
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of the live view.")
    ] = False,
    keep_database: Annotated[
        bool, typer.Option(help="Keep the scratch database afterwards (its name is printed) instead of dropping it.")
    ] = False,
) -> None:
    """Run the real pipeline on this machine: emulated AWS, the real ASL, a real PostgreSQL."""
    from ecs_migrate_deploy.rehearse import UsageError, load_input, parse_parameters
    from ecs_migrate_deploy.rehearse import rehearse as run_rehearsal

    console = Console(stderr=json_output, highlight=False, soft_wrap=True)
    quiet = json_output

    def on_state(line: StateLine) -> None:
        if quiet:
            return
        mark = {"ok": "[green]✓[/]", "failed": "[red]✗[/]", "waited": "[dim]…[/]"}[line.status]
        detail = escape(line.detail)
        console.print(f" {mark} {line.name:<18} [dim]{line.seconds:6.2f}s[/]  {detail}")

    def on_output(text: str) -> None:
        if not quiet:
            console.print(f"   [dim]│[/] {escape(text)}")

    def on_note(text: str) -> None:
        if not quiet:
            console.print(f"   [dim]{escape(text)}[/]")

    try:
        params = parse_parameters(parameter or [])
        raw = load_input(event, tag)
        if not quiet:
            console.print(f"[bold]Rehearsing[/] {escape(json.dumps(raw)[:120])} with migrations from {migrations}")
        result = run_rehearsal(
            migrations=migrations,
            raw_input=raw,
            parameters=params,
            database_url=database_url,
            migrate_command=migrate_command,
            scenario=scenario,
            keep_database=keep_database,
            on_state=on_state,
            on_output=on_output,
            on_note=on_note,
        )
    except UsageError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if json_output:
        sys.stdout.write(json.dumps(result.as_json(), default=str) + "\n")
        raise typer.Exit(result.exit_code)
    record = result.record or {}
    colour = "green" if result.exit_code == 0 else "red"
    console.print()
    console.print(f"[bold {colour}]{result.outcome}[/]  ({result.report.status})")
    if record.get("image_uri"):
        console.print(f"  image     {record['image_uri']}")
    if record.get("snapshot_id"):
        console.print(f"  snapshot  {record['snapshot_id']}")
    diff = (record.get("verification") or {}).get("schema_diff") or {}
    for kind in ("added", "removed", "changed"):
        if diff.get(kind):
            console.print(f"  schema    {kind}: {escape(schema_summary(diff[kind]))}")
    if result.exit_code:
        console.print(f"  [red]{escape(result.report.error or '')}[/]: {escape(result.report.cause or '')}")
    phases = "  ".join(f"{name} {seconds:.2f}s" for name, seconds in result.phases.items())
    console.print(
        f"  time      {result.report.wall_seconds:.2f}s wall, migrator {result.migrator_seconds:.2f}s; {phases}"
    )
    console.print(f"  database  scratch database {result.database} ({'kept' if keep_database else 'dropped'})")
    raise typer.Exit(result.exit_code)


def schema_summary(objects: list[str]) -> str:
    """`table:public.x`, `column:public.x.y`, ... -> "2 tables, 7 columns (tables: x, y)"."""
    counts: dict[str, int] = {}
    tables = []
    for item in objects:
        kind, _, name = item.partition(":")
        counts[kind] = counts.get(kind, 0) + 1
        if kind == "table":
            tables.append(name.removeprefix("public."))
    text = ", ".join(
        f"{n} {kind}{'es' if kind == 'index' and n != 1 else 's' if n != 1 else ''}" for kind, n in counts.items()
    )
    return text + (f" (tables: {', '.join(tables)})" if tables else "")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
