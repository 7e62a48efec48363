"""Resolve: turn an ECR push or a manual start into a validated DeploymentPlan, touching nothing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import ValidationError

from deploy_pipeline.aws import ecr, ecs, rds, table
from deploy_pipeline.errors import ConfigurationError, InvalidInput, NotPromoted
from deploy_pipeline.logic.identifiers import safe_deployment_id
from deploy_pipeline.models import migration_labels
from deploy_pipeline.models.inputs import EcrPushEvent, ManualInput, ManualOptions, is_ecr_event
from deploy_pipeline.models.state import (
    DatabaseTarget,
    DeploymentPlan,
    ImageRef,
    MigrationExpectation,
    PlanOptions,
    ResolveOutput,
    ServiceTarget,
    StartInput,
)
from deploy_pipeline.settings import Settings

Trigger = Literal["ecr-push", "manual"]


# A real ECR push event is under 2 KB and the largest valid manual input under 1 KB; anything near
# Step Functions' 256 KB is junk, refused before any field of it is looked at.
MAX_INPUT_BYTES = 16 * 1024


def printable(text: str, limit: int) -> str:
    """`text` on one line of at most `limit` characters: line breaks, control and invisible characters
    (bidi overrides, zero-width spaces) escaped, so a reason cannot forge log lines or hide its content."""
    escaped = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
    return escaped if len(escaped) <= limit else escaped[: limit - 1] + "…"


def describe_validation_error(what: str, exc: ValidationError) -> str:
    """One line a person can act on: the first problems, with where they are (field names included:
    an unknown field's name comes from the input, hence `printable`)."""
    parts = []
    for err in exc.errors()[:3]:
        where = printable(".".join(str(p) for p in err["loc"]) or what, 80)
        parts.append(f"{where}: {printable(err['msg'], 200)}")
    more = len(exc.errors()) - 3
    return f"invalid {what}: " + "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def input_size(raw: Any) -> int:
    """Bytes of the input as JSON (lone surrogates, which JSON can carry, counted rather than refused)."""
    return len(json.dumps(raw, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))


def parse_request(raw: Any, settings: Settings) -> tuple[Trigger, str | None, str | None, ManualOptions]:
    """(trigger, tag, digest, options) from the raw input, or InvalidInput with a one-line reason."""
    size = input_size(raw)
    if size > MAX_INPUT_BYTES:
        raise InvalidInput(
            f"the input is {size} bytes; a deployment request (an ECR push event or a manual input) "
            f"is at most {MAX_INPUT_BYTES} bytes"
        )
    if is_ecr_event(raw):
        detail = raw.get("detail") if isinstance(raw.get("detail"), dict) else {}
        action, result = detail.get("action-type"), detail.get("result")
        if action is not None and action != "PUSH":
            raise InvalidInput(f"the ECR event is a {str(action)[:20]!r} action, not a PUSH: nothing to deploy")
        if result is not None and result != "SUCCESS":
            raise InvalidInput(f"the ECR push did not succeed (result {str(result)[:20]!r}): nothing to deploy")
        try:
            event = EcrPushEvent.model_validate(raw)
        except ValidationError as exc:
            raise InvalidInput(describe_validation_error("ECR event", exc)) from None
        if event.detail.repository_name != settings.repository_name:
            raise InvalidInput(
                f"the push is to repository {event.detail.repository_name!r}; "
                f"this stack deploys {settings.repository_name!r}"
            )
        tag = event.detail.image_tag
        if tag is not None and not tag_allowed(tag, settings.tag_prefix, settings.trigger_tags):
            raise InvalidInput(f"tag {tag!r} is filtered out by this stack's tag filter ({tag_filter_text(settings)})")
        return "ecr-push", tag, event.detail.image_digest, ManualOptions()
    if not isinstance(raw, dict):
        raise InvalidInput(
            'invalid manual input: expected a JSON object like {"image_tag": "v1.2.3"} '
            f"or an ECR push event, got {type(raw).__name__}"
        )
    try:
        manual = ManualInput.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error("manual input", exc)) from None
    if manual.repository is not None and manual.repository != settings.repository_name:
        raise InvalidInput(
            f"repository {manual.repository!r} is not the one this stack deploys ({settings.repository_name!r})"
        )
    if manual.options.skip_snapshot and not settings.allow_skip_snapshot:
        raise InvalidInput("skip_snapshot is not allowed by this stack (parameter AllowSkipSnapshot is false)")
    if manual.options.expected_migration is not None and not settings.has_database:
        raise InvalidInput(
            "expected_migration cannot be checked: this stack has no database (no DB identifier, empty MigrationCommand)"
        )
    return "manual", manual.image_tag, manual.image_digest, manual.options


def tag_allowed(tag: str, prefix: str | None, exact: Sequence[str] = ()) -> bool:
    """The same rule as the EventBridge pattern: the exact tags if any are set, else the prefix if one
    is set, else anything but `latest`."""
    if exact:
        return tag in exact
    return tag.startswith(prefix) if prefix else tag != "latest"


def tag_filter_text(settings: Settings) -> str:
    if settings.trigger_tags:
        return f"exact tags {', '.join(repr(t) for t in settings.trigger_tags)}"
    return f"prefix {settings.tag_prefix!r}" if settings.tag_prefix else "every tag except 'latest'"


def refuse_other_deployment_controllers(services: list[ecs.ServiceInfo]) -> None:
    """Only the rolling-update (ECS) controller takes a new task definition through UpdateService.

    UpdateService's model doc: for CODE_DEPLOY services "only the desired count, deployment
    configuration, health check grace period, task placement constraints and strategies, enable ECS
    managed tags option, and propagate tags can be updated", and for EXTERNAL ones the task definition
    belongs to a task set. Found at StartRollout, the migration would already have run.
    """
    others = [f"{s.name!r} ({s.deployment_controller})" for s in services if s.deployment_controller != "ECS"]
    if others:
        raise ConfigurationError(
            f"service(s) {', '.join(others)} do not use the rolling update (ECS) deployment controller; "
            "CODE_DEPLOY and EXTERNAL services take new task definitions through CodeDeploy or task sets, "
            "which this pipeline does not drive"
        )


def expectation_for(image: ImageRef, options: ManualOptions) -> tuple[MigrationExpectation, str | None]:
    """What Verify must require: the image's labels (read here, by digest) or the manual option; and
    the image's lint summary, if it carries one (recorded, never required).

    Reading is read-only and safe to repeat; a label that cannot be read never fails the deployment
    (the plan says why its checks are skipped), a malformed one is InvalidImageLabel
    (migration_labels.expectation says why).
    """
    if options.rollback:
        reason = "a rollback deploys without migrating: nothing is expected of the database"
        return MigrationExpectation(reason=reason), None
    try:
        labels, unreadable = ecr.image_labels(image.repository, image.digest), None
    except ecr.LabelsUnreadable as exc:
        labels, unreadable = {}, printable(str(exc), 300)
    expected = migration_labels.expectation(labels, unreadable, options.expected_migration)
    return expected, migration_labels.lint_summary(labels)


def require_promoted(image: ImageRef, table_name: str) -> None:
    """NotPromoted unless `image` has a Succeeded deployment in the stack whose table is `table_name`
    (RequireSucceededIn: prod takes only what dev deployed). A rollback is exempt: it returns to an
    image this stack ran. The read is one Query on the digest (the `SUCCEEDED#<digest>` items Record
    writes); a table that cannot be read is a ConfigurationError, never a pass."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        found = table.succeeded_deployment(table_name, image.digest)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "?")
        raise ConfigurationError(f"RequireSucceededIn: the table {table_name!r} cannot be read ({code})") from None
    except BotoCoreError as exc:
        raise ConfigurationError(f"RequireSucceededIn: the table {table_name!r} cannot be read ({exc})") from None
    if found is None:
        raise NotPromoted(
            f"{image.repository}@{image.digest} has no Succeeded deployment in {table_name!r} (RequireSucceededIn): "
            "deploy it there first, or promote what that stack deployed (`ecs-migrate-deploy promote`)"
        )


NO_DATABASE_EXPECTATION = MigrationExpectation(
    reason="this stack has no database: nothing is migrated or verified",
    checksums_reason="this stack has no database",
)


def require_automated_backups(database: DatabaseTarget) -> None:
    """RestorePoint=point-in-time restores from automated backups: with BackupRetentionPeriod 0 there
    are none ("Setting this parameter to 0 disables automated backups", botocore's RDS model), and no
    restore point would exist. Refused before anything is touched."""
    days = rds.backup_retention_days(database)
    if days <= 0:
        raise ConfigurationError(
            f"RestorePoint=point-in-time needs automated backups, and RDS {database.kind} "
            f"{database.identifier!r} has BackupRetentionPeriod 0: turn them on (e.g. 7 days), or use "
            "RestorePoint=snapshot"
        )


def configured_database(settings: Settings) -> DatabaseTarget | None:
    """The stack's database, or None for a service without one (the plan then skips the snapshot, the
    migration and the verification: the state machine goes from the lock to the rollout)."""
    if settings.db_instance_identifier:
        return DatabaseTarget(kind="instance", identifier=settings.db_instance_identifier)
    if settings.db_cluster_identifier:
        return DatabaseTarget(kind="cluster", identifier=settings.db_cluster_identifier)
    return None


def started_by(raw: Any, trigger: Trigger) -> str:
    """Who asked for the deployment, in words for the record (the raw input is already validated)."""
    if trigger == "ecr-push":
        return "ECR push"
    given = raw.get("started_by") if isinstance(raw, dict) else None
    return str(given) if given else "unnamed manual start"


def resolve(start: StartInput, settings: Settings) -> ResolveOutput:
    trigger, tag, digest, options = parse_request(start.input, settings)
    repository_uri = ecr.repository_uri(settings.repository_name)
    image = ecr.find_image(settings.repository_name, tag=tag, digest=digest)
    image_ref = ImageRef(
        repository=settings.repository_name,
        repository_uri=repository_uri,
        digest=image.digest,
        tag=tag or (image.tags[0] if image.tags else None),
    )
    if settings.require_succeeded_in and not options.rollback:
        require_promoted(image_ref, settings.require_succeeded_in)
    services = ecs.describe_services(settings.cluster_name, settings.service_names)
    refuse_other_deployment_controllers(services)
    running_new_image = 0
    for index, service in enumerate(services):
        task_definition, _ = ecs.describe_task_definition(service.task_definition_arn)
        ours = ecs.images_from_repository(task_definition, repository_uri)
        if not ours:
            raise ConfigurationError(
                f"service {service.name!r} runs no container from repository {settings.repository_name!r}"
            )
        if index == 0 and settings.has_database and settings.migration_container not in ours:
            raise ConfigurationError(
                f"the migration container {settings.migration_container!r} is not a container of service "
                f"{service.name!r} running an image of {settings.repository_name!r} (it has: {', '.join(sorted(ours))})"
            )
        if all(image_uri == image_ref.uri for image_uri in ours.values()):
            running_new_image += 1
    database = configured_database(settings)
    if database is not None:
        rds.check_database(database)
        if settings.restore_point == "point-in-time" and not options.rollback:
            require_automated_backups(database)
    noop = running_new_image == len(services)
    expectation, lint_summary = expectation_for(image_ref, options) if database else (NO_DATABASE_EXPECTATION, None)
    plan = DeploymentPlan(
        deployment_id=safe_deployment_id(start.execution.name),
        trigger=trigger,
        started_by=started_by(start.input, trigger),
        image=image_ref,
        cluster=settings.cluster_name,
        services=[ServiceTarget(name=s.name, arn=s.arn, task_definition_arn=s.task_definition_arn) for s in services],
        migration_container=settings.migration_container,
        migration_command=settings.migration_command,
        database=database,
        options=PlanOptions.model_validate(options.model_dump()),
        requested_at=(
            EcrPushEvent.model_validate(start.input).time if trigger == "ecr-push" else start.execution.started_at
        ),
        noop=noop,
        noop_reason=f"every service already runs {image_ref.digest}" if noop else None,
        expectation=expectation,
        lint_summary=lint_summary,
    )
    return ResolveOutput(execution=start.execution, plan=plan)
