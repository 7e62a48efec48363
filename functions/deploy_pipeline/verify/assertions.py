"""Operator-written SQL assertions: "this query returns at least one row" after the migration.

They come from the stack's configuration and run verbatim (there is nothing to bind), each alone
in its own read-only, time-boxed transaction that is rolled back afterwards. An assertion that
errors is a failed check carrying PostgreSQL's message, and the next assertion still runs.
psycopg2 fetches a query's whole result, so assertions are best written to return one row at
most (`SELECT 1 FROM orders WHERE ... LIMIT 1`); the statement timeout bounds the rest.
"""

from __future__ import annotations

from collections.abc import Sequence

from deploy_pipeline.models.state import CheckOutcome
from deploy_pipeline.verify.evidence import shorten
from deploy_pipeline.verify.read_only import QueryFailed, ReadOnlySession
from deploy_pipeline.verify.single_statement import statements

QUOTED_SQL_LIMIT = 120


def assertion_name(index: int) -> str:
    """1-based, as an operator counts the lines of the VerifyAssertions parameter."""
    return f"assertion[{index}]"


def run_assertions(session: ReadOnlySession, assertions: Sequence[str]) -> list[CheckOutcome]:
    return [run_assertion(session, index, sql) for index, sql in enumerate(assertions, start=1)]


def run_assertion(session: ReadOnlySession, index: int, sql: str) -> CheckOutcome:
    name = assertion_name(index)
    quoted = shorten(sql, QUOTED_SQL_LIMIT)
    parts = statements(sql)
    if len(parts) != 1:
        problem = "is empty" if not parts else f"holds {len(parts)} statements; an assertion must be one query"
        return CheckOutcome(name=name, passed=False, detail=f"{problem}: {quoted}")
    try:
        row = session.fetch_one(parts[0])
    except QueryFailed as exc:
        return CheckOutcome(name=name, passed=False, detail=f"{exc} (in: {quoted})")
    finally:
        session.end_transaction()
    if row is None:
        return CheckOutcome(name=name, passed=False, detail=f"returned no rows: {quoted}")
    return CheckOutcome(name=name, passed=True, detail=quoted)
