"""Read-only, time-boxed transactions: the only way the verifier talks to the database.

The verifier runs against production right after a migration. Whatever it runs (its own catalog
queries or an operator's assertion) must not be able to change data, hold a lock the application
is waiting for, or run for minutes. PostgreSQL enforces all three inside a transaction started
with `SET TRANSACTION READ ONLY` and transaction-local `statement_timeout` / `lock_timeout`; every
transaction ends in a rollback, so nothing it did, even setting a variable, outlives it.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any, Literal

import psycopg2
import psycopg2.extensions

from deploy_pipeline.errors import DatabaseUnreachable
from deploy_pipeline.verify.evidence import first_line

Isolation = Literal["read committed", "repeatable read"]
Row = tuple[Any, ...]

_START = {
    # Constants, chosen by key: nothing from input is ever formatted into SQL here.
    "read committed": "SET TRANSACTION ISOLATION LEVEL READ COMMITTED, READ ONLY",
    "repeatable read": "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",
}
# set_config(..., true) is `SET LOCAL` with bind parameters. standard_conforming_strings is pinned
# so the server reads backslashes in quotes the way the assertion guard (single_statement.py) does.
_LIMITS = (
    "SELECT set_config('statement_timeout', %s, true), set_config('lock_timeout', %s, true),"
    " set_config('standard_conforming_strings', 'on', true)"
)


class QueryFailed(Exception):
    """A verification query failed; str() is PostgreSQL's first line, fit for a check's detail."""


class ReadOnlySession:
    """Runs queries in read-only transactions on a caller's idle connection, then gives it back as found.

    A failed query aborts its transaction; the session rolls back at once and opens a new one for
    the next query, so one bad assertion never poisons the checks after it.
    """

    def __init__(
        self,
        connection: psycopg2.extensions.connection,
        *,
        statement_timeout_ms: int,
        isolation: Isolation = "read committed",
    ) -> None:
        if statement_timeout_ms <= 0:
            raise ValueError("statement_timeout_ms must be positive: 0 would switch the timeout off")
        self._connection = connection
        self._statement_timeout_ms = statement_timeout_ms
        # Half the statement budget: a lock wait then fails with its own, clearer message.
        self._lock_timeout_ms = max(statement_timeout_ms // 2, 1)
        self._isolation = isolation
        params = connection.get_dsn_parameters() if not connection.closed else {}
        self._where = f"{params.get('host', '?')}:{params.get('port', '?')}/{params.get('dbname', '?')}"
        self._in_transaction = False
        self._autocommit = False

    def __enter__(self) -> ReadOnlySession:
        status = self._connection.info.transaction_status
        if status != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
            # Starting read-only needs a fresh transaction; rolling back the caller's work is not ours to do.
            raise ValueError("the verifier needs a connection with no transaction open (commit or roll back first)")
        self._autocommit = self._connection.autocommit
        self._connection.autocommit = False
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._connection.closed:
            return
        self.end_transaction()
        self._connection.autocommit = self._autocommit

    def fetch(self, query: str, params: Sequence[object] | None = None) -> list[Row]:
        """All rows of one statement (none for a statement without a result), in the current transaction.

        `params=None` keeps psycopg2 from reading `%` in the query as a placeholder: assertions are
        run verbatim.
        """
        if not self._in_transaction:
            self._begin()
        try:
            with self._connection.cursor() as cursor:
                cursor.execute(query, params)
                return list(cursor.fetchall()) if cursor.description is not None else []
        except psycopg2.Error as exc:
            raise self._failed(exc) from None

    def fetch_one(self, query: str, params: Sequence[object] | None = None) -> Row | None:
        """The first row only: for assertions, whose only question is "is there a row?"."""
        if not self._in_transaction:
            self._begin()
        try:
            with self._connection.cursor() as cursor:
                cursor.execute(query, params)
                return cursor.fetchone() if cursor.description is not None else None
        except psycopg2.Error as exc:
            raise self._failed(exc) from None

    def end_transaction(self) -> None:
        """Roll back: releases every lock and snapshot; the next query opens a new transaction."""
        if (
            self._in_transaction
            or self._connection.info.transaction_status != psycopg2.extensions.TRANSACTION_STATUS_IDLE
        ):
            try:
                self._connection.rollback()
            except psycopg2.Error as exc:
                raise self._unreachable(exc) from None
        self._in_transaction = False

    def _begin(self) -> None:
        try:
            with self._connection.cursor() as cursor:
                cursor.execute(_START[self._isolation])
                cursor.execute(_LIMITS, (str(self._statement_timeout_ms), str(self._lock_timeout_ms)))
        except psycopg2.Error as exc:
            if self._connection.closed:
                raise self._unreachable(exc) from None
            self._connection.rollback()
            raise QueryFailed(f"could not start a read-only transaction: {first_line(exc)}") from None
        self._in_transaction = True

    def _failed(self, exc: psycopg2.Error) -> Exception:
        """A lost connection is not a failed check: the caller learns the database went away."""
        if self._connection.closed:
            return self._unreachable(exc)
        self.end_transaction()
        return QueryFailed(first_line(exc))

    def _unreachable(self, exc: psycopg2.Error) -> DatabaseUnreachable:
        self._in_transaction = False
        return DatabaseUnreachable(f"lost the connection to {self._where} during verification: {first_line(exc)}")
