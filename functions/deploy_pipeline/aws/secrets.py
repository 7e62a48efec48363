"""Database credentials, read from Secrets Manager inside the Lambda that needs them, never passed on."""

from __future__ import annotations

import json
from typing import Any

from deploy_pipeline.aws import clients, rds
from deploy_pipeline.errors import ConfigurationError
from deploy_pipeline.models.state import DatabaseTarget


def database_secret(secret_arn: str, database: DatabaseTarget) -> dict[str, Any]:
    """The connection settings: the secret's username and password, and where to connect.

    Two secret shapes exist. One made for a database by hand or by RDS's rotation template holds
    username, password, host, port and dbname. One RDS creates itself ("Manage master credentials in
    AWS Secrets Manager", ManageMasterUserPassword) holds only username and password (RDS User Guide,
    "Password management with Amazon RDS and AWS Secrets Manager"); host, port and database name then
    come from the configured instance or cluster. Errors never echo the secret's value.
    """
    raw = clients.secretsmanager().get_secret_value(SecretId=secret_arn).get("SecretString")
    try:
        value = json.loads(raw or "")
    except json.JSONDecodeError:
        raise ConfigurationError(f"secret {secret_arn} is not JSON (expected the RDS secret format)") from None
    if not isinstance(value, dict):
        raise ConfigurationError(f"secret {secret_arn} is not a JSON object (expected the RDS secret format)")
    missing = [key for key in ("username", "password") if not value.get(key)]
    if missing:
        raise ConfigurationError(f"secret {secret_arn} lacks {', '.join(missing)} (expected the RDS secret format)")
    if not value.get("host"):
        endpoint = rds.endpoint(database)
        value = {
            **value,
            "host": endpoint.host,
            "port": endpoint.port,
            "dbname": value.get("dbname") or endpoint.dbname,
        }
    return value
