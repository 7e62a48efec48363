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
    migration_command: list[str] = Field(min_length=1)
    db_instance_identifier: OptionalStr = None
    db_cluster_identifier: OptionalStr = None
    db_secret_arn: str
    db_sslmode: Literal["verify-full", "verify-ca", "require", "prefer", "disable"] = "verify-full"
    verify_tool: str = "prisma"
    verify_assertions: Annotated[list[str], BeforeValidator(lambda v: _split_lines(v))] = []
    snapshot_timeout_seconds: int = Field(default=3600, gt=0)
    migration_timeout_seconds: int = Field(default=1800, gt=0)
    rollout_timeout_seconds: int = Field(default=1800, gt=0)
    allow_skip_snapshot: bool = False
    db_rollback_policy: Literal["keep", "restore"] = "keep"
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
    def _one_database(self) -> Settings:
        if bool(self.db_instance_identifier) == bool(self.db_cluster_identifier):
            raise ValueError(
                "set exactly one of DB_INSTANCE_IDENTIFIER and DB_CLUSTER_IDENTIFIER "
                f"(got instance={self.db_instance_identifier!r}, cluster={self.db_cluster_identifier!r})"
            )
        return self


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
