"""The end of a rehearsal as the live view prints it: outcome, image, snapshot, schema changes, the
failure without what the live view already showed, drift, the estimate and locks measured on a copy,
and where the time went. (The operator commands print through operator/render.py.)"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from ecs_migrate_deploy.rehearse import RehearsalResult


def print_rehearsal(console: Console, result: RehearsalResult, shown: set[str]) -> None:
    """`shown`: the migrator's lines the live view printed (the failure leaves them out)."""
    record = result.record or {}
    colour = "green" if result.exit_code == 0 else "red"
    console.print()
    console.print(f"[bold {colour}]{result.outcome}[/]  ({result.report.status})")
    if record.get("image_uri"):
        console.print(f"  image     {record['image_uri']}")
    if record.get("snapshot_id"):
        console.print(f"  snapshot  {record['snapshot_id']}")
    verification = record.get("verification") or {}
    for kind in ("added", "removed", "changed"):
        counts = (verification.get("schema_counts") or {}).get(kind)
        if counts:
            listed = (verification.get("schema_diff") or {}).get(kind) or []
            console.print(f"  schema    {kind}: {escape(schema_summary(counts, listed))}")
    if result.exit_code:
        for number, line in enumerate(failure_lines(result.report.error or "", result.report.cause or "", shown)):
            console.print(f"  [red]{escape(line)}[/]" if number == 0 else f"  {escape(line)}")
    for name in result.drift:
        console.print(
            f"  [yellow]drift[/]     {escape(name)}: migration.sql changed after it was applied "
            "(the checksum in _prisma_migrations differs from the file)"
        )
    if result.locks is not None:  # a rehearsal on a copy (--from-database)
        console.print(
            f"  estimate  the migration took {result.migrator_seconds:.2f}s on {escape(result.base[0])}; "
            "production's size and load differ"
        )
        locks = result.locks or {}
        for line in locks.get("lines") or ["no lock stronger than ROW EXCLUSIVE was seen"]:
            console.print(f"  locks     {escape(line)}")
        if locks.get("incomplete"):
            console.print(f"  locks     [yellow]sampling stopped early[/]: {escape(locks['incomplete'])}")
        console.print(f"            ({escape(str(locks.get('note', '')))})")
    phases = "  ".join(f"{name} {seconds:.2f}s" for name, seconds in result.phases.items())
    console.print(f"  time      {result.wall_seconds:.2f}s wall, migrator {result.migrator_seconds:.2f}s; {phases}")
    console.print(f"  database  scratch database {result.database} ({'kept' if result.database_kept else 'dropped'})")


def failure_lines(error: str, cause: str, shown: set[str]) -> list[str]:
    """The failure, its error named once, without the log lines the live view already showed.

    The recorded cause starts "Failed: MigrationFailed: …" (or "Rolled back: …"): it names the error
    itself, so the error is put in front only when it does not. Lines of the migrator's output (the
    cause repeats its last ones for whoever reads it in AWS) are left out, the database's own error
    and what to do next are kept.
    """
    lines = [line for line in cause.splitlines() if line.strip()]
    if not lines:
        return [error or "failed"]
    if error and error not in lines[0]:
        lines[0] = f"{error}: {lines[0]}"
    return [lines[0]] + [line for line in lines[1:] if line != "Last log lines:" and line not in shown]


def schema_summary(counts: dict[str, int], listed: list[str]) -> str:
    """{"table": 2, "column": 7} and the listed keys -> "2 tables, 7 columns (tables: x, y)".

    The counts are Verify's real ones; the names come from its list, which stops at 50 entries.
    """
    text = ", ".join(
        f"{n} {kind}{'es' if kind == 'index' and n != 1 else 's' if n != 1 else ''}" for kind, n in counts.items()
    )
    tables = [name.removeprefix("public.") for kind, _, name in (k.partition(":") for k in listed) if kind == "table"]
    more = "" if len(tables) == counts.get("table", 0) else ", …"
    return text + (f" (tables: {', '.join(tables)}{more})" if tables else "")
