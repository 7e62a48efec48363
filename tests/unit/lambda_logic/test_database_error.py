"""The database's own error, found in what migrators print, however much SQL or backtrace follows it."""

from __future__ import annotations

import pytest
from deploy_pipeline.aws.task_logs import database_error

# Prisma's native schema engine (P3018, as `prisma migrate deploy` prints it).
PRISMA_NATIVE = """\
Applying migration `20250320100000_add_not_null_sku`
Error: P3018

A migration failed to apply. New migrations cannot be applied before the error is recovered from. Read more about how to resolve migration issues in a production database: https://pris.ly/d/migrate-resolve

Migration name: 20250320100000_add_not_null_sku

Database error code: 23502

Database error:
ERROR: column "sku" of relation "Product" contains null values

DbError { severity: "ERROR", parsed_severity: Some(Error), code: SqlState(E23502) }""".splitlines()

# Alembic through SQLAlchemy: a traceback, then the driver's exception, then the SQL.
ALEMBIC = """\
INFO  [alembic.runtime.migration] Running upgrade 2b3c -> 3c4d, add sku
Traceback (most recent call last):
  File "/app/.venv/bin/alembic", line 8, in <module>
    sys.exit(main())
sqlalchemy.exc.IntegrityError: (psycopg.errors.NotNullViolation) column "sku" of relation "product" contains null values
[SQL: ALTER TABLE product ADD COLUMN sku VARCHAR NOT NULL]
(Background on this error at: https://sqlalche.me/e/20/gkpj)""".splitlines()


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (PRISMA_NATIVE, 'ERROR: column "sku" of relation "Product" contains null values'),
        (ALEMBIC, 'sqlalchemy.exc.IntegrityError: (psycopg.errors.NotNullViolation) column "sku" of relation'),
        (
            ['psql:001.sql:3: ERROR:  relation "users" already exists', "ERROR:  second"],
            'psql:001.sql:3: ERROR:  relation "users" already exists',
        ),
        (
            ["Error: P3009", "", "migrate found failed migrations in the target database"],
            "P3009: migrate found failed migrations in the target database",
        ),
        (["All migrations have been successfully applied."], None),
    ],
)
def test_the_first_database_error_wins(lines: list[str], expected: str | None) -> None:
    found = database_error(lines)
    assert found == expected if expected is None else found is not None and found.startswith(expected)


def test_a_line_of_sql_that_merely_mentions_error_is_not_the_error() -> None:
    assert database_error(["INSERT INTO log (level) VALUES ('ERROR');", "CREATE TABLE errors (id int);"]) is None
