"""The two ways an execution starts: an ECR push routed by EventBridge, or a manual input.

Patterns follow AWS's and the OCI distribution spec's own rules, so nothing that reaches an AWS
API (or a log line) is anything but an identifier of the documented shape.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, model_validator

# OCI tag grammar (max 128); ECR accepts the same.
ImageTag = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")]
ImageDigest = Annotated[str, StringConstraints(pattern=r"^sha256:[0-9a-f]{64}$")]
# ECR repository name: 2-256 chars, lowercase path segments.
RepositoryName = Annotated[
    str,
    StringConstraints(
        min_length=2,
        max_length=256,
        pattern=r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$",
    ),
]
# Migration names as tools write them (Prisma folder names, Alembic revision ids, Flyway versions).
MigrationName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,255}$")]
# Who asked for a manual start: an IAM ARN (the CLI sends the caller's) or a name, one printable line.
StartedBy = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_+=,.@:/() -]{1,256}$")]
AccountId = Annotated[str, StringConstraints(pattern=r"^[0-9]{12}$")]
Region = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]$")]


class EcrImageActionDetail(BaseModel):
    """`detail` of an `ECR Image Action` event (fields beyond these are ignored, as AWS may add some)."""

    model_config = ConfigDict(populate_by_name=True)

    action_type: Literal["PUSH"] = Field(alias="action-type")
    result: Literal["SUCCESS"]
    repository_name: RepositoryName = Field(alias="repository-name")
    image_digest: ImageDigest = Field(alias="image-digest")
    image_tag: ImageTag | None = Field(default=None, alias="image-tag")


class EcrPushEvent(BaseModel):
    """The EventBridge envelope as the rule delivers it to Step Functions."""

    model_config = ConfigDict(populate_by_name=True)

    version: str = "0"
    id: str = Field(max_length=128)
    source: Literal["aws.ecr"]
    detail_type: Literal["ECR Image Action"] = Field(alias="detail-type")
    account: AccountId
    region: Region
    time: datetime
    resources: list[str] = Field(default_factory=list, max_length=10)
    detail: EcrImageActionDetail


class ManualOptions(BaseModel):
    """What a person may ask for when starting by hand; the stack decides what is allowed.

    The switches are JSON booleans only: "false", 0 or "no" are refused rather than guessed at
    (pydantic's lax mode would read "yes" as true and "off" as false).
    """

    model_config = ConfigDict(extra="forbid")

    skip_snapshot: StrictBool = False
    dry_run: StrictBool = False
    expected_migration: MigrationName | None = None
    rollback: StrictBool = Field(
        default=False,
        description="Deploy a previously recorded image without migrating: the database is not touched.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> ManualOptions:
        if self.rollback and self.expected_migration:
            raise ValueError("'rollback' deploys without migrating, so 'expected_migration' cannot apply")
        return self


class ManualInput(BaseModel):
    """`{"image_tag": "v1.2.3"}` or `{"image_digest": "sha256:..."}`, with optional `options`."""

    model_config = ConfigDict(extra="forbid")

    image_tag: ImageTag | None = None
    image_digest: ImageDigest | None = None
    repository: RepositoryName | None = None
    options: ManualOptions = Field(default_factory=ManualOptions)
    started_by: StartedBy | None = Field(
        default=None,
        description="Who started it, for the record and `history` (the CLI sends the caller's ARN). Step Functions "
        "does not tell an execution who started it, so a start without it is recorded as an unnamed manual start.",
    )

    @model_validator(mode="after")
    def _one_image(self) -> ManualInput:
        if (self.image_tag is None) == (self.image_digest is None):
            raise ValueError("give exactly one of 'image_tag' and 'image_digest'")
        return self


def is_ecr_event(raw: Any) -> bool:
    """An input is treated as an EventBridge event when it says it comes from a source."""
    return isinstance(raw, dict) and ("source" in raw or "detail-type" in raw or "detail" in raw)
