"""The stack's configuration, read once per container from the environment.

Every value here comes from a SAM Parameter (see template.yaml, `Globals.Function.Environment`),
never from the execution input: the input may only choose among what the stack allows.
"""

from __future__ import annotations

import shlex
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.functional_validators import BeforeValidator

from deploy_pipeline.errors import ConfigurationError


def _csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _blank_is_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


OptionalStr = Annotated[str | None, BeforeValidator(_blank_is_none)]


class Settings(BaseModel):
    """Environment variables of every pipeline Lambda (names are the upper-cased field names)."""

    model_config = ConfigDict(frozen=True)

    stack_name: str = Field(min_length=1)  # tags what the stack creates, so it never prunes another's
    cluster_name: str
    service_names: Annotated[list[str], BeforeValidator(_csv)] = Field(min_length=1)
    repository_name: str
    tag_prefix: OptionalStr = None
    trigger_tags: Annotated[list[str], BeforeValidator(_csv)] = []  # exact tags; set, TagPrefix is empty
    require_succeeded_in: OptionalStr = None  # another stack's table: deploy only digests that succeeded there
    migration_container: str
    migration_command: list[str]  # empty: a service without a database (no DB identifier either)
    db_instance_identifier: OptionalStr = None
    db_cluster_identifier: OptionalStr = None
    db_secret_arn: OptionalStr = None
    db_sslmode: Literal["verify-full", "verify-ca", "require", "prefer", "disable"] = "verify-full"
    verify_subnet_ids: Annotated[list[str], BeforeValidator(_csv)] = []
    verify_security_group_ids: Annotated[list[str], BeforeValidator(_csv)] = []
    verify_tool: str = "prisma"
    verify_assertions: Annotated[list[str], BeforeValidator(lambda v: _split_lines(v))] = []
    snapshot_timeout_seconds: int = Field(default=3600, gt=0)
    migration_timeout_seconds: int = Field(default=1800, gt=0)
    rollout_timeout_seconds: int = Field(default=1800, gt=0)
    allow_skip_snapshot: bool = False
    db_rollback_policy: Literal["keep", "restore"] = "keep"
    restore_point: Literal["snapshot", "point-in-time"] = "snapshot"
    snapshot_retention: int = Field(default=5, ge=0)
    on_lock_held: Literal["wait", "fail"] = "wait"
    lock_wait_seconds: int = Field(default=1800, ge=0)
    lock_ttl_seconds: int = Field(default=14400, gt=0)
    table_name: str
    topic_arn: str
    event_bus_name: str = "default"
    event_source: str = "ecs-migrate-deploy"

    @field_validator("migration_command", mode="before")
    @classmethod
    def _split_command(cls, value: object) -> object:
        # Split like a shell would, but never run through one: ECS gets an argv list.
        return shlex.split(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _database_or_none(self) -> Settings:
        """The template's Rules, again: one database or none; with one, a migration command, its secret
        and the network the verification runs in; without one, no migration command. (VerifySubnetIds
        cannot be asserted by a Rule: CloudFormation's rule functions have no Fn::Join for a list.)"""
        if self.db_instance_identifier and self.db_cluster_identifier:
            raise ValueError(
                "set one of DB_INSTANCE_IDENTIFIER and DB_CLUSTER_IDENTIFIER, not both "
                f"(got instance={self.db_instance_identifier!r}, cluster={self.db_cluster_identifier!r})"
            )
        if not self.has_database:
            if self.migration_command:
                raise ValueError(
                    "MIGRATION_COMMAND is set but no database is (DB_INSTANCE_IDENTIFIER, DB_CLUSTER_IDENTIFIER): "
                    "name the database it migrates, or leave the command empty for a service without one"
                )
            return self
        missing = [
            name
            for name, value in (
                ("MIGRATION_COMMAND (parameter MigrationCommand)", self.migration_command),
                ("DB_SECRET_ARN (parameter DbSecretArn)", self.db_secret_arn),
                ("VERIFY_SUBNET_IDS (parameter VerifySubnetIds)", self.verify_subnet_ids),
                ("VERIFY_SECURITY_GROUP_IDS (parameter VerifySecurityGroupIds)", self.verify_security_group_ids),
            )
            if not value
        ]
        if missing:
            raise ValueError(f"a stack with a database needs {', '.join(missing)}")
        return self

    @property
    def has_database(self) -> bool:
        """False for a service without a database: no snapshot, migration or verification."""
        return bool(self.db_instance_identifier or self.db_cluster_identifier)

    @property
    def secret_arn(self) -> str:
        """DB_SECRET_ARN, which a stack with a database always has (checked above)."""
        if not self.db_secret_arn:
            raise ConfigurationError("DB_SECRET_ARN is not set: this stack has no database to read")
        return self.db_secret_arn


def _split_lines(value: object) -> object:
    """Assertions are separated by ';;' or newlines in the parameter (SQL may contain ';')."""
    if isinstance(value, str):
        parts = value.replace(";;", "\n").splitlines()
        return [part.strip() for part in parts if part.strip()]
    return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from os.environ, cached for the container's lifetime."""
    import os

    fields = Settings.model_fields
    raw = {name: os.environ[name.upper()] for name in fields if name.upper() in os.environ}
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']).upper() or 'settings'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigurationError(f"the stack's configuration is invalid: {problems}") from None
