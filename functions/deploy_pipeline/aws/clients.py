"""boto3 clients, created once per Lambda container and reused across invocations.

Created lazily (first use), so a handler only pays for the clients its path needs, and the local
emulator can reset them after it switches endpoints or credentials.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_ecr.client import ECRClient
    from mypy_boto3_ecs.client import ECSClient
    from mypy_boto3_events.client import EventBridgeClient
    from mypy_boto3_logs.client import CloudWatchLogsClient
    from mypy_boto3_rds.client import RDSClient
    from mypy_boto3_secretsmanager.client import SecretsManagerClient
    from mypy_boto3_sns.client import SNSClient
    from mypy_boto3_stepfunctions.client import SFNClient


@cache
def _client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    # Standard retry mode backs off on throttling; what still fails reaches the ASL's Retry.
    config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)
    return boto3.client(service, config=config)  # type: ignore[call-overload]


def ecr() -> ECRClient:
    return _client("ecr")  # type: ignore[no-any-return]


def ecs() -> ECSClient:
    return _client("ecs")  # type: ignore[no-any-return]


def rds() -> RDSClient:
    return _client("rds")  # type: ignore[no-any-return]


def dynamodb() -> DynamoDBClient:
    return _client("dynamodb")  # type: ignore[no-any-return]


def sns() -> SNSClient:
    return _client("sns")  # type: ignore[no-any-return]


def events() -> EventBridgeClient:
    return _client("events")  # type: ignore[no-any-return]


def logs() -> CloudWatchLogsClient:
    return _client("logs")  # type: ignore[no-any-return]


def secretsmanager() -> SecretsManagerClient:
    return _client("secretsmanager")  # type: ignore[no-any-return]


def stepfunctions() -> SFNClient:
    return _client("stepfunctions")  # type: ignore[no-any-return]


def reset_clients() -> None:
    """Forget every client (the emulator calls this when it starts a new world)."""
    _client.cache_clear()
