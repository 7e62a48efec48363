"""Record and notify: the outcome in plain words, in DynamoDB, SNS and EventBridge.

Runs on every path. Each side effect is attempted on its own and a failure of one is logged, not
raised: a notification problem must never turn a finished deployment into a failed execution.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

from deploy_pipeline.aws import ecs, notify, rds, table, task_logs
from deploy_pipeline.logic import migration_tasks
from deploy_pipeline.logic.polling import now, request_time
from deploy_pipeline.logic.rollback import manual_command
from deploy_pipeline.logic.snapshot import WAITING_FOR_DATABASE
from deploy_pipeline.models.state import (
    EXPECTED_MIGRATION_CHECK,
    MIGRATION_CHECKSUMS_CHECK,
    DatabaseTarget,
    ErrorInfo,
    MigrationTaskSeen,
    Outcome,
    RecordInput,
    RecordResult,
)
from deploy_pipeline.observability import logger, metrics
from deploy_pipeline.settings import Settings

MAX_CAUSE_CHARS = 8000  # well under Step Functions' 32,768-character cause limit


def error_message(error: ErrorInfo) -> str:
    """The human message inside a Catch's Cause (a Lambda error's JSON), or the Cause itself."""
    try:
        parsed = json.loads(error.Cause)
    except (json.JSONDecodeError, TypeError):
        return error.Cause or error.Error
    if isinstance(parsed, dict) and parsed.get("errorMessage"):
        return str(parsed["errorMessage"])
    return error.Cause


def outcome_of(state: RecordInput) -> Outcome:
    if state.plan is None:
        return "Failed"
    if state.rollback_error is not None:
        return "RollbackFailed"
    if state.error is not None:
        return "RolledBack" if state.rollback and state.rollback.services else "Failed"
    if state.plan.noop or (state.lock and state.lock.noop):
        return "NoOp"
    if state.lock and state.lock.superseded:
        return "Superseded"
    if state.plan.options.dry_run:
        return "DryRun"
    return "Succeeded"


def explain(state: RecordInput, outcome: Outcome) -> tuple[str, str]:
    """(error name, cause): what failed, the evidence, and what to do next."""
    plan = state.plan
    if outcome == "Succeeded" and plan:
        deployed = f"Deployed {_image(state)} to {', '.join(s.name for s in plan.services)}."
        return "", "\n".join([deployed, *(f"Warning: {warning}" for warning in warnings_of(state))])
    if outcome == "NoOp" and plan:
        return "", f"Nothing to do: {plan.noop_reason or (state.lock.reason if state.lock else '')}."
    if outcome == "Superseded" and plan and state.lock:
        return "", f"Superseded: {state.lock.reason}. {_image(state)} was not deployed; nothing was touched."
    if outcome == "DryRun" and plan:
        return (
            "",
            f"Dry run: would deploy {_image(state)} to {', '.join(s.name for s in plan.services)}; nothing was touched.",
        )
    error = state.error or ErrorInfo(Error="DeploymentFailed", Cause="")
    lines: list[str] = []
    if outcome == "RollbackFailed" and state.rollback_error:
        lines.append(
            f"ROLLBACK FAILED, ACTION NEEDED. The deployment failed ({error.Error}: {error_message(error)}) "
            f"and putting the services back failed too ({state.rollback_error.Error}: {error_message(state.rollback_error)})."
        )
        if plan:
            lines.append(
                "Finish the rollback by hand: "
                + " && ".join(manual_command(plan.cluster, s.name, s.task_definition_arn) for s in plan.services)
            )
        name = "RollbackFailed"
    else:
        headline = "Rolled back" if outcome == "RolledBack" else "Failed"
        lines.append(f"{headline}: {error.Error}: {error_message(error)}")
        name = error.Error
    if plan is None:
        lines.append("Nothing was deployed and no AWS resource was touched.")
    else:
        lines.append(_services_line(state, outcome))
        lines.extend(_database_lines(state))
    cause = "\n".join(lines)
    return name, cause if len(cause) <= MAX_CAUSE_CHARS else cause[: MAX_CAUSE_CHARS - 1] + "…"


def _image(state: RecordInput) -> str:
    plan = state.plan
    if plan is None:
        return "nothing"
    return f"{plan.image.repository}:{plan.image.tag} ({plan.image.digest})" if plan.image.tag else plan.image.uri


def _services_line(state: RecordInput, outcome: Outcome) -> str:
    assert state.plan is not None
    if outcome == "RolledBack" and state.rollback:
        return "Services back on their previous task definitions: " + ", ".join(
            f"{s.name} → {s.task_definition_arn}" for s in state.rollback.services
        )
    if state.rollout is None:
        return "Services untouched: " + ", ".join(
            f"{s.name} still runs {s.task_definition_arn}" for s in state.plan.services
        )
    return "Services: " + ", ".join(f"{s.name} {s.rollout_state}" for s in state.rollout.services)


def _database_lines(state: RecordInput) -> list[str]:
    if state.plan and state.plan.database is None:
        return ["No database: this stack deploys without migrating."]
    lines: list[str] = []
    stopped = [t for t in state.rollback.migration_tasks if t.stop_requested] if state.rollback else []
    if stopped and state.migration is not None:
        lines.append(
            f"Migration: stopped before it exited ({', '.join(_task_words(t) for t in stopped)}): a tool that "
            "applies each migration in a transaction rolled the unfinished one back, others may have left part "
            "of it applied; the tool's own table says which migrations are applied."
        )
    database = state.rollback.database if state.rollback else None
    restore_time = state.snapshot.restore_time if state.snapshot else None
    if database and database.restored_identifier:
        kind = state.plan.database.kind if state.plan and state.plan.database else "database"
        source = (
            f"the database as it was at {restore_time.isoformat()}"
            if restore_time
            else f"snapshot {database.snapshot_id}"
        )
        lines.append(
            f"Database: {source} is being restored to a new {kind} "
            f"{database.restored_identifier}; the application still points at the original: cut over by hand if needed."
        )
    elif restore_time is not None:
        lines.append(
            f"Database: restore point {restore_time.isoformat()} (point in time, from automated backups; no "
            "snapshot was taken)."
        )
        if database and database.restore_command:
            lines.append(f"To restore it beside the original: {database.restore_command}")
    elif state.snapshot and state.snapshot.done:
        lines.append(f"Database: pre-deployment snapshot {state.snapshot.snapshot_id} is kept.")
        if database and database.restore_command:
            lines.append(f"To restore it beside the original: {database.restore_command}")
    elif state.migration is not None:
        lines.append("Database: no pre-deployment snapshot was taken (skip_snapshot).")
    if state.migration is None and state.plan and not state.plan.options.rollback:
        lines.append(_unseen_migration_line(state))
    return lines


def _unseen_migration_line(state: RecordInput) -> str:
    """Whether a migration ran when the state holds no migration result: RunTask may have started a
    task whose result was lost, so ask ECS (by `startedBy`) rather than trust the state's silence."""
    assert state.plan is not None
    tasks = state.rollback.migration_tasks if state.rollback else []
    if not tasks and state.lock and state.lock.acquired:
        try:
            arns = ecs.started_task_arns(state.plan.cluster, migration_tasks.started_by(state.plan))
        except Exception as exc:
            logger.warning("could not list the deployment's migration tasks", extra={"error": str(exc)})
            return (
                "Whether the migration started is unknown (ECS could not be asked): check the tasks started by "
                f"{migration_tasks.started_by(state.plan)} in cluster {state.plan.cluster}."
            )
        tasks = [MigrationTaskSeen(task_arn=arn, last_status="UNKNOWN") for arn in arns]
    if not tasks:
        return "The migration did not run: the database was not changed by this deployment."
    described = ", ".join(_task_words(t) for t in tasks)
    return (
        f"A migration task was started but its result was not seen ({described}): the database may have been "
        "changed by it; the deployment lock is released only once it has stopped."
    )


def _task_words(task: MigrationTaskSeen) -> str:
    words = [task.task_arn]
    if task.stop_requested:
        words.append("stopped by the pipeline")
    if task.stop_code:
        words.append(f"stopCode {task.stop_code}")
    if task.exit_code is not None:
        words.append(f"exit code {task.exit_code}")
    return " ".join(words)


def warnings_of(state: RecordInput) -> list[str]:
    """Warning-level checks of a passed verification that did not pass (e.g. migrations edited after
    they were applied). A failed verification names its warnings in its error instead."""
    checks = state.verification.checks if state.verification else []
    return [f"{c.name}: {c.detail}" for c in checks if c.severity == "warning" and not c.passed]


def _verify_check(state: RecordInput, name: str) -> str:
    """How Verify's check `name` ended: "passed" / "failed" / "warning", or "not-run" when Verify
    did not run it. A failed Verify leaves no result in the state, only its error, which names each
    failed check as "<name>: <detail>" (logic.verify)."""
    if state.verification is not None:
        check = next((c for c in state.verification.checks if c.name == name), None)
        if check is None:
            return "not-run"
        return "passed" if check.passed else "failed" if check.severity == "error" else "warning"
    if state.error is not None and state.error.Error == "SchemaVerificationFailed":
        message = error_message(state.error)
        if f"(warning) {name}: " in message:
            return "warning"
        return "failed" if f"{name}: " in message else "passed"
    return "not-run"


def expectation_record(state: RecordInput) -> dict[str, Any]:
    """What the release was checked against, where that came from, and how the checks went: the
    expected migration (from the image's label or the manual option, or why there was none) and the
    comparison of the applied migrations' checksums with the image's."""
    assert state.plan is not None
    expected = state.plan.expectation
    record: dict[str, Any] = {
        "expected_migration": {
            "name": expected.expected_migration,
            "source": expected.source,
            "check": _verify_check(state, EXPECTED_MIGRATION_CHECK) if expected.expected_migration else "skipped",
        },
        "migration_checksums": {
            "labelled": expected.checksums,
            "check": _verify_check(state, MIGRATION_CHECKSUMS_CHECK) if expected.checksums else "skipped",
        },
    }
    if expected.reason:
        record["expected_migration"]["reason"] = expected.reason
    if expected.checksums_reason:
        record["migration_checksums"]["reason"] = expected.checksums_reason
    return record


def phase_starts(state: RecordInput) -> dict[str, datetime]:
    """When each phase that ran began, as its start Lambda recorded it."""
    starts = {
        "snapshot": state.snapshot.started_at if state.snapshot else None,
        "migration": state.migration.started_at if state.migration else None,
        "verify": state.verification.started_at if state.verification else None,
        "rollout": state.rollout.started_at if state.rollout else None,
        "rollback": state.rollback.started_at if state.rollback else None,
    }
    return {name: at for name, at in starts.items() if at is not None}


def phase_seconds(state: RecordInput, finished: datetime) -> dict[str, float]:
    """Each phase from its start to the next phase's start (the last one: to `finished`).

    The baseline fingerprint counts in `snapshot`; a Verify that failed has no result, so its time
    counts in `migration`.
    """
    ordered = sorted(phase_starts(state).items(), key=lambda item: item[1])
    if not ordered:
        return {}
    ends = [at for _, at in ordered[1:]] + [finished]
    return {
        name: round(max((end - start).total_seconds(), 0.0), 1)
        for (name, start), end in zip(ordered, ends, strict=True)
    }


def emit_phase_durations(durations: dict[str, float]) -> None:
    """`PhaseDuration` (Seconds) per phase, dimensions service + phase.

    One EMF document per phase: the handler's shared Metrics object has a single dimension set per
    flush (service + outcome, for `Deployments`), and a phase dimension there would split that metric.
    """
    for phase, seconds in durations.items():
        emf = AmazonCloudWatchEMFProvider()
        emf.add_dimension(name="phase", value=phase)
        emf.add_metric(name="PhaseDuration", unit="Seconds", value=seconds)
        emf.flush_metrics()


def build_record(state: RecordInput, outcome: Outcome, error: str, cause: str) -> dict[str, Any]:
    """The deployment record: ids, digests, evidence and durations; never a secret."""
    finished = now()
    plan = state.plan
    record: dict[str, Any] = {
        "deployment_id": plan.deployment_id if plan else state.execution.name,
        "execution_arn": state.execution.arn,
        "started_at": state.execution.started_at.isoformat(),
        "finished_at": finished.isoformat(),
        "duration_seconds": round((finished - state.execution.started_at).total_seconds(), 1),
        "outcome": outcome,
        "error": error,
        "cause": cause,
        "phase_started_at": {k: v.isoformat() for k, v in phase_starts(state).items()},
    }
    if plan:
        record.update(
            trigger=plan.trigger,
            started_by=plan.started_by,
            lint_summary=plan.lint_summary,
            cluster=plan.cluster,
            database=plan.database.model_dump() if plan.database else None,
            image_tag=plan.image.tag,
            image_digest=plan.image.digest,
            image_uri=plan.image.uri,
            services=[{"name": s.name, "previous_task_definition": s.task_definition_arn} for s in plan.services],
            options=plan.options.model_dump(),
            requested_at=request_time(plan.requested_at) if plan.requested_at else None,
            **expectation_record(state),
        )
    if state.rollout:
        record["new_task_definitions"] = {s.name: s.task_definition_arn for s in state.rollout.services}
    if state.snapshot and state.snapshot.restore_time is not None:
        record["restore_time"] = state.snapshot.restore_time.isoformat()
    elif state.snapshot and state.snapshot.status != WAITING_FOR_DATABASE:  # else RDS never took it
        record["snapshot_id"] = state.snapshot.snapshot_id
    if state.migration:
        record["migration"] = migration_evidence(state)
    if state.verification:
        record["verification"] = state.verification.model_dump(mode="json")
        if state.verification.applied_now is not None:
            record["migrations_applied"] = state.verification.applied_now.model_dump(mode="json")
        record["warnings"] = warnings_of(state)
    if state.rollback:
        record["rollback"] = state.rollback.model_dump(mode="json", exclude={"started_at", "wait_seconds", "polls"})
    return record


def migration_evidence(state: RecordInput) -> dict[str, Any]:
    """The migration task's exit code, log tail and database error, however the migration ended.

    When CheckMigration fails, its result goes into the error (a Catch keeps only Error and Cause) and
    the state still holds StartMigration's: the exit code is then the one StartRollback saw for that
    task, and the tail is read again from the task's log stream (a failed read is a line, not an error).
    """
    assert state.migration is not None
    migration = state.migration
    exit_code, tail = migration.exit_code, migration.log_tail
    if exit_code is None and state.rollback:
        seen = next((t for t in state.rollback.migration_tasks if t.task_arn == migration.task_arn), None)
        exit_code = seen.exit_code if seen else None
    if not tail and migration.log_group and migration.log_stream:
        tail = task_logs.tail(migration.log_group, migration.log_stream)
    return {
        "task_arn": migration.task_arn,
        "exit_code": exit_code,
        "stopped_reason": migration.stopped_reason,
        "log_tail": tail[-20:],
        "database_error": task_logs.database_error(tail) if exit_code else None,
    }


def record_outcome(state: RecordInput, settings: Settings) -> RecordResult:
    outcome = outcome_of(state)
    error, cause = explain(state, outcome)
    record = build_record(state, outcome, error, cause)
    services = [s.name for s in state.plan.services] if state.plan else []
    metrics.add_dimension(name="outcome", value=outcome)
    metrics.add_metric(name="Deployments", unit="Count", value=1)
    finished = datetime.fromisoformat(record["finished_at"])
    steps: dict[str, Callable[[], object]] = {
        # first: the later steps mark themselves done on the record's item
        "record": lambda: table.put_record(settings.table_name, settings.cluster_name, record, services),
        "metrics": lambda: emit_phase_durations(phase_seconds(state, finished)),
        "sns": lambda: notify.publish_sns(settings.topic_arn, _subject(state, outcome), _message(record), outcome),
        "event": lambda: notify.put_event(
            settings.event_bus_name,
            settings.event_source,
            f"Deployment {outcome}",
            {k: v for k, v in record.items() if k != "verification"},
            [state.execution.arn],
        ),
    }
    database = state.plan.database if state.plan else None
    if outcome == "Succeeded" and database and state.snapshot:
        steps["retention"] = lambda: prune_snapshots(database, settings.stack_name, settings.snapshot_retention)
    # Record may run twice (a retry after its work): what the first run did is not done again.
    try:
        done = table.record_steps_done(settings.table_name, settings.cluster_name, record) or set()
    except Exception as exc:  # never block the outcome: at worst a retry notifies twice
        logger.warning("cannot read what an earlier attempt recorded", extra={"reason": str(exc)[:500]})
        done = set()
    for name, step in steps.items():
        if name in done:
            continue
        try:
            step()
        except Exception as exc:  # never block the outcome; the log and the alarm carry it
            logger.exception("record step failed", extra={"step": name, "reason": str(exc)[:500]})
            continue
        try:
            table.mark_record_step(settings.table_name, settings.cluster_name, record, name)
        except Exception as exc:
            logger.warning("cannot mark a record step done", extra={"step": name, "reason": str(exc)[:500]})
    return RecordResult(deployment_id=record["deployment_id"], outcome=outcome, error=error or outcome, cause=cause)


def prune_snapshots(database: DatabaseTarget, stack_name: str, keep: int) -> list[str]:
    """Delete this stack's available pre-deploy snapshots beyond the newest `keep` (tag-checked, never
    another stack's, nor one being created or deleted)."""
    ours = rds.pipeline_snapshots(database, stack_name)
    deleted = []
    for snapshot in ours[keep:]:
        if snapshot.status != "available":
            continue
        rds.delete_snapshot(database, snapshot.identifier)
        deleted.append(snapshot.identifier)
    if deleted:
        logger.info("pruned pre-deploy snapshots", extra={"deleted": deleted})
    return deleted


def _subject(state: RecordInput, outcome: Outcome) -> str:
    plan = state.plan
    what = ", ".join(s.name for s in plan.services) if plan else "deployment"
    image = (plan.image.tag or plan.image.digest[:19]) if plan else state.execution.name
    prefix = "ACTION NEEDED: " if outcome == "RollbackFailed" else ""
    return f"{prefix}[{outcome}] {what} {image}"


def _message(record: dict[str, Any]) -> str:
    lines = [
        f"Outcome: {record['outcome']}",
        f"Deployment: {record['deployment_id']}",
        f"Execution: {record['execution_arn']}",
    ]
    if record.get("started_by"):
        lines.append(f"Started by: {record['started_by']}")
    if record.get("lint_summary"):
        lines.append(f"Lint (the image's label): {record['lint_summary']}")
    if record.get("image_uri"):
        lines.append(f"Image: {record['image_uri']}")
    lines.append("")
    lines.append(record["cause"])
    diff = (record.get("verification") or {}).get("schema_diff") or {}
    if any(diff.values()):
        lines.append("")
        lines.append("Schema changes:")
        for kind in ("added", "removed", "changed"):
            for item in diff.get(kind, []):
                lines.append(f"  {kind}: {item}")
    return "\n".join(lines)
