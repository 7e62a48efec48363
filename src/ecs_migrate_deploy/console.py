"""How an execution's progress is printed, in one place, so `rehearse` and `watch` look the same;
and a console fit for CI logs (`ci_console`)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

from rich.console import Console
from rich.markup import escape

from ecs_migrate_deploy.progress import StateLine


def plain_output(environ: Mapping[str, str], stream: TextIO) -> bool:
    """Whether to write plain text: not a terminal, or NO_COLOR (no-color.org) or CI set.

    CI logs (GitHub Actions sets CI=true) are read in a browser, grepped and stored: plain text there,
    even when FORCE_COLOR or TTY_COMPATIBLE would make rich write escape sequences.
    """
    ci = environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):
        terminal = False
    return ci or environ.get("NO_COLOR", "") != "" or not terminal


def ci_console(stderr: bool = False) -> Console:
    """A console whose output is fit for CI logs when `plain_output` says so: no escape sequence at all
    (no colour, no bold, no cursor movement), no emoji codes turned into emoji, lines never wrapped."""
    stream = sys.stderr if stderr else sys.stdout
    if plain_output(os.environ, stream):
        return Console(
            stderr=stderr,
            highlight=False,
            soft_wrap=True,
            force_terminal=False,
            force_interactive=False,
            color_system=None,
            no_color=True,
            emoji=False,
        )
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


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

    def pending(self, phase: str, elapsed: str, text: str) -> None:
        """A progress line during a long wait: the phase, the time since the start, what it waits for."""
        if not self.quiet:
            self.console.print(f" {_MARKS['waited']} {phase:<18} {elapsed:>7}  {escape(text)}")

    def note(self, text: str) -> None:
        if not self.quiet:
            self.console.print(f"   [dim]{escape(text)}[/]")
