"""Fixtures of the verifier's integration tests, on the shared scratch database (tests/conftest.py).

No PostgreSQL is a failure, not a skip: a verifier "tested" without a database has not been tested.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg2
import psycopg2.extensions
import pytest

from tests.integration.verify.scratch_db import RecordingConnection, VerifyDb
from tests.support.postgres import ScratchDatabase

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything here needs the server: `-m "not postgres"` deselects it."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.postgres)


@pytest.fixture
def verify_db(scratch_database: ScratchDatabase) -> Iterator[VerifyDb]:
    """The shared scratch database (tests/conftest.py) with an autocommit connection for fixtures."""
    conn = scratch_database.connect()
    try:
        yield VerifyDb(name=scratch_database.name, url=scratch_database.url, conn=conn)
    finally:
        conn.close()


@pytest.fixture
def recording_connect(verify_db: VerifyDb) -> Iterator[Callable[[], RecordingConnection]]:
    """Connections to the scratch database that record every statement and rollback they are sent."""
    opened: list[RecordingConnection] = []

    def open_connection() -> RecordingConnection:
        connection = psycopg2.connect(verify_db.url, connection_factory=RecordingConnection)
        opened.append(connection)
        return connection

    yield open_connection
    for connection in opened:
        connection.close()


@pytest.fixture
def verify_conn(verify_db: VerifyDb) -> Iterator[psycopg2.extensions.connection]:
    """The connection handed to run_verification: fresh, not autocommit, like the Lambda's."""
    connection = verify_db.connect()
    yield connection
    connection.close()
