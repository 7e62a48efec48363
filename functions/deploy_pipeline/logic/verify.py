"""Ask the database itself whether the migration did what the release needs.

The verifier package (and psycopg2) is imported only here, so the other twelve Lambdas never pay
for it at cold start.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from deploy_pipeline.aws import ecr, secrets, table
from deploy_pipeline.errors import SchemaVerificationFailed
from deploy_pipeline.logic.polling import now
from deploy_pipeline.models import migration_labels
from deploy_pipeline.models.state import (
    MIGRATION_CHECKSUMS_CHECK,
    CheckOutcome,
    DeploymentPlan,
    PipelineState,
    SchemaBaseline,
    VerificationResult,
)
from deploy_pipeline.settings import Settings

if TYPE_CHECKING:
    from deploy_pipeline.verify.verifiers import Progress

BASELINE_TTL = timedelta(days=30)


def capture_baseline(state: PipelineState, settings: Settings) -> SchemaBaseline:
    from deploy_pipeline import verify

    secret = secrets.database_secret(settings.secret_arn, state.plan.migrated_database())
    connection = verify.connect(secret, sslmode=settings.db_sslmode)
    try:
        fingerprint = verify.capture_fingerprint(connection)
        progress = verify.read_progress(connection, tool=settings.verify_tool)
    finally:
        connection.close()
    table.put_baseline(
        settings.table_name,
        state.plan.deployment_id,
        fingerprint.to_bytes(),
        int((now() + BASELINE_TTL).timestamp()),
    )
    return SchemaBaseline(
        fingerprint_key=table.baseline_key(state.plan.deployment_id),
        objects=fingerprint.object_count,
        applied_count=progress.applied_count if progress else None,
        latest_applied=progress.latest_applied if progress else None,
    )


def _progress_before(state: PipelineState) -> Progress | None:
    """The tool's progress CaptureBaseline read, as the runner compares it (None: not read)."""
    from deploy_pipeline import verify

    baseline = state.baseline
    if baseline is None or baseline.applied_count is None:
        return None
    return verify.Progress(baseline.applied_count, baseline.latest_applied)


def verify_schema(state: PipelineState, settings: Settings) -> VerificationResult:
    from deploy_pipeline import verify

    started = now()
    baseline = None
    if state.baseline is not None:
        blob = table.get_baseline(settings.table_name, state.plan.deployment_id)
        baseline = verify.SchemaFingerprint.from_bytes(blob) if blob else None
    checksums, unread = label_checksums(state.plan)
    secret = secrets.database_secret(settings.secret_arn, state.plan.migrated_database())
    connection = verify.connect(secret, sslmode=settings.db_sslmode)
    try:
        result = verify.run_verification(
            connection,
            tool=settings.verify_tool,
            expected_migration=state.plan.expectation.expected_migration,
            checksums=checksums,
            assertions=settings.verify_assertions,
            baseline=baseline,
            before=_progress_before(state),
        )
    finally:
        connection.close()
    if unread is not None:
        result = result.model_copy(update={"checks": [*result.checks, unread]})
    warnings = [c for c in result.checks if c.severity == "warning" and not c.passed]
    if not result.passed:
        failed = [c for c in result.checks if c.severity == "error" and not c.passed]
        raise SchemaVerificationFailed(
            f"the {result.tool} verification of the database failed "
            f"({len(failed)} check{'s' if len(failed) != 1 else ''}): "
            + "; ".join(f"{c.name}: {c.detail}" for c in failed)
            + "".join(f"; (warning) {c.name}: {c.detail}" for c in warnings)
        )
    return result.model_copy(update={"started_at": started})


def label_checksums(plan: DeploymentPlan) -> tuple[migration_labels.LabelChecksums | None, CheckOutcome | None]:
    """The image's checksums label, read again by digest (Resolve saw it was there and valid; it grows
    with the migrations, so it does not travel in the state), or the warning saying why it could not be."""
    if not plan.expectation.checksums:
        return None, None
    try:
        labels = ecr.image_labels(plan.image.repository, plan.image.digest)
        return migration_labels.parse_checksums(labels.get(migration_labels.MIGRATION_CHECKSUMS_LABEL, "")), None
    except (ecr.LabelsUnreadable, migration_labels.MalformedLabel) as exc:
        return None, CheckOutcome(
            name=MIGRATION_CHECKSUMS_CHECK,
            passed=False,
            severity="warning",
            detail=f"not compared: the image's checksums label could not be read at Verify: {str(exc)[:300]}",
        )
