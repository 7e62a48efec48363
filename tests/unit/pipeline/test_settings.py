"""The stack's configuration: parsed from the environment, with errors naming the variable."""

from __future__ import annotations

import pytest
from deploy_pipeline.errors import ConfigurationError
from deploy_pipeline.settings import get_settings

ENV = {
    "STACK_NAME": "shop-deploy",
    "CLUSTER_NAME": "prod",
    "SERVICE_NAMES": "web, worker",
    "REPOSITORY_NAME": "shop/app",
    "TAG_PREFIX": "",
    "MIGRATION_CONTAINER": "app",
    "MIGRATION_COMMAND": "sh -c 'npx prisma migrate deploy && echo done'",
    "DB_INSTANCE_IDENTIFIER": "",
    "DB_CLUSTER_IDENTIFIER": "shop-aurora",
    "DB_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db",
    "VERIFY_ASSERTIONS": "SELECT 1 FROM a;;SELECT 2 FROM b",
    "ALLOW_SKIP_SNAPSHOT": "false",
    "TABLE_NAME": "t",
    "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:t",
}


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_environment_is_parsed(environ: pytest.MonkeyPatch) -> None:
    settings = get_settings()
    assert settings.service_names == ["web", "worker"]
    assert settings.migration_command == ["sh", "-c", "npx prisma migrate deploy && echo done"]
    assert settings.db_cluster_identifier == "shop-aurora" and settings.db_instance_identifier is None
    assert settings.tag_prefix is None
    assert settings.verify_assertions == ["SELECT 1 FROM a", "SELECT 2 FROM b"]
    assert settings.allow_skip_snapshot is False


def test_both_databases_is_a_configuration_error(environ: pytest.MonkeyPatch) -> None:
    environ.setenv("DB_INSTANCE_IDENTIFIER", "shop-db")
    with pytest.raises(ConfigurationError, match="exactly one of DB_INSTANCE_IDENTIFIER"):
        get_settings()


def test_missing_variable_is_named(environ: pytest.MonkeyPatch) -> None:
    environ.delenv("CLUSTER_NAME")
    with pytest.raises(ConfigurationError, match="CLUSTER_NAME"):
        get_settings()
