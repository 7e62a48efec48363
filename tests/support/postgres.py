"""The real PostgreSQL the tests talk to: its server URL, and scratch databases created and dropped on it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg2
import pytest
from psycopg2 import sql

from ecs_migrate_deploy.emulation.world import DbSecret

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def server_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_SERVER_URL)


@dataclass(frozen=True)
class ScratchDatabase:
    name: str
    url: str
    host: str
    port: int
    user: str
    password: str

    def connect(self) -> psycopg2.extensions.connection:
        connection = psycopg2.connect(self.url)
        connection.autocommit = True
        return connection

    def secret(self, username: str | None = None, password: str | None = None) -> DbSecret:
        """The emulated RDS secret naming this database (as its owner, or as `username`)."""
        return DbSecret(
            username=username or self.user,
            password=password or self.password or "postgres",
            host=self.host,
            port=self.port,
            dbname=self.name,
        )


def _admin_connection() -> psycopg2.extensions.connection:
    try:
        connection = psycopg2.connect(server_url(), connect_timeout=5)
    except psycopg2.OperationalError as exc:
        pytest.fail(
            f"no PostgreSQL reachable at {server_url().split('@')[-1]} ({str(exc).strip().splitlines()[0]}): "
            "start one on 127.0.0.1:5432 or set TEST_DATABASE_URL",
            pytrace=False,
        )
    connection.autocommit = True
    return connection


@contextmanager
def scratch_database_named(prefix: str) -> Iterator[ScratchDatabase]:
    """`<prefix>_<random>`, created now and dropped on exit."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = _admin_connection()
    with admin.cursor() as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    params = admin.get_dsn_parameters()
    password = admin.info.password or ""
    base = server_url().rsplit("/", 1)[0]
    try:
        yield ScratchDatabase(
            name=name,
            url=f"{base}/{name}",
            host=params.get("host", "127.0.0.1"),
            port=int(params.get("port", 5432)),
            user=params.get("user", "postgres"),
            password=password,
        )
    finally:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()
