"""Fixtures of the rehearsal tests."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg2
import pytest
from psycopg2 import sql

from tests.support.postgres import server_url


@pytest.fixture
def kept() -> Iterator[list[str]]:
    """Databases a test asked rehearse to keep; dropped afterwards."""
    names: list[str] = []
    yield names
    admin = psycopg2.connect(server_url())
    admin.autocommit = True
    with admin.cursor() as cur:
        for name in names:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    admin.close()
