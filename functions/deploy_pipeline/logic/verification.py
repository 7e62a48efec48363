"""Ask the database itself whether the migration did what the release needs.

The verifier package (and psycopg2) is imported only here, so the other twelve Lambdas never pay
for it at cold start.
"""

from __future__ import annotations

from datetime import timedelta

from deploy_pipeline.aws import secrets, table
from deploy_pipeline.errors import SchemaVerificationFailed
from deploy_pipeline.logic.polling import now
from deploy_pipeline.models.state import PipelineState, SchemaBaseline, VerificationResult
from deploy_pipeline.settings import Settings

BASELINE_TTL = timedelta(days=30)


def capture_baseline(state: PipelineState, settings: Settings) -> SchemaBaseline:
    from deploy_pipeline import verify

    secret = secrets.database_secret(settings.db_secret_arn, state.plan.database)
    connection = verify.connect(secret, sslmode=settings.db_sslmode)
    try:
        fingerprint = verify.capture_fingerprint(connection)
    finally:
        connection.close()
    table.put_baseline(
        settings.table_name,
        state.plan.deployment_id,
        fingerprint.to_bytes(),
        int((now() + BASELINE_TTL).timestamp()),
    )
    return SchemaBaseline(
        fingerprint_key=table.baseline_key(state.plan.deployment_id), objects=fingerprint.object_count
    )


def verify_schema(state: PipelineState, settings: Settings) -> VerificationResult:
    from deploy_pipeline import verify

    started = now()
    baseline = None
    if state.baseline is not None:
        blob = table.get_baseline(settings.table_name, state.plan.deployment_id)
        baseline = verify.SchemaFingerprint.from_bytes(blob) if blob else None
    secret = secrets.database_secret(settings.db_secret_arn, state.plan.database)
    connection = verify.connect(secret, sslmode=settings.db_sslmode)
    try:
        result = verify.run_verification(
            connection,
            tool=settings.verify_tool,
            expected_migration=state.plan.options.expected_migration,
            assertions=settings.verify_assertions,
            baseline=baseline,
        )
    finally:
        connection.close()
    if not result.passed:
        failed = [c for c in result.checks if not c.passed]
        raise SchemaVerificationFailed(
            f"the {result.tool} verification of the database failed "
            f"({len(failed)} check{'s' if len(failed) != 1 else ''}): "
            + "; ".join(f"{c.name}: {c.detail}" for c in failed)
        )
    return result.model_copy(update={"started_at": started})
