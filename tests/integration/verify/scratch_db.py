"""The scratch database handle and a statement-recording connection, shared by the verify tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg2
import psycopg2.extensions


@dataclass(frozen=True)
class VerifyDb:
    """The scratch database: `conn` is autocommit, for setting up fixtures; `url` for subprocesses."""

    name: str
    url: str
    conn: psycopg2.extensions.connection

    def execute(self, statement: str, params: Any = None) -> None:
        with self.conn.cursor() as cur:
            cur.execute(statement, params)

    def rows(self, query: str, params: Any = None) -> list[tuple[Any, ...]]:
        with self.conn.cursor() as cur:
            cur.execute(query, params)
            return list(cur.fetchall())

    def connect(self, **kwargs: Any) -> psycopg2.extensions.connection:
        """A fresh connection (not autocommit), as the verify Lambda gets one."""
        return psycopg2.connect(self.url, **kwargs)


class RecordingCursor(psycopg2.extensions.cursor):
    """Counts what the code under test sends, instead of guessing it."""

    def execute(self, query: Any, vars: Any = None) -> Any:
        self.connection.statements.append(str(query))
        return super().execute(query, vars)


class RecordingConnection(psycopg2.extensions.connection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.statements: list[str] = []
        self.rollbacks = 0

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cursor_factory", RecordingCursor)
        return super().cursor(*args, **kwargs)

    def rollback(self) -> None:
        self.rollbacks += 1
        super().rollback()
