"""`ecs-migrate-deploy rehearse`: the real pipeline on this machine, on emulated AWS and a real database.

The state machine is the real ASL run by moto's interpreter, the Lambdas are our handlers in-process,
and the migration command really runs against a scratch PostgreSQL database that is created for the
rehearsal and dropped after it (never one the rehearsal did not create).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import psycopg2
from deploy_pipeline.aws.table import deployments_key
from deploy_pipeline.aws.task_logs import database_error
from deploy_pipeline.models.inputs import is_ecr_event
from deploy_pipeline.models.migration_labels import EXPECTED_MIGRATION_LABEL
from psycopg2 import sql

from ecs_migrate_deploy.base_state import BaseStateError, check_ref, checkout, copy_database, prisma_drift
from ecs_migrate_deploy.emulation.engine import Emulator, ExecutionReport
from ecs_migrate_deploy.emulation.seams.ecs_rollouts import RolloutState
from ecs_migrate_deploy.emulation.seams.ecs_tasks import TaskOutcome, TaskRunner
from ecs_migrate_deploy.emulation.world import DbSecret, WorldSpec
from ecs_migrate_deploy.image_labels import NoLabels, labels_for
from ecs_migrate_deploy.lint import LintError
from ecs_migrate_deploy.lint import lint as lint_migrations
from ecs_migrate_deploy.local_migrations import LocalMigrationRunner, MigrationPlan, choose
from ecs_migrate_deploy.lock_report import NO_LOAD, LockSampler, prisma_migrations
from ecs_migrate_deploy.migration_project import NoMigrations
from ecs_migrate_deploy.progress import ProgressTracker, StateLine
from ecs_migrate_deploy.samconfig import SAMCONFIG, SamConfigError, parameter_overrides
from ecs_migrate_deploy.template import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SCENARIOS = ("none", "rollout-fails", "task-fails-to-start")
DEFAULT_TAG = "v1.1.0"


DEFAULT_MIGRATION_COMMAND = "npx prisma migrate deploy"  # template.yaml's MigrationCommand default


class UsageError(Exception):
    """Bad arguments or invalid input: exit 2, nothing created."""


def split_command(command: str) -> list[str]:
    """`--migrate-command`, split with shell rules (quotes kept together), as ECS gets it: an argv."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise UsageError(f"--migrate-command {command!r} cannot be split like a shell would: {exc}") from None
    if not argv:
        raise UsageError("--migrate-command is empty")
    return argv


def _describe(plan: MigrationPlan, parameters: Mapping[str, str], note: Callable[[str], None]) -> None:
    """Say what was detected, from which file, and what will run."""
    if plan.project is not None:
        note(f"detected: {plan.project.described}; VerifyTool {parameters.get('VerifyTool')}")
    program = Path(plan.argv[0])
    if program.is_absolute() and program.is_relative_to(Path.cwd()):
        program = program.relative_to(Path.cwd())
    note(f"migration command: {shlex.join([str(program), *plan.argv[1:]])}: {plan.how}")


@dataclass
class RehearsalResult:
    report: ExecutionReport
    outcome: str
    record: dict[str, Any] | None
    phases: dict[str, float]
    migrator_seconds: float
    migration_command: str
    migration_chosen: str
    tool: str | None
    database: str
    wall_seconds: float
    first_state_seconds: float | None
    base: list[str] = field(default_factory=list)  # how the scratch database was prepared, in order
    drift: list[str] = field(default_factory=list)  # applied migrations edited since
    database_kept: bool = False
    lines: list[StateLine] = field(default_factory=list)
    lint: dict[str, Any] | None = None  # squawk's findings for the migrations it applies (lint.LintReport)
    locks: dict[str, Any] | None = (
        None  # with --from-database: what the migrations locked on the copy, and for how long
    )

    @property
    def exit_code(self) -> int:
        return 0 if self.report.status == "SUCCEEDED" else 1

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.report.status,
            "execution": self.report.arn.rsplit(":", 1)[-1],
            "outcome": self.outcome,
            "error": self.report.error,
            "cause": self.report.cause,
            "states": [
                {"name": line.name, "status": line.status, "seconds": round(line.seconds, 3)} for line in self.lines
            ],
            "deployment": self.record,
            # The pre-deployment snapshot's identifier as RDS has it (None when none was taken).
            "snapshot": (self.record or {}).get("snapshot_id"),
            # The whole command (setup and teardown included), the migrator alone, and the time before
            # the first state had started (the setup a user waits through).
            "wall_seconds": round(self.wall_seconds, 2),
            "migrator_seconds": round(self.migrator_seconds, 2),
            "first_state_seconds": None if self.first_state_seconds is None else round(self.first_state_seconds, 2),
            "migration_command": self.migration_command,
            "migration_command_chosen": self.migration_chosen,
            "tool": self.tool,
            "base": self.base,
            "drift": self.drift,
            "database": {"name": self.database, "kept": self.database_kept},
            "lint": self.lint,
            "locks": self.locks,
        }


def server_url(explicit: str | None) -> str:
    return explicit or os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL") or DEFAULT_SERVER_URL


def parse_parameters(pairs: Sequence[str]) -> dict[str, str]:
    """`KEY=VALUE` pairs checked against template.yaml's own Parameters and their AllowedValues."""
    parameters: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f"--parameter expects KEY=VALUE, got {pair!r}")
        parameters[key] = value
    return checked_parameters(parameters, "--parameter")


def checked_parameters(parameters: Mapping[str, str], source: str) -> dict[str, str]:
    """UsageError unless every name is a template parameter and every value one it allows."""
    declared = load_template(TEMPLATE).get("Parameters", {})
    for key, value in parameters.items():
        if key not in declared:
            raise UsageError(
                f"{source}: unknown parameter {key!r}; template.yaml declares: {', '.join(sorted(declared))}"
            )
        allowed = declared[key].get("AllowedValues")
        if allowed and value not in [str(a) for a in allowed]:
            raise UsageError(f"{source}: parameter {key}={value!r} is not one of {', '.join(str(a) for a in allowed)}")
    return dict(parameters)


# Parameters that name real resources of the team's account. The emulated account makes its own
# (a secret for the scratch database, a VPC, roles) and the rehearsal's connection has no TLS.
STAND_INS = ("DbSecretArn", "DbSslMode", "VerifySubnetIds", "VerifySecurityGroupIds", "PassRoleArns")


def stack_parameters(
    pairs: Sequence[str], config_env: str | None, config_file: Path = SAMCONFIG
) -> tuple[dict[str, str], list[str]]:
    """The deployed stack's parameters (`sam deploy --config-env ENV`'s), overridden by --parameter;
    with what to tell the user about where they came from."""
    given = parse_parameters(pairs)
    if config_env is None:
        return given, []
    try:
        configured = parameter_overrides(config_env, config_file)
    except SamConfigError as exc:
        raise UsageError(f"--config-env {config_env}: {exc}") from None
    checked_parameters(configured, f"{config_file} [{config_env}]")
    kept = {k: v for k, v in configured.items() if k not in STAND_INS}
    notes = [f"stack parameters from {config_file} [{config_env}]: {', '.join(sorted(kept)) or 'none'}"]
    replaced = sorted(set(configured) - set(kept))
    if replaced:
        notes.append(f"emulated instead (they name your account's resources): {', '.join(replaced)}")
    return {**kept, **given}, notes


def load_input(event_file: Path | None, tag: str | None) -> dict[str, Any]:
    if event_file is not None and tag is not None:
        raise UsageError("give --event or --tag, not both")
    if event_file is None:
        return {"image_tag": tag or DEFAULT_TAG}
    try:
        raw = json.loads(event_file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read {event_file}: {exc}") from None
    if not isinstance(raw, dict):
        raise UsageError(f"{event_file} must hold a JSON object (an ECR push event or a manual input)")
    return raw


def validate_input(raw: dict[str, Any], parameters: Mapping[str, str], spec: WorldSpec) -> None:
    """The same validation Resolve does, before anything is created."""
    from deploy_pipeline.errors import InvalidInput
    from deploy_pipeline.logic.resolve import parse_request
    from deploy_pipeline.settings import Settings

    settings = Settings.model_validate(
        {
            "stack_name": spec.stack_name,
            "cluster_name": spec.cluster,
            "service_names": list(spec.services),
            "repository_name": spec.repository,
            "tag_prefix": parameters.get("TagPrefix"),
            "trigger_tags": parameters.get("TriggerTags", ""),
            "migration_container": spec.container_name,
            "migration_command": parameters.get("MigrationCommand", DEFAULT_MIGRATION_COMMAND),
            "db_instance_identifier": spec.db_identifier,
            "db_secret_arn": "validation-only",
            "verify_subnet_ids": "validation-only",
            "verify_security_group_ids": "validation-only",
            "allow_skip_snapshot": parameters.get("AllowSkipSnapshot", "false"),
            "table_name": "validation-only",
            "topic_arn": "validation-only",
        }
    )
    try:
        parse_request(raw, settings)
    except InvalidInput as exc:
        raise UsageError(f"invalid input: {exc}") from None


def world_spec(
    raw: dict[str, Any],
    parameters: Mapping[str, str],
    migration_command: str | None,
    labels: Mapping[str, str] | None = None,
) -> WorldSpec:
    """The emulated world, shaped by the parameters (and the event's repository when not given);
    the release image carries `labels`, as the build step of docs/image-labels.md gives it."""
    spec = WorldSpec()
    event_repo = (raw.get("detail") or {}).get("repository-name") if isinstance(raw.get("detail"), dict) else None
    changes: dict[str, Any] = {}
    if "RepositoryName" in parameters or event_repo:
        changes["repository"] = parameters.get("RepositoryName") or event_repo
    if "ClusterName" in parameters:
        changes["cluster"] = parameters["ClusterName"]
    if "ServiceNames" in parameters:
        changes["services"] = tuple(s.strip() for s in parameters["ServiceNames"].split(",") if s.strip())
    if "MigrationContainerName" in parameters:
        changes["container_name"] = parameters["MigrationContainerName"]
    if parameters.get("DbClusterIdentifier"):
        changes["db_kind"], changes["db_identifier"] = "cluster", parameters["DbClusterIdentifier"]
    elif parameters.get("DbInstanceIdentifier"):
        changes["db_identifier"] = parameters["DbInstanceIdentifier"]
    digest = (raw.get("detail") or {}).get("image-digest") if isinstance(raw.get("detail"), dict) else None
    tag = (raw.get("detail") or {}).get("image-tag") if digest else raw.get("image_tag")
    if tag and tag not in spec.image_tags:
        changes["image_tags"] = (*spec.image_tags, tag)
    if is_ecr_event(raw):
        # The account the push happened in: its account, region and image (by its digest).
        if isinstance(raw.get("account"), str) and re.fullmatch(r"[0-9]{12}", raw["account"]):
            changes["account"] = raw["account"]
        if isinstance(raw.get("region"), str) and re.fullmatch(r"[a-z]{2}(-[a-z]+)+-[0-9]", raw["region"]):
            changes["region"] = raw["region"]
        if isinstance(tag, str) and isinstance(digest, str) and re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
            changes["captured_digests"] = {tag: digest}
    if tag and labels:
        changes["image_labels"] = {tag: dict(labels)}
    if migration_command:
        changes["migration_command"] = migration_command
    return replace(spec, **changes)


@contextmanager
def scratch_database(url: str, keep: bool = False) -> Iterator[tuple[str, DbSecret]]:
    """Create `emd_rehearsal_<random>`, yield its URL and secret, and drop it afterwards (unless kept)."""
    try:
        admin = psycopg2.connect(url, connect_timeout=5)
    except psycopg2.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "connection failed"
        raise UsageError(
            f"no PostgreSQL at {urlsplit(url).hostname}:{urlsplit(url).port or 5432} ({first}); "
            "pass --database-url or set TEST_DATABASE_URL"
        ) from None
    admin.autocommit = True
    name = f"emd_rehearsal_{uuid.uuid4().hex[:10]}"
    with admin.cursor() as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parts = urlsplit(url)
    secret = DbSecret(
        username=parts.username or "postgres",
        password=parts.password or DbSecret().password,  # trust auth ignores it; RDS secrets always have one
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        dbname=name,
    )
    auth = quote(secret.username) + (f":{quote(parts.password)}" if parts.password else "")
    try:
        yield f"postgresql://{auth}@{secret.host}:{secret.port}/{name}", secret
    finally:
        if not keep:
            with admin.cursor() as cur:
                cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()


def _base_state(
    database_url: str,
    migrations: Path,
    explicit: list[str] | None,
    configured: str,
    from_database: str | None,
    base_ref: str | None,
    on_note: Callable[[str], None] | None,
) -> list[str]:
    """Bring the scratch database to the release's starting point; UsageError when that fails."""
    done: list[str] = []
    try:
        if from_database:
            copied = copy_database(from_database, database_url)
            done.append(copied.describe(_safe_url(from_database)))
        if base_ref:
            with checkout(migrations, base_ref) as base_folder:
                outcome = LocalMigrationRunner(workdir=base_folder, database_url=database_url, command=explicit).run(
                    shlex.split(configured)
                )
            if outcome.exit_code != 0:
                error = database_error(list(outcome.output_lines)) or "\n".join(list(outcome.output_lines)[-5:])
                raise BaseStateError(f"the migrations at {base_ref} did not apply (exit {outcome.exit_code}): {error}")
            done.append(f"migrations as they were at {base_ref} applied")
    except BaseStateError as exc:
        raise UsageError(str(exc)) from None
    for line in done:
        if on_note:
            on_note(f"base state: {line}")
    return done


def _lint(migrations: Path, base_ref: str | None, on_note: Callable[[str], None] | None) -> dict[str, Any]:
    """squawk's findings for the migrations this rehearsal applies (those not in `base_ref`), said
    before they run. A lint that cannot run is said too, and does not stop the rehearsal."""
    try:
        report = lint_migrations(migrations, base_ref)
    except LintError as exc:
        if on_note:
            on_note(f"lint: not run: {exc}")
        return {"error": str(exc)}
    if on_note:
        on_note(f"lint: {report.summary()}")
        for finding in report.findings:
            on_note(f"lint: {finding.describe()}")
    return report.as_json()


def _release_labels(migrations: Path) -> dict[str, str]:
    """The labels `ecs-migrate-deploy image-labels` gives an image built from `migrations` ({} if none)."""
    try:
        return labels_for(migrations)
    except NoLabels:
        return {}


def _safe_url(url: str) -> str:
    """host:port/database of a URL, never its password."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}/{parts.path.lstrip('/')}"


def _rollout_fails(initial: Callable[[], Mapping[str, str]]) -> Callable[[str, str], RolloutState]:
    """The circuit breaker trips on the new revision; the rollback to the old one completes."""

    def policy(service_name: str, task_definition_arn: str) -> RolloutState:
        return "COMPLETED" if task_definition_arn == initial().get(service_name) else "FAILED"

    return policy


@dataclass
class _TimedRunner:
    """Wraps the TaskRunner to measure how long the migrator itself ran."""

    inner: TaskRunner
    sampler: LockSampler | None = None  # samples the database's locks while the migrator runs
    seconds: float = 0.0

    def __call__(
        self, task_definition: dict[str, Any], container_overrides: list[dict[str, Any]], started_by: str
    ) -> TaskOutcome | None:
        started = time.perf_counter()
        try:
            with self.sampler.sampling() if self.sampler else nullcontext():
                return self.inner(task_definition, container_overrides, started_by)
        finally:
            self.seconds += time.perf_counter() - started


@dataclass(frozen=True)
class _Prepared:
    """What a rehearsal runs, decided before anything is created."""

    plan: MigrationPlan
    parameters: Mapping[str, str]
    spec: WorldSpec
    labels: dict[str, str]
    explicit: list[str] | None  # --migrate-command, split
    configured: str  # the stack's MigrationCommand


def _prepare(
    migrations: Path,
    raw_input: dict[str, Any],
    parameters: Mapping[str, str],
    migrate_command: str | None,
    scenario: str,
    base_ref: str | None,
) -> _Prepared:
    """Check the usage and choose the command, the VerifyTool and the emulated world (UsageError if wrong)."""
    if scenario not in SCENARIOS:
        raise UsageError(f"unknown scenario {scenario!r}; choose from {', '.join(SCENARIOS)}")
    if not migrations.is_dir():
        raise UsageError(f"--migrations {migrations} is not a directory")
    explicit = split_command(migrate_command) if migrate_command is not None else None
    configured = parameters.get("MigrationCommand", DEFAULT_MIGRATION_COMMAND)
    if (
        not configured.strip()
        and not parameters.get("DbInstanceIdentifier")
        and not parameters.get("DbClusterIdentifier")
    ):
        raise UsageError(
            "this stack has no database (empty MigrationCommand, no DB identifier): there is no migration to "
            "rehearse; its deployments go from the lock to the rollout (README, 'A service without a database')"
        )
    try:
        plan = choose(migrations, explicit, shlex.split(configured))
    except NoMigrations as exc:
        raise UsageError(str(exc)) from None
    if base_ref:
        try:
            check_ref(migrations, base_ref)
        except BaseStateError as exc:
            raise UsageError(str(exc)) from None
    if plan.project is not None and "VerifyTool" not in parameters:
        parameters = {**parameters, "VerifyTool": plan.project.tool}
    if explicit is None and plan.project is not None and plan.project.tool == "alembic":
        migrate_command = shlex.join(plan.argv)  # the stack would be configured with the tool's own command
    labels = _release_labels(migrations) if plan.project is not None else {}
    spec = world_spec(raw_input, parameters, migrate_command, labels)
    validate_input(raw_input, parameters, spec)
    return _Prepared(plan, parameters, spec, labels, explicit, configured)


def _notes(
    prepared: _Prepared, raw_input: dict[str, Any], database_url: str | None, note: Callable[[str], None]
) -> None:
    """What the rehearsal decided, said before it starts."""
    spec, parameters = prepared.spec, prepared.parameters
    if is_ecr_event(raw_input) and "RepositoryName" not in parameters:
        note(
            f"the stack is shaped from the event: repository {spec.repository}, account {spec.account}, "
            f"region {spec.region}; pass --config-env ENV to check the push against your stack's parameters"
        )
    _describe(prepared.plan, parameters, note)
    expected = prepared.labels.get(EXPECTED_MIGRATION_LABEL)
    note(
        f"expected migration: {expected} (the newest in the folder, carried by the image's label)"
        if expected
        else "expected migration: none (the folder does not tell its newest): Verify checks the tool's history only"
    )
    named = urlsplit(server_url(database_url)).path.lstrip("/")
    if named not in ("", "postgres"):
        note(
            f"the server's database {named!r} is only used to connect: the rehearsal runs on a new scratch "
            "database (to rehearse on a copy of it, pass --from-database)"
        )


def _failing_to_start(task_definition: dict[str, Any], overrides: list[dict[str, Any]], started_by: str) -> TaskOutcome:
    """The task-fails-to-start scenario's migration task."""
    return TaskOutcome.failed_to_start("CannotPullContainerError: pull access denied (rehearsal scenario)")


@dataclass
class _Progress:
    """The live view's tracker, fed the execution's events with the waits the emulator skipped for them."""

    emulator: Emulator
    started: float  # when the command began (time.monotonic())
    on_state: Callable[[StateLine], None] | None
    arn: str = ""
    first_state: float | None = None  # seconds from the command's start to the first state's start
    _waits: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _waited_for_event: dict[str, float] = field(default_factory=dict)
    _seen_sleeps: int = 0  # sleeps already queued for the tracker (they are consumed as Waits exit)
    tracker: ProgressTracker = field(init=False)

    def __post_init__(self) -> None:
        self.tracker = ProgressTracker(emit=self._emit, sleeps_for=self._slept)

    def _slept(self, name: str) -> float:
        return self._waits[name].popleft() if self._waits[name] else self._waited_for_event.pop(name, 0.0)

    def _emit(self, line: StateLine) -> None:
        if self.first_state is None:  # when the first state started: its end, less its own duration
            self.first_state = time.monotonic() - self.started - line.seconds
        if self.on_state:
            self.on_state(line)

    def feed(self, event: dict[str, Any]) -> None:
        sleeps = self.emulator.seams.sleeps.for_execution(self.arn)
        for sleep in sleeps[self._seen_sleeps :]:
            if sleep.kind == "wait" and sleep.state:
                self._waits[sleep.state].append(sleep.seconds)
            elif sleep.kind == "event" and sleep.state:  # the ticks of one event-driven wait
                self._waited_for_event[sleep.state] = self._waited_for_event.get(sleep.state, 0.0) + sleep.seconds
        self._seen_sleeps = len(sleeps)
        self.tracker(event)


def _start(emulator: Emulator, raw_input: dict[str, Any]) -> str:
    """Start the execution as AWS would: a push through the stack's rule (named by "AWS"), a manual
    input directly."""
    if not is_ecr_event(raw_input):
        return emulator.start(raw_input, name=f"rehearsal-{uuid.uuid4().hex[:8]}")
    delivered = emulator.deliver(raw_input)
    if delivered is None:
        raise UsageError(
            "the stack's trigger rule does not match this event "
            f"({json.dumps(emulator.world.trigger_pattern())}): on AWS no deployment would start"
        )
    return delivered


def _locks(sampler: LockSampler | None, plan: MigrationPlan) -> dict[str, Any] | None:
    """The lock report of a rehearsal on a copy (None without --from-database)."""
    if sampler is None:
        return None
    held = sampler.report(prisma_migrations(plan.project.migrations_dir if plan.project else None))
    return {
        "held": [lock.as_json() for lock in held],
        "lines": [lock.describe() for lock in held],
        "sampled_every_seconds": sampler.interval,
        "samples": len(sampler.samples),
        "incomplete": sampler.error,
        "note": NO_LOAD,
    }


def rehearse(
    *,
    migrations: Path,
    raw_input: dict[str, Any],
    parameters: Mapping[str, str],
    database_url: str | None = None,
    migrate_command: str | None = None,
    scenario: str = "none",
    keep_database: bool = False,
    on_state: Callable[[StateLine], None] | None = None,
    on_output: Callable[[str], None] | None = None,
    on_note: Callable[[str], None] | None = None,
    started: float | None = None,
    from_database: str | None = None,
    base_ref: str | None = None,
) -> RehearsalResult:
    """One rehearsal; `started` is when the command began (time.monotonic()), for its wall time."""
    started = time.monotonic() if started is None else started
    prepared = _prepare(migrations, raw_input, parameters, migrate_command, scenario, base_ref)
    plan = prepared.plan
    if on_note:
        _notes(prepared, raw_input, database_url, on_note)
    lint_report = _lint(migrations, base_ref, on_note) if plan.project is not None else None
    with scratch_database(server_url(database_url), keep=keep_database) as (db_url, secret):
        base = _base_state(db_url, migrations, prepared.explicit, prepared.configured, from_database, base_ref, on_note)
        local = LocalMigrationRunner(
            workdir=migrations, database_url=db_url, command=prepared.explicit, on_line=on_output
        )
        sampler = LockSampler(db_url) if from_database else None
        timed = _TimedRunner(_failing_to_start if scenario == "task-fails-to-start" else local, sampler)
        holder: dict[str, Emulator] = {}
        policy = (
            _rollout_fails(lambda: holder["emu"].world.task_definition_arns) if scenario == "rollout-fails" else None
        )
        emulator = holder["emu"] = Emulator(
            replace(prepared.spec, db_secret=secret, db_sslmode="disable"),
            task_runner=timed,
            rollout_policy=policy,
            parameters={"DbSslMode": "disable", **prepared.parameters},
            extra_env={"POWERTOOLS_METRICS_DISABLED": "1", "POWERTOOLS_LOG_LEVEL": "ERROR"},
        )
        progress = _Progress(emulator, started, on_state)
        with emulator:
            progress.arn = _start(emulator, raw_input)
            report = emulator.wait(progress.arn, timeout=900, on_event=progress.feed)
            record = _read_record(emulator, progress.arn)
        drift = (
            prisma_drift(db_url, plan.project.migrations_dir) if plan.project and plan.project.migrations_dir else []
        )
    outcome = (record or {}).get("outcome") or ("Succeeded" if report.status == "SUCCEEDED" else "Failed")
    return RehearsalResult(
        report=report,
        outcome=outcome,
        record=record,
        phases=progress.tracker.phase_seconds(),
        migrator_seconds=timed.seconds,
        migration_command=shlex.join(plan.argv),
        migration_chosen=plan.how,
        tool=plan.project.tool if plan.project else None,
        database=secret.dbname,
        wall_seconds=time.monotonic() - started,
        first_state_seconds=progress.first_state,
        base=base,
        drift=drift,
        database_kept=keep_database,
        lines=progress.tracker.lines,
        lint=lint_report,
        locks=_locks(sampler, plan),
    )


def _read_record(emulator: Emulator, execution_arn: str) -> dict[str, Any] | None:
    world = emulator.world
    items = emulator.client("dynamodb").query(
        TableName=world.table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": deployments_key(world.cluster_name)}},
    )["Items"]
    for item in items:
        record: dict[str, Any] = json.loads(item["record"]["S"])
        if record.get("execution_arn") == execution_arn:
            return record
    return None
