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
    "VERIFY_SUBNET_IDS": "subnet-0123456789abcdef0,subnet-0fedcba9876543210",
    "VERIFY_SECURITY_GROUP_IDS": "sg-0123456789abcdef0",
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
    with pytest.raises(ConfigurationError, match="one of DB_INSTANCE_IDENTIFIER and DB_CLUSTER_IDENTIFIER, not both"):
        get_settings()


def test_missing_variable_is_named(environ: pytest.MonkeyPatch) -> None:
    environ.delenv("CLUSTER_NAME")
    with pytest.raises(ConfigurationError, match="CLUSTER_NAME"):
        get_settings()


def test_a_service_without_a_database_has_no_migration_command(environ: pytest.MonkeyPatch) -> None:
    for name in ("DB_CLUSTER_IDENTIFIER", "DB_SECRET_ARN", "VERIFY_SUBNET_IDS", "VERIFY_SECURITY_GROUP_IDS"):
        environ.setenv(name, "")
    environ.setenv("MIGRATION_COMMAND", "")
    settings = get_settings()
    assert settings.has_database is False and settings.migration_command == []
    with pytest.raises(ConfigurationError, match="DB_SECRET_ARN is not set"):
        _ = settings.secret_arn


def test_a_migration_command_without_a_database_is_a_configuration_error(environ: pytest.MonkeyPatch) -> None:
    environ.setenv("DB_CLUSTER_IDENTIFIER", "")
    with pytest.raises(ConfigurationError, match="MIGRATION_COMMAND is set but no database is"):
        get_settings()


@pytest.mark.parametrize(
    ("variable", "parameter"),
    [
        ("MIGRATION_COMMAND", "MigrationCommand"),
        ("DB_SECRET_ARN", "DbSecretArn"),
        ("VERIFY_SUBNET_IDS", "VerifySubnetIds"),
        ("VERIFY_SECURITY_GROUP_IDS", "VerifySecurityGroupIds"),
    ],
)
def test_a_database_without_what_verifies_it_names_the_parameter(
    environ: pytest.MonkeyPatch, variable: str, parameter: str
) -> None:
    environ.setenv(variable, "")
    with pytest.raises(
        ConfigurationError, match=f"a stack with a database needs {variable} \\(parameter {parameter}\\)"
    ):
        get_settings()
