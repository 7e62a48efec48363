"""Turn database errors and database text into short, single-line evidence for a check's detail.

Details travel in the Step Functions state and in an SNS message, so every piece is bounded.
"""

from __future__ import annotations

from datetime import UTC, datetime

DETAIL_TEXT_LIMIT = 200


def first_line(exc: BaseException) -> str:
    """PostgreSQL's primary message ("canceling statement due to statement timeout"), else str()'s first line."""
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None)
    if isinstance(primary, str) and primary.strip():
        return shorten(primary)
    for line in str(exc).splitlines():
        if line.strip():
            return shorten(line)
    return type(exc).__name__


def shorten(text: str, limit: int = DETAIL_TEXT_LIMIT) -> str:
    """One line, at most `limit` characters, marked when cut."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def log_summary(logs: str | None, limit: int = DETAIL_TEXT_LIMIT) -> str:
    """The telling part of a migration tool's log: its first two non-empty lines that are not headers.

    Prisma's WASM engine writes "external connector error" then the cause ("No such table: nope");
    its native engine writes "Database error code: 42P01", a "Database error:" header, then the
    message. The first line alone would hide the cause in the first case.
    """
    if not logs:
        return ""
    lines = [line.strip() for line in logs.splitlines()]
    telling = [line for line in lines if line and not line.endswith(":")][:2]
    return shorten(" — ".join(telling), limit)


def stamp(moment: datetime | None) -> str:
    """A timestamp for a detail: UTC with "Z" when the column has a time zone, as stored when it has none."""
    if moment is None:
        return "?"
    if moment.tzinfo is None:
        return f"{moment:%Y-%m-%d %H:%M:%S}"
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z"
