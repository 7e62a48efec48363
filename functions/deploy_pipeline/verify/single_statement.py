"""Refuse an assertion that holds more than one SQL statement, before it reaches the server.

psycopg2 sends a query with the simple protocol, which runs every `;`-separated statement in it.
"SELECT 1; COMMIT; DELETE FROM orders" would end the read-only transaction and run the DELETE in a
new, writable one. So an assertion must be exactly one statement; telling where a statement ends
takes a small lexer that knows PostgreSQL's quoting: a `;` inside '...', E'...', "...", $tag$...$tag$
or a comment ends nothing. The session pins standard_conforming_strings on, so the server reads
backslashes in plain quotes the same way this lexer does.
"""

from __future__ import annotations

import re

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_\x80-\uffff][A-Za-z0-9_\x80-\uffff]*)?\$")
_IDENTIFIER_CHAR = re.compile(r"[A-Za-z0-9_$\x80-\uffff]")


def statements(sql: str) -> list[str]:
    """The statements of `sql`, split at top-level semicolons, without those holding only blanks and comments."""
    parts: list[str] = []
    start = 0
    i = 0
    n = len(sql)
    has_code = False
    while i < n:
        char = sql[i]
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        if sql.startswith("/*", i):
            i = _skip_block_comment(sql, i)
            continue
        if char == ";":
            if has_code:
                parts.append(sql[start:i].strip())
            start, has_code = i + 1, False
            i += 1
            continue
        if not char.isspace():
            has_code = True
        if char == "'":
            escapes = i > 0 and sql[i - 1] in "eE" and (i < 2 or not _IDENTIFIER_CHAR.match(sql[i - 2]))
            i = _skip_quoted(sql, i, "'", backslash_escapes=escapes)
        elif char == '"':
            i = _skip_quoted(sql, i, '"', backslash_escapes=False)
        elif char == "$" and (i == 0 or not _IDENTIFIER_CHAR.match(sql[i - 1])):
            tag = _DOLLAR_TAG.match(sql, i)
            if tag is None:
                i += 1
            else:
                end = sql.find(tag.group(0), tag.end())
                i = n if end < 0 else end + len(tag.group(0))
        else:
            i += 1
    if has_code:
        parts.append(sql[start:].strip())
    return parts


def _skip_quoted(sql: str, i: int, quote: str, *, backslash_escapes: bool) -> int:
    """Index after the closing quote (a doubled quote is an escaped one); end of text if unterminated."""
    i += 1
    n = len(sql)
    while i < n:
        char = sql[i]
        if backslash_escapes and char == "\\":
            i += 2
            continue
        if char == quote:
            if i + 1 < n and sql[i + 1] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    return n


def _skip_block_comment(sql: str, i: int) -> int:
    """Index after the comment; PostgreSQL's block comments nest."""
    depth = 0
    n = len(sql)
    while i < n:
        if sql.startswith("/*", i):
            depth += 1
            i += 2
        elif sql.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return n
