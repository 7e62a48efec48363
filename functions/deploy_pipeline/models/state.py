"""The execution's state: the plan Resolve builds, plus one result per phase.

This JSON is what Step Functions stores in its history, so it holds ARNs, ids and digests only,
never a secret, and stays far below the 256 KB state limit (log tails are truncated).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from deploy_pipeline.errors import ConfigurationError
from deploy_pipeline.models.inputs import ImageDigest, ImageTag, ManualOptions, MigrationName

DEPLOYMENT_ID_MAX_LENGTH = 80  # Step Functions' own limit for execution names
# Made from the execution name by logic.identifiers.safe_deployment_id, and checked again by every
# handler that reads a plan: it goes into RDS identifiers (letters, digits, single hyphens, no
# trailing hyphen, case-insensitive), ECS startedBy ([A-Za-z0-9_-]{1,128}) and tag values.
DeploymentId = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=DEPLOYMENT_ID_MAX_LENGTH)
]

Outcome = Literal["Succeeded", "Failed", "RolledBack", "RollbackFailed", "NoOp", "DryRun", "Superseded"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ExecutionInfo(_Model):
    name: str
    arn: str
    started_at: datetime


class ImageRef(_Model):
    repository: str
    repository_uri: str
    digest: ImageDigest
    tag: ImageTag | None = None

    @property
    def uri(self) -> str:
        """Always by digest: a tag can be moved after we resolved it."""
        return f"{self.repository_uri}@{self.digest}"


class ServiceTarget(_Model):
    name: str
    arn: str
    task_definition_arn: str = Field(description="What the service ran at Resolve: the rollback target.")


class DatabaseTarget(_Model):
    kind: Literal["instance", "cluster"]
    identifier: str


class PlanOptions(ManualOptions):
    pass


class MigrationExpectation(_Model):
    """What Verify must find, decided at Resolve from the image's labels and the manual options.

    `expected_migration` and its `source` ("label": the image's expected-migration label; "manual":
    `options.expected_migration`, which wins), or `reason` why there is none (no label, labels
    unreadable, a rollback). `checksums`: the image carries a valid checksums label; Verify reads it
    again by digest rather than carrying it through the state (it grows with the migrations), and
    compares it with the applied migrations. `checksums_reason`: why not. The labels' keys and format
    are in models/migration_labels.py.
    """

    expected_migration: MigrationName | None = None
    source: Literal["label", "manual"] | None = None
    reason: str | None = None
    checksums: bool = False
    checksums_reason: str | None = None


class DeploymentPlan(_Model):
    deployment_id: DeploymentId
    trigger: Literal["ecr-push", "manual"]
    started_by: str = Field(default="unknown", description='"ECR push", or the manual input\'s started_by.')
    image: ImageRef
    cluster: str
    services: list[ServiceTarget]
    migration_container: str
    migration_command: list[str] = Field(description="Empty when the stack has no database: nothing is migrated.")
    database: DatabaseTarget | None = Field(
        description="None for a stack without a database (e.g. a frontend): the state machine goes from the "
        "lock straight to the rollout, and nothing reads or restores a database."
    )
    options: PlanOptions = Field(default_factory=PlanOptions)
    requested_at: datetime | None = Field(
        default=None,
        description="When the release was asked for: the push's event time, or the manual start. Decides which "
        "of two queued deployments is newer (EventBridge does not promise delivery order).",
    )
    noop: bool = False
    noop_reason: str | None = None
    expectation: MigrationExpectation = Field(default_factory=MigrationExpectation)
    lint_summary: str | None = Field(
        default=None, description="The image's lint-summary label (models/migration_labels.py): advisory, recorded."
    )

    def migrated_database(self) -> DatabaseTarget:
        """The database, for the phases that only run with one (snapshot, baseline, migration, verify,
        restore). The state machine routes a plan without one past them; a hand-made input may not."""
        if self.database is None:
            raise ConfigurationError(
                "this stack has no database (no DB identifier, empty MigrationCommand): there is nothing to "
                "snapshot, migrate, verify or restore"
            )
        return self.database

    @model_validator(mode="after")
    def _manual_expectation(self) -> DeploymentPlan:
        """A plan Resolve built before `expectation` existed (an execution in flight across an update)
        still has its manual `options.expected_migration` required by Verify."""
        if self.expectation.source is None and self.options.expected_migration is not None:
            self.expectation = MigrationExpectation(expected_migration=self.options.expected_migration, source="manual")
        return self


class PollingResult(_Model):
    """Shared by every start/check pair: the check Lambda says when to look again."""

    started_at: datetime
    done: bool = False
    wait_seconds: int = 0
    polls: int = 0


class LockResult(_Model):
    acquired: bool
    keys: list[str]
    first_attempt_at: datetime
    expires_at: int = 0
    wait_seconds: int = 0
    held_by: str | None = None
    # Decided once the lock is held, when no other deployment can change the services meanwhile:
    noop: bool = False  # every service already runs the image (e.g. two tags of one image pushed together)
    superseded: bool = False  # a newer request has deployed since this one was made
    reason: str | None = None


class SnapshotResult(PollingResult):
    snapshot_id: str  # "" for a point-in-time restore point
    snapshot_arn: str | None = None
    status: str = "creating"
    # RestorePoint=point-in-time: no snapshot; the database can be restored to this time (automated backups).
    restore_time: datetime | None = None


class SchemaBaseline(_Model):
    fingerprint_key: str
    objects: int
    # The migration tool's own count before the migration (None: its table could not be read), so
    # Verify can say what this deployment applied.
    applied_count: int | None = None
    latest_applied: str | None = None


class AppliedMigrations(_Model):
    """What this deployment's migration applied, by the tool's own table: how many (its count after
    minus before), the latest before and after, and their names where the tool keeps a row per
    migration (at most the last RECENT_LIMIT)."""

    count: int
    before: str | None = None
    after: str | None = None
    names: list[str] = Field(default_factory=list)


class MigrationResult(PollingResult):
    task_arn: str
    task_definition_arn: str
    last_status: str = "PROVISIONING"
    exit_code: int | None = None
    stopped_reason: str | None = None
    log_group: str | None = None
    log_stream: str | None = None
    log_tail: list[str] = Field(default_factory=list)


# Check names the record reads (verify.runner names the others).
EXPECTED_MIGRATION_CHECK = "expected-migration"
MIGRATION_CHECKSUMS_CHECK = "migration-checksums"


class CheckOutcome(_Model):
    """One named check of Verify. A failed "error" check fails the verification (and the deployment);
    a failed "warning" check is recorded and notified, and the deployment goes on."""

    name: str
    passed: bool
    detail: str = ""
    severity: Literal["error", "warning"] = "error"


class VerificationResult(_Model):
    tool: str
    passed: bool
    started_at: datetime | None = None
    applied_count: int = 0
    latest_applied: MigrationName | None = None
    checks: list[CheckOutcome] = Field(default_factory=list)
    schema_diff: dict[str, list[str]] = Field(default_factory=dict)  # each list capped at 50 names
    schema_counts: dict[str, dict[str, int]] = Field(default_factory=dict)  # direction -> kind -> real count
    applied_now: AppliedMigrations | None = None  # None: no baseline of the tool's table to compare with


class ServiceRollout(_Model):
    name: str
    task_definition_arn: str
    previous_task_definition_arn: str
    deployment_id: str | None = None
    rollout_state: str = "IN_PROGRESS"
    reason: str | None = None


class RolloutResult(PollingResult):
    services: list[ServiceRollout]


class DatabaseRollback(_Model):
    policy: Literal["keep", "restore"]
    snapshot_id: str | None = None
    restored_identifier: str | None = None
    restored_writer: str | None = None  # a restored Aurora cluster's writer, once created
    restore_command: str | None = None
    restore_time: datetime | None = None  # a point-in-time restore point instead of snapshot_id

    def restore_pending(self, kind: str) -> bool:
        """A restored cluster still waits for its writer (created once the cluster is available)."""
        return kind == "cluster" and self.restored_identifier is not None and self.restored_writer is None


class MigrationTaskSeen(_Model):
    """A migration task found by the deployment's `startedBy`, as ECS showed it."""

    task_arn: str
    last_status: str
    exit_code: int | None = None
    stop_code: str | None = None
    stop_requested: bool = False  # this deployment asked ECS to stop it (it had not exited)

    @property
    def stopped(self) -> bool:
        return self.last_status == "STOPPED"


class RollbackResult(PollingResult):
    services: list[ServiceRollout] = Field(default_factory=list)
    database: DatabaseRollback | None = None
    migration_tasks: list[MigrationTaskSeen] = Field(default_factory=list)


class ErrorInfo(_Model):
    """What a Catch with ResultPath puts in the state: `Cause` is the Lambda's JSON error string."""

    Error: str
    Cause: str = ""


class RecordResult(_Model):
    deployment_id: str
    outcome: Outcome
    error: str
    cause: str


class _PhaseResults(_Model):
    """Phase results are absent until their phase has run."""

    execution: ExecutionInfo
    lock: LockResult | None = None
    snapshot: SnapshotResult | None = None
    baseline: SchemaBaseline | None = None
    migration: MigrationResult | None = None
    verification: VerificationResult | None = None
    rollout: RolloutResult | None = None
    rollback: RollbackResult | None = None
    error: ErrorInfo | None = None
    rollback_error: ErrorInfo | None = None


class PipelineState(_PhaseResults):
    """The whole state after Resolve."""

    plan: DeploymentPlan


class RecordInput(_PhaseResults):
    """Record and ReleaseLock run on every path, including a failed Resolve, so the plan may be missing."""

    plan: DeploymentPlan | None = None
    input: Any = None


class StartInput(_Model):
    """What the first state hands Resolve: the raw execution input and the execution's identity."""

    input: Any = None
    execution: ExecutionInfo


class ResolveOutput(_Model):
    execution: ExecutionInfo
    plan: DeploymentPlan


WaitFor = Literal["lock", "snapshot", "migration", "rollout", "rollback"]


class AwaitInput(_Model):
    """What an event-driven wait (a waitForTaskToken state) hands AwaitEvent: its task token (up to
    1024 characters, SendTaskSuccess's taskToken), what it waits for, and the state so far."""

    execution: ExecutionInfo
    token: str = Field(min_length=1, max_length=1024)
    wait_for: WaitFor
    state: PipelineState


class AwaitResult(_Model):
    """The resources whose AWS event ends this wait (none: only the fallback timeout will)."""

    wait_for: WaitFor
    resources: list[str]


class AwsEvent(_Model):
    """An AWS state-change event as EventBridge delivers it to NoticeFunction (the fields read)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str = ""
    source: str
    detail_type: str = Field(alias="detail-type")
    time: datetime | None = None
    resources: list[str] = Field(default_factory=list)
    detail: dict[str, Any] = Field(default_factory=dict)


class NoticeResult(_Model):
    """What an event woke: the resource it is about, and whether a waiting state was woken."""

    resource: str | None
    woken: bool = False


__all__ = [
    "DeploymentPlan",
    "ExecutionInfo",
    "ImageDigest",
    "MigrationExpectation",
    "MigrationName",
    "Outcome",
    "PipelineState",
]
