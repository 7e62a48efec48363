"""Where a statement ends, as PostgreSQL sees it: the guard that keeps an assertion to one query."""

from __future__ import annotations

import pytest
from deploy_pipeline.verify.single_statement import statements


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1",
        "SELECT 1;",
        "  SELECT 1 ;  -- done; really\n",
        "SELECT ';' AS semicolon",
        "SELECT 'it''s; fine'",
        "SELECT E'back\\'slash; still quoted'",
        'SELECT 1 AS "odd;name"',
        "SELECT $$ a; b $$",
        "SELECT $body$ ; $inner$ ; $inner$ ; $body$",
        "SELECT 1 /* a; /* nested; */ still comment; */",
        "SELECT 1 -- trailing; comment",
        "SELECT price$1 FROM t",  # `$` inside an identifier starts no dollar quote
        "SELECT 'unterminated; literal",  # the server reports the syntax error, as one statement
    ],
)
def test_one_statement(sql: str) -> None:
    assert len(statements(sql)) == 1


@pytest.mark.parametrize(
    ("sql", "count"),
    [
        ("SELECT 1; COMMIT; DELETE FROM orders", 3),
        ("SELECT 'a\\'; DELETE FROM orders; SELECT '", 3),  # standard strings: the backslash escapes nothing
        ("SELECT 1; -- comment\nDELETE FROM orders", 2),
        ("SELECT $$x$$; DELETE FROM orders", 2),
        ("SELECT 1 /* c */; SELECT 2", 2),
    ],
)
def test_several_statements(sql: str, count: int) -> None:
    assert len(statements(sql)) == count


@pytest.mark.parametrize("sql", ["", "   ", ";", "-- only a comment", "/* nothing */ ;"])
def test_no_statement(sql: str) -> None:
    assert statements(sql) == []
