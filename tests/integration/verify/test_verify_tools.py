"""The `none` tool, unknown tool names, and the registry."""

from __future__ import annotations

import psycopg2.extensions
import pytest
from deploy_pipeline.errors import ConfigurationError
from deploy_pipeline.verify import VERIFIERS, run_verification

from tests.integration.verify.results import detail

Conn = psycopg2.extensions.connection


def test_none_runs_only_assertions(verify_conn: Conn) -> None:
    result = run_verification(verify_conn, tool="none", assertions=["SELECT 1"])

    assert result.passed
    assert [c.name for c in result.checks] == ["assertion[1]"]


def test_none_refuses_to_vouch_for_an_expected_migration(verify_conn: Conn) -> None:
    result = run_verification(verify_conn, tool="none", expected_migration="0042")

    assert not result.passed
    assert "keeps no bookkeeping table" in detail(result, "expected-migration")


def test_unknown_tool_is_a_configuration_error(verify_conn: Conn) -> None:
    with pytest.raises(ConfigurationError, match="unknown verify tool 'liquibase'; known: alembic, django"):
        run_verification(verify_conn, tool="liquibase")


def test_every_documented_tool_has_a_verifier() -> None:
    assert sorted(VERIFIERS) == ["alembic", "django", "flyway", "golang-migrate", "none", "prisma", "rails"]
