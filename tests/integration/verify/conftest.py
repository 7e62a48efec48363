"""A scratch PostgreSQL database per test, for the verifier's integration tests.

Self-contained on purpose (tests/conftest.py may grow a shared version; these fixtures have their
own names so both can coexist). No PostgreSQL is a failure, not a skip: a verifier "tested"
without a database has not been tested.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import psycopg2
import psycopg2.extensions
import pytest
from psycopg2 import sql

from tests.integration.verify.scratch_db import RecordingConnection, VerifyDb, server_url


def _admin_connection() -> psycopg2.extensions.connection:
    try:
        connection = psycopg2.connect(server_url(), connect_timeout=5)
    except psycopg2.OperationalError as exc:
        reason = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        pytest.fail(
            f"the verifier's integration tests need a PostgreSQL they may create databases in; "
            f"none reachable at {server_url().rsplit('@', 1)[-1]} ({reason}). Start one on 127.0.0.1:5432 "
            "(user postgres, trust auth) or set TEST_DATABASE_URL=postgresql://user:password@host:5432/postgres",
            pytrace=False,
        )
    connection.autocommit = True
    return connection


@pytest.fixture
def verify_db() -> Iterator[VerifyDb]:
    """A database created for this test (emd_test_<random>) and dropped after it, with its connection."""
    name = f"emd_test_{uuid.uuid4().hex[:12]}"
    admin = _admin_connection()
    with admin.cursor() as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = f"{server_url().rsplit('/', 1)[0]}/{name}"
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        yield VerifyDb(name=name, url=url, conn=conn)
    finally:
        conn.close()
        with admin.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()


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
