"""Fail fast, with a message saying what to do, when the suite has no PostgreSQL to talk to."""

from __future__ import annotations

import os
import sys

import psycopg2

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def main() -> int:
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_URL)
    try:
        psycopg2.connect(url, connect_timeout=5).close()
    except psycopg2.OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(
            "error: the test suite needs a real PostgreSQL it may create databases in.\n"
            f"  tried: {url.split('@')[-1]} ({first_line})\n"
            "  start one on 127.0.0.1:5432 (user postgres, trust auth), e.g. `sudo apt-get install postgresql`,\n"
            "  or point TEST_DATABASE_URL at one: TEST_DATABASE_URL=postgresql://user:pass@host:5432/postgres make test",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
