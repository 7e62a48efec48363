"""Database credentials, read from Secrets Manager inside the Lambda that needs them, never passed on."""

from __future__ import annotations

import json
from typing import Any

from deploy_pipeline.aws import clients
from deploy_pipeline.errors import ConfigurationError


def database_secret(secret_arn: str) -> dict[str, Any]:
    """The RDS secret JSON (username, password, host, port, dbname). Errors never echo its value."""
    raw = clients.secretsmanager().get_secret_value(SecretId=secret_arn).get("SecretString")
    try:
        value = json.loads(raw or "")
    except json.JSONDecodeError:
        raise ConfigurationError(f"secret {secret_arn} is not JSON (expected the RDS secret format)") from None
    if not isinstance(value, dict):
        raise ConfigurationError(f"secret {secret_arn} is not a JSON object (expected the RDS secret format)")
    missing = [key for key in ("username", "password", "host") if not value.get(key)]
    if missing:
        raise ConfigurationError(f"secret {secret_arn} lacks {', '.join(missing)} (expected the RDS secret format)")
    return value
