"""How an execution's progress is printed, in one place, so `rehearse` and `watch` look the same."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console
from rich.markup import escape

from ecs_migrate_deploy.progress import StateLine

_MARKS = {"ok": "[green]✓[/]", "failed": "[red]✗[/]", "waited": "[dim]…[/]"}


@dataclass
class ProgressPrinter:
    """Callbacks for ProgressTracker and friends; `quiet` keeps stdout free for JSON output."""

    console: Console
    quiet: bool = False

    def state(self, line: StateLine) -> None:
        if not self.quiet:
            self.console.print(
                f" {_MARKS[line.status]} {line.name:<18} [dim]{line.seconds:6.2f}s[/]  {escape(line.detail)}"
            )

    def output(self, text: str) -> None:
        """A line the migration command printed."""
        if not self.quiet:
            self.console.print(f"   [dim]│[/] {escape(text)}")

    def note(self, text: str) -> None:
        if not self.quiet:
            self.console.print(f"   [dim]{escape(text)}[/]")
