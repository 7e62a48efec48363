"""The `ecs-migrate-deploy` command: rehearse a deployment locally, and operate a deployed stack.

Each command parses its options and delegates: `rehearse` to ecs_migrate_deploy.rehearse, the
operator commands to ecs_migrate_deploy.operator (imported when run, so `--help` stays fast).
Exit codes: 0 done / deployment succeeded, 1 the deployment failed, 2 could not do what was asked.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from ecs_migrate_deploy.console import ProgressPrinter

if TYPE_CHECKING:
    from ecs_migrate_deploy.operator.stack import Operator
    from ecs_migrate_deploy.operator.trigger import TriggerState
    from ecs_migrate_deploy.operator.watch import Watched


def command_started() -> float:
    """When this process started, on time.monotonic()'s clock: a command's wall time includes the
    interpreter's start and the imports, which the user waits through too.

    Linux gives the start in clock ticks since boot (/proc/self/stat, field 22, proc(5)); elsewhere
    the time this module was imported is the closest there is.
    """
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started_since_boot = int(fields[19]) / os.sysconf("SC_CLK_TCK")
        return time.monotonic() - (time.clock_gettime(time.CLOCK_BOOTTIME) - started_since_boot)
    except (OSError, ValueError, IndexError, AttributeError):
        return _IMPORTED


_IMPORTED = time.monotonic()
app = typer.Typer(add_completion=False, no_args_is_help=True, help="A release phase for Amazon ECS.")
ROOT = Path(__file__).resolve().parents[2]


def _print_version(wanted: bool) -> None:
    """`--version`: the installed distribution's version (its metadata, so it cannot drift from the build)."""
    if wanted:
        from importlib.metadata import version

        typer.echo(f"ecs-migrate-deploy {version('ecs-migrate-deploy')}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """ecs-migrate-deploy: snapshot, migrate, verify and roll out every new image."""


def _require_extra(extra: str, modules: tuple[str, ...]) -> None:
    """Exit 2 with the install command when an optional part is missing: the operator commands need
    only boto3 and the CLI libraries, `rehearse` and `lint` need more (pyproject.toml's extras)."""
    from importlib.util import find_spec

    missing = [module for module in modules if find_spec(module) is None]
    if missing:
        typer.echo(
            f"error: this command needs ecs-migrate-deploy's {extra!r} extra (missing: {', '.join(missing)}): "
            f"pipx install 'ecs-migrate-deploy[{extra}]' (or pip install)",
            err=True,
        )
        raise typer.Exit(2)


def default_migrations() -> Path:
    """The current folder when it holds migrations; in a source checkout without any there, the
    bundled example (what `make demo` rehearses). A pip-installed CLI has no example: the rehearsal
    then says what it looked for in the current folder."""
    from ecs_migrate_deploy.migration_project import NoMigrations, detect

    here = Path.cwd()
    try:
        detect(here)
    except NoMigrations:
        example = ROOT / "examples" / "shop"
        return example if example.is_dir() else here
    return here


# `rehearse`'s options (one alias each, so the command's signature reads in one screen).
RehearseMigrations = Annotated[
    Path | None,
    typer.Option(
        help="Project folder with the migrations (Prisma migrations/, alembic.ini, ...). Default: the current "
        "folder, or in a source checkout without migrations there, the bundled example.",
        show_default=False,
    ),
]
RehearseEvent = Annotated[
    Path | None, typer.Option(help="An ECR push event or a manual input (JSON), validated as in AWS.")
]
RehearseTag = Annotated[str | None, typer.Option(help="Deploy this tag (manual start). Default: v1.1.0.")]
RehearseParameter = Annotated[
    list[str] | None, typer.Option("--parameter", "-p", help="Template parameter override KEY=VALUE (repeatable).")
]
RehearseDatabaseUrl = Annotated[
    str | None,
    typer.Option(
        help="PostgreSQL server to create the scratch database on (default: TEST_DATABASE_URL, DATABASE_URL, 127.0.0.1:5432)."
    ),
]
RehearseMigrateCommand = Annotated[
    str | None, typer.Option(help="Command that applies the migrations (default: chosen from the folder).")
]
RehearseScenario = Annotated[
    str, typer.Option(help="Make emulated AWS misbehave: none, rollout-fails, task-fails-to-start.")
]
RehearseJsonOutput = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of the live view.")]
RehearseKeepDatabase = Annotated[
    bool, typer.Option(help="Keep the scratch database afterwards (its name is printed) instead of dropping it.")
]
RehearseFromDatabase = Annotated[
    str | None,
    typer.Option(
        help="Rehearse on a copy of this database (schema and data, pg_dump | pg_restore); it is only read.",
        show_default=False,
    ),
]
RehearseBaseRef = Annotated[
    str | None,
    typer.Option(
        help="First apply the migrations as they were at this git commit, then rehearse the release.",
        show_default=False,
    ),
]
RehearseConfigEnv = Annotated[
    str | None,
    typer.Option(
        help="Take the stack's parameters from samconfig.toml's environment, as `sam deploy --config-env`.",
        show_default=False,
    ),
]
RehearseConfigFile = Annotated[Path, typer.Option(help="The SAM configuration file --config-env reads.")]


@app.command()
def rehearse(
    migrations: RehearseMigrations = None,
    event: RehearseEvent = None,
    tag: RehearseTag = None,
    parameter: RehearseParameter = None,
    database_url: RehearseDatabaseUrl = None,
    migrate_command: RehearseMigrateCommand = None,
    scenario: RehearseScenario = "none",
    json_output: RehearseJsonOutput = False,
    keep_database: RehearseKeepDatabase = False,
    from_database: RehearseFromDatabase = None,
    base_ref: RehearseBaseRef = None,
    config_env: RehearseConfigEnv = None,
    config_file: RehearseConfigFile = Path("samconfig.toml"),
) -> None:
    """Run the real pipeline on this machine: emulated AWS, the real ASL, a real PostgreSQL."""
    _require_extra("rehearse", ("moto", "aws_lambda_powertools", "psycopg2", "yaml", "sqlalchemy"))
    from ecs_migrate_deploy.rehearse import UsageError, load_input, stack_parameters
    from ecs_migrate_deploy.rehearse import rehearse as run_rehearsal

    console = Console(stderr=json_output, highlight=False, soft_wrap=True)
    quiet = json_output
    printer = ProgressPrinter(console, quiet=quiet)
    shown: set[str] = set()

    def output(line: str) -> None:
        shown.add(line)
        printer.output(line)

    if migrations is None:
        migrations = default_migrations()
    try:
        params, notes = stack_parameters(parameter or [], config_env, config_file)
        raw = load_input(event, tag)
        for line in notes:
            printer.note(line)
        if not quiet:
            console.print(f"[bold]Rehearsing[/] {escape(json.dumps(raw)[:120])} with migrations from {migrations}")
        result = run_rehearsal(
            migrations=migrations,
            raw_input=raw,
            parameters=params,
            database_url=database_url,
            migrate_command=migrate_command,
            scenario=scenario,
            keep_database=keep_database,
            from_database=from_database,
            base_ref=base_ref,
            on_state=printer.state,
            on_output=output,
            started=command_started(),
            on_note=printer.note,
        )
    except UsageError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if json_output:
        sys.stdout.write(json.dumps(result.as_json(), default=str) + "\n")
        raise typer.Exit(result.exit_code)
    from ecs_migrate_deploy.rehearsal_render import print_rehearsal

    print_rehearsal(console, result, shown)
    raise typer.Exit(result.exit_code)


# ---- operator commands: a deployed stack, through real AWS APIs ----------------------------------

StackName = Annotated[
    str | None,
    typer.Option(
        "--stack-name", help="The deployed stack (default: stack_name in ./samconfig.toml).", show_default=False
    ),
]
ConfigEnv = Annotated[
    str, typer.Option("--config-env", help="samconfig.toml environment that names the default stack, as for `sam`.")
]
Region = Annotated[
    str | None,
    typer.Option(
        "--region",
        help="AWS region (default: AWS_REGION, else AWS_DEFAULT_REGION, else your profile's).",
        show_default=False,
    ),
]
Profile = Annotated[
    str | None,
    typer.Option("--profile", help="AWS named profile (default: the standard credential chain).", show_default=False),
]
Interval = Annotated[float, typer.Option("--interval", min=0.1, help="Seconds between two reads of the history.")]
Heartbeat = Annotated[
    float,
    typer.Option(
        "--heartbeat",
        min=0.1,
        help="While watching: a progress line (phase, what it waits for, what ECS reports) after this many "
        "seconds without output.",
    ),
]
Watch = Annotated[bool, typer.Option("--watch", help="Follow the execution until it ends (exit code = outcome).")]
ExecutionArg = Annotated[
    str | None, typer.Argument(help="Execution name or ARN (of this stack's state machine).", show_default=False)
]
Latest = Annotated[bool, typer.Option("--latest", help="The newest execution instead of a named one.")]
JsonOutput = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
OnlyService = Annotated[str | None, typer.Option(help="Only this service.", show_default=False)]
JsonObject = Annotated[
    bool, typer.Option("--json", help="Print one JSON object on stdout (with --watch: the live view on stderr).")
]


@contextmanager
def _operator_errors() -> Iterator[None]:
    """Problems the person can fix, and AWS errors, as one line on stderr and exit code 2."""
    from botocore.exceptions import BotoCoreError, ClientError

    from ecs_migrate_deploy.operator import OperatorError

    try:
        yield
    except OperatorError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except (BotoCoreError, ClientError) as exc:
        typer.echo(f"error: AWS: {exc}", err=True)
        raise typer.Exit(2) from None


def _connect(stack_name: str | None, config_env: str, region: str | None, profile: str | None) -> Operator:
    from ecs_migrate_deploy.operator.stack import connect

    return connect(stack_name, config_env, region, profile)


@dataclass(frozen=True)
class StackLocation:
    """Where the deployed stack is: what --stack-name, --config-env, --region and --profile said."""

    stack_name: str | None
    config_env: str
    region: str | None
    profile: str | None

    def connect(self) -> Operator:
        return _connect(self.stack_name, self.config_env, self.region, self.profile)


_LOCATION_OPTIONS = (
    ("stack_name", StackName, None),
    ("config_env", ConfigEnv, "default"),
    ("region", Region, None),
    ("profile", Profile, None),
)


def stack_location(command: Callable[..., None]) -> Callable[..., None]:
    """Give an operator command the four options that find the stack, as one `location` argument.

    Typer reads a command's options from its signature: the one it sees here is the command's own,
    without `location`, plus the four options (keyword-only, after the command's), so every command
    spells and documents them the same way without repeating them.
    """
    signature = inspect.signature(command, eval_str=True)
    options = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
        for name, annotation, default in _LOCATION_OPTIONS
    ]

    @functools.wraps(command)
    def with_location(
        *args: Any, stack_name: str | None, config_env: str, region: str | None, profile: str | None, **kwargs: Any
    ) -> None:
        command(*args, location=StackLocation(stack_name, config_env, region, profile), **kwargs)

    own = [parameter for name, parameter in signature.parameters.items() if name != "location"]
    with_location.__signature__ = signature.replace(parameters=[*own, *options])  # type: ignore[attr-defined]
    return with_location


@app.command()
@stack_location
def start(
    location: StackLocation,
    tag: Annotated[str | None, typer.Option(help="Deploy the image with this tag.", show_default=False)] = None,
    digest: Annotated[
        str | None, typer.Option(help="Deploy the image with this digest (sha256:...).", show_default=False)
    ] = None,
    skip_snapshot: Annotated[
        bool, typer.Option("--skip-snapshot", help="No pre-deploy snapshot (the stack must allow it).")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Resolve and lock only; touch nothing.")] = False,
    expected_migration: Annotated[
        str | None,
        typer.Option(help="Fail the verification unless this migration is applied afterwards.", show_default=False),
    ] = None,
    watch: Watch = False,
    interval: Interval = 2.0,
    heartbeat: Heartbeat = 30.0,
    json_output: JsonObject = False,
) -> None:
    """Start a deployment of an image (by tag or digest) through the stack's state machine."""
    from ecs_migrate_deploy.console import ci_console
    from ecs_migrate_deploy.operator import OperatorError
    from ecs_migrate_deploy.operator.executions import execution_name, manual_input
    from ecs_migrate_deploy.operator.executions import start as start_execution
    from ecs_migrate_deploy.operator.render import print_started

    console = ci_console(stderr=json_output)
    with _operator_errors():
        execution_input = manual_input(
            tag=tag, digest=digest, skip_snapshot=skip_snapshot, dry_run=dry_run, expected_migration=expected_migration
        )
        operator = location.connect()
        if skip_snapshot and operator.stack.parameters.get("AllowSkipSnapshot") != "true":
            raise OperatorError(f"stack {operator.stack.name!r} does not allow --skip-snapshot (AllowSkipSnapshot)")
        started = start_execution(operator, execution_input, execution_name("manual", tag or digest or ""))
        if not json_output:
            print_started(console, started)
        watched = _watch(operator, started.arn, interval, heartbeat, console) if watch else None
    _finish(json_output, {"execution": vars(started)}, watched)


def _watch(operator: Operator, arn: str, interval: float, heartbeat: float, console: Console) -> Watched:
    """The live view to the end; Ctrl-C says what it leaves running and exits 130 (128 + SIGINT)."""
    from ecs_migrate_deploy.operator.watch import Interrupted, interrupted_lines, watch_and_report

    console.print()
    try:
        return watch_and_report(operator, arn, console, interval=interval, heartbeat=heartbeat)
    except Interrupted as interrupted:
        for line in interrupted_lines(operator, interrupted):
            typer.echo(line, err=True)
        raise typer.Exit(130) from None


def _finish(json_output: bool, data: dict[str, object], watched: Watched | None) -> None:
    """`--json`'s one object (with how the watched execution ended), and the exit code: 1 if it failed."""
    if json_output:
        sys.stdout.write(json.dumps({**data, **(watched.as_json() if watched else {})}, default=str) + "\n")
    raise typer.Exit(watched.exit_code if watched else 0)


@app.command()
@stack_location
def watch(
    location: StackLocation,
    execution: ExecutionArg = None,
    latest: Latest = False,
    image_digest: Annotated[
        str | None,
        typer.Option(
            "--image-digest",
            help="Follow the execution that deploys this image digest (a push's, or a start's), waiting for it to start.",
            show_default=False,
        ),
    ] = None,
    wait_start: Annotated[
        float,
        typer.Option("--wait-start", min=0, help="With --image-digest: seconds to wait for the execution to start."),
    ] = 120.0,
    lookback: Annotated[
        float,
        typer.Option(
            "--lookback", min=0, help="With --image-digest: also take an execution started this many seconds before."
        ),
    ] = 900.0,
    interval: Interval = 2.0,
    heartbeat: Heartbeat = 30.0,
    json_output: JsonObject = False,
) -> None:
    """Follow an execution state by state, with the migration's log; exit 0 if it succeeded, 1 if not."""
    from ecs_migrate_deploy.console import ci_console
    from ecs_migrate_deploy.operator import OperatorError
    from ecs_migrate_deploy.operator.executions import execution_arn

    console = ci_console(stderr=json_output)
    with _operator_errors():
        if image_digest is not None and (execution is not None or latest):
            raise OperatorError("give an execution (name or ARN), --latest or --image-digest: one of them")
        if image_digest is not None:
            from ecs_migrate_deploy.operator.find import DIGEST

            if not DIGEST.fullmatch(image_digest):
                raise OperatorError(f"--image-digest is sha256:<64 lower-case hex digits>, not {image_digest!r}")
        operator = location.connect()
        if image_digest is None:
            arn = execution_arn(operator, execution, latest)
        else:
            arn = _execution_of_digest(operator, image_digest, wait_start, lookback, interval, console)
        watched = _watch(operator, arn, interval, heartbeat, console)
    _finish(json_output, {"execution": {"name": arn.rsplit(":", 1)[-1], "arn": arn}}, watched)


@app.command()
@stack_location
def stop(
    location: StackLocation,
    execution: ExecutionArg = None,
    latest: Annotated[
        bool, typer.Option("--latest", help="The newest running execution instead of a named one.")
    ] = False,
    reason: Annotated[
        str,
        typer.Option("--reason", help="Why (in the record, the notification and `history`).", show_default=False),
    ] = "",
    wait: Annotated[
        bool,
        typer.Option("--wait/--no-wait", help="Follow the execution until it has stopped (default), or only ask."),
    ] = True,
    interval: Interval = 2.0,
    heartbeat: Heartbeat = 30.0,
    json_output: JsonObject = False,
) -> None:
    """Stop a running deployment the safe way: what it started is stopped or put back, its lock released,
    and the record says who stopped it and why. Exit 0 once it has ended (or was not running)."""
    from ecs_migrate_deploy.console import ci_console
    from ecs_migrate_deploy.operator import OperatorError
    from ecs_migrate_deploy.operator.executions import history
    from ecs_migrate_deploy.operator.stop import WaitEnder, ask_to_stop, ended_status, running_execution
    from ecs_migrate_deploy.operator.watch import Interrupted, watch_and_report

    console = ci_console(stderr=json_output)
    with _operator_errors():
        if not reason.strip():
            raise OperatorError("--reason is required: the record and the notification say why the deployment stopped")
        operator = location.connect()
        arn = running_execution(operator, execution, latest)
        if arn is None:
            if json_output:
                sys.stdout.write(json.dumps({"execution": None, "stop": None}) + "\n")
            console.print(f"Nothing to stop: no execution of stack {escape(operator.stack.name)} is running")
            return
        name = arn.rsplit(":", 1)[-1]
        status = ended_status(operator, arn)
        if status is not None:
            if json_output:
                sys.stdout.write(json.dumps({"execution": {"name": name, "arn": arn}, "status": status}) + "\n")
            console.print(f"Nothing to stop: {escape(name)} has already ended ({status}); `history` shows its record")
            return
        asked = ask_to_stop(operator, arn, reason)
        said = "A stop was already asked" if asked.earlier else "Asked"
        console.print(f"{said}: {escape(name)} {escape(asked.request.describe())}")
        ender = WaitEnder(operator, asked.request)
        if not wait:
            for event in sorted(history(operator.client("stepfunctions"), arn), key=lambda e: int(e["id"])):
                ender.event(event)
            ender.poll()
            console.print("It stops at its next step; follow it with `ecs-migrate-deploy watch " + escape(name) + "`")
            if json_output:
                sys.stdout.write(json.dumps(asked.as_json()) + "\n")
            return
        console.print()
        try:
            watched = watch_and_report(operator, arn, console, interval=interval, heartbeat=heartbeat, also=ender)
        except Interrupted:
            typer.echo(f"Stopped watching; the stop request stands: {name} stops at its next step.", err=True)
            raise typer.Exit(130) from None
    if json_output:
        sys.stdout.write(json.dumps({**asked.as_json(), **watched.as_json()}, default=str) + "\n")


def _execution_of_digest(
    operator: Operator, digest: str, wait_start: float, lookback: float, interval: float, console: Console
) -> str:
    """The newest execution that deploys `digest`, waited for; exit 1 with one line if none starts in time."""
    from datetime import UTC, datetime, timedelta

    from ecs_migrate_deploy.operator.find import DigestFinder, wait_for_executions
    from ecs_migrate_deploy.operator.render import short_digest, when

    not_before = datetime.now(UTC) - timedelta(seconds=lookback)
    sfn = operator.client("stepfunctions")
    finder = DigestFinder(sfn, operator.stack.state_machine_arn, digest, not_before)

    def waiting() -> None:
        console.print(f"No execution of {short_digest(digest)} yet; waiting up to {wait_start:g}s for it to start")

    found = wait_for_executions(finder, wait_start, interval, waiting)
    if not found:
        typer.echo(
            f"error: no execution of {digest} started on stack {operator.stack.name!r} within {wait_start:g}s "
            f"(nor in the {lookback:g}s before): did the push match the trigger rule (repository, tag prefix)?",
            err=True,
        )
        raise typer.Exit(1)
    newest = found[0]
    started = f"started {when(newest.started_at)} UTC"
    if len(found) == 1:
        console.print(f"Found {escape(newest.name)}: {escape(newest.how)}, {started}")
    else:
        console.print(
            f"{len(found)} executions deploy {short_digest(digest)}: following the newest, "
            f"{escape(newest.name)} ({escape(newest.how)}, {started})"
        )
    return newest.arn


@app.command()
@stack_location
def status(
    location: StackLocation,
    service: OnlyService = None,
    json_output: JsonOutput = False,
) -> None:
    """What each service runs (ECS, and the deployment that put it there), drift, and whether a deployment is under way."""
    from ecs_migrate_deploy.console import ci_console
    from ecs_migrate_deploy.operator.render import print_status
    from ecs_migrate_deploy.operator.status import status as read_status

    with _operator_errors():
        operator = location.connect()
        current = read_status(operator, service)
    if json_output:
        sys.stdout.write(json.dumps(current.as_json()) + "\n")
        return
    print_status(ci_console(), current, f"{operator.stack.name} · cluster {operator.stack.cluster}")


@app.command()
@stack_location
def history(
    location: StackLocation,
    service: Annotated[str | None, typer.Option(help="Only deployments of this service.", show_default=False)] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many deployments, newest first.")] = 20,
    json_output: JsonOutput = False,
) -> None:
    """Past deployments, newest first: outcome, image, when, how long, snapshot, deployment id."""
    from ecs_migrate_deploy.console import ci_console
    from ecs_migrate_deploy.operator.records import deployments
    from ecs_migrate_deploy.operator.render import print_history

    with _operator_errors():
        operator = location.connect()
        stack = operator.stack
        rows = list(islice(deployments(operator.client("dynamodb"), stack.table_name, stack.cluster, service), limit))
    if json_output:
        sys.stdout.write(json.dumps([row.as_json() for row in rows]) + "\n")
        return
    scope = f"service {service}" if service else f"cluster {stack.cluster}"
    if not rows:
        typer.echo(f"No deployment of {scope} is recorded in stack {stack.name} yet.")
        return
    print_history(ci_console(), rows, f"{stack.name} · {scope} · last {len(rows)}")


@app.command()
@stack_location
def rollback(
    location: StackLocation,
    to: Annotated[
        str, typer.Option("--to", help="A deployment id (see `history`), or 'previous'.", show_default=False)
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Resolve and lock only; touch nothing.")] = False,
    watch: Watch = False,
    interval: Interval = 2.0,
    heartbeat: Heartbeat = 30.0,
    json_output: JsonObject = False,
) -> None:
    """Deploy a recorded image again WITHOUT migrating: the database is not touched."""
    from ecs_migrate_deploy.console import ci_console
    from ecs_migrate_deploy.operator.executions import execution_name, manual_input
    from ecs_migrate_deploy.operator.executions import start as start_execution
    from ecs_migrate_deploy.operator.render import print_rollback, print_started
    from ecs_migrate_deploy.operator.rollback import rollback_plan

    console = ci_console(stderr=json_output)
    with _operator_errors():
        operator = location.connect()
        plan = rollback_plan(operator, to)
        target = plan.target
        digest = str(target.image_digest)
        execution_input = manual_input(digest=digest, dry_run=dry_run, rollback=True)
        if not json_output:
            print_rollback(console, plan, operator.stack.services)
        started = start_execution(operator, execution_input, execution_name("rollback", target.image_tag or digest))
        if not json_output:
            print_started(console, started)
        watched = _watch(operator, started.arn, interval, heartbeat, console) if watch else None
    _finish(json_output, {**plan.as_json(), "execution": vars(started)}, watched)


@app.command()
def promote(
    from_stack: Annotated[
        str,
        typer.Option(
            "--from-stack",
            help="The stack whose last successful deployment is promoted (e.g. dev).",
            show_default=False,
        ),
    ],
    to_stack: Annotated[
        str | None,
        typer.Option(
            "--to-stack",
            help="The stack that deploys it (e.g. prod; default: stack_name in ./samconfig.toml).",
            show_default=False,
        ),
    ] = None,
    watch: Watch = False,
    interval: Interval = 2.0,
    heartbeat: Heartbeat = 30.0,
    json_output: JsonObject = False,
    config_env: ConfigEnv = "default",
    region: Region = None,
    profile: Profile = None,
) -> None:
    """Deploy with one stack (prod) the image another (dev) last deployed successfully, by digest."""
    from ecs_migrate_deploy.console import ci_console
    from ecs_migrate_deploy.operator.executions import execution_name, manual_input
    from ecs_migrate_deploy.operator.executions import start as start_execution
    from ecs_migrate_deploy.operator.promote import NothingToPromote, promotion
    from ecs_migrate_deploy.operator.render import print_started, short_digest, when

    console = ci_console(stderr=json_output)
    with _operator_errors():
        source = _connect(from_stack, config_env, region, profile)
        target = _connect(to_stack, config_env, region, profile)
        try:
            chosen = promotion(source, target)
        except NothingToPromote as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        record = chosen.deployment
        if not json_output:
            console.print(
                f"[bold]Promoting[/] {escape(chosen.repository)}:{escape(record.image_tag or '-')} "
                f"{short_digest(chosen.digest)} from {escape(chosen.from_stack)} to {escape(chosen.to_stack)}"
            )
            console.print(f"  digest     {chosen.digest}")
            console.print(
                f"  deployed   {when(record.finished_at or record.started_at)} UTC in {escape(chosen.from_stack)}, "
                f"deployment {escape(record.deployment_id)}{' (a rollback)' if record.rollback else ''}"
            )
        execution_input = manual_input(digest=chosen.digest)
        started = start_execution(target, execution_input, execution_name("promote", record.image_tag or chosen.digest))
        if not json_output:
            print_started(console, started)
        watched = _watch(target, started.arn, interval, heartbeat, console) if watch else None
    _finish(json_output, {**chosen.as_json(), "execution": vars(started)}, watched)


@app.command()
@stack_location
def logs(
    location: StackLocation,
    execution: ExecutionArg = None,
    latest: Latest = False,
) -> None:
    """The migration task's whole log output (CloudWatch Logs), for an execution that ran one."""
    from ecs_migrate_deploy.operator.executions import execution_arn
    from ecs_migrate_deploy.operator.logs import execution_log_location, log_lines

    with _operator_errors():
        operator = location.connect()
        arn = execution_arn(operator, execution, latest)
        group, stream = execution_log_location(operator.client("stepfunctions"), arn)
        typer.echo(f"# {group} {stream}", err=True)
        for line in log_lines(operator.client("logs"), group, stream):
            typer.echo(line)


lock_app = typer.Typer(
    no_args_is_help=True,
    help="Hold a service's deployments by hand (an incident): pushes wait or fail as for a running deployment.",
)
app.add_typer(lock_app, name="lock")
LockService = Annotated[str, typer.Option("--service", help="A service the stack deploys.", show_default=False)]


@contextmanager
def _refusals() -> Iterator[None]:
    """Someone else holds the lock: one line on stderr and exit code 1 (not a usage error)."""
    from ecs_migrate_deploy.operator.lock import LockRefused

    try:
        yield
    except LockRefused as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


@lock_app.command("status")
@stack_location
def lock_status(
    location: StackLocation,
    service: OnlyService = None,
    json_output: JsonOutput = False,
) -> None:
    """Who holds each service's lock (a person, with the reason; or a running execution), or free."""
    from ecs_migrate_deploy.console import ci_console
    from ecs_migrate_deploy.operator.lock import locks
    from ecs_migrate_deploy.operator.render import lock_text

    with _operator_errors():
        operator = location.connect()
        stack = operator.stack
        held = locks(
            operator, stack.services if service is None else [stack.deployed_service(service)], int(time.time())
        )
    if json_output:
        rows = [{"service": name, "lock": lock.as_json() if lock else None} for name, lock in held.items()]
        sys.stdout.write(json.dumps({"locks": rows}) + "\n")
        return
    console = ci_console()
    width = max(map(len, held))
    for name, lock in held.items():
        console.print(f"{escape(name):<{width}}  {lock_text(lock) if lock else 'free'}")


@lock_app.command("acquire")
@stack_location
def lock_acquire(
    location: StackLocation,
    service: LockService,
    reason: Annotated[
        str,
        typer.Option("--reason", help="Why (shown to whoever pushes meanwhile, and in `status`).", show_default=False),
    ],
    hold_for: Annotated[
        str,
        typer.Option("--for", help="How long until the lock expires by itself: <n>s|m|h|d, 1m to 30d."),
    ] = "24h",
    json_output: JsonOutput = False,
) -> None:
    """Lock a service: deployments of it wait (OnLockHeld=wait) or fail (fail) until `lock release`."""
    from ecs_migrate_deploy.console import ci_console
    from ecs_migrate_deploy.operator.lock import acquire, parse_duration
    from ecs_migrate_deploy.operator.render import lock_text

    with _operator_errors(), _refusals():
        seconds = parse_duration(hold_for)
        operator = location.connect()
        lock = acquire(operator, operator.stack.deployed_service(service), reason, seconds, int(time.time()))
    if json_output:
        sys.stdout.write(json.dumps({"service": service, "lock": lock.as_json()}) + "\n")
        return
    ci_console().print(f"{escape(service)}  {lock_text(lock)}")


@lock_app.command("release")
@stack_location
def lock_release(
    location: StackLocation,
    service: LockService,
    json_output: JsonOutput = False,
) -> None:
    """Remove a service's manual lock (anyone's); never a running execution's. Releasing twice is harmless."""
    from ecs_migrate_deploy.console import ci_console
    from ecs_migrate_deploy.operator.lock import release
    from ecs_migrate_deploy.operator.render import lock_text

    with _operator_errors(), _refusals():
        operator = location.connect()
        released = release(operator, operator.stack.deployed_service(service), int(time.time()))
    if json_output:
        sys.stdout.write(json.dumps({"service": service, "released": released.as_json() if released else None}) + "\n")
        return
    console = ci_console()
    if released is None:
        console.print(f"{escape(service)} is not locked: nothing to release")
    else:
        console.print(f"Released {escape(service)}, which was {lock_text(released)}")


def _set_trigger(
    state: TriggerState,
    json_output: bool,
    location: StackLocation,
) -> None:
    """`pause` and `resume`: the rule put in `state`, or left as it already was."""
    from ecs_migrate_deploy.operator.trigger import rule_name, set_trigger

    with _operator_errors():
        operator = location.connect()
        changed = set_trigger(operator, state)
        rule = rule_name(operator)
    if json_output:
        sys.stdout.write(json.dumps({"trigger": state, "rule": rule, "changed": changed}) + "\n")
        return
    typer.echo(f"trigger: {state} (rule {rule}{'' if changed else ', already'})")


@app.command()
@stack_location
def pause(
    location: StackLocation,
    json_output: JsonOutput = False,
) -> None:
    """Disable the trigger rule: ECR pushes start no deployment (manual starts still do) until `resume`."""
    _set_trigger("paused", json_output, location)


@app.command()
@stack_location
def resume(
    location: StackLocation,
    json_output: JsonOutput = False,
) -> None:
    """Enable the trigger rule again: the next ECR push deploys (pushes made while paused do not)."""
    _set_trigger("enabled", json_output, location)


@app.command("image-labels")
def image_labels(
    directory: Annotated[Path, typer.Argument(help="Project folder with the Prisma migrations.")] = Path("."),
    output_format: Annotated[
        str,
        typer.Option(
            "--format", help="docker: `--label key=value` arguments for `docker build`; json: the labels as one object."
        ),
    ] = "docker",
    with_lint: Annotated[
        bool,
        typer.Option(
            "--lint", help="Also carry `lint`'s summary of the pending migrations (recorded with the deployment)."
        ),
    ] = False,
    base_ref: Annotated[
        str | None,
        typer.Option(help="With --lint: the pending migrations are those this git ref lacks.", show_default=False),
    ] = None,
) -> None:
    """The image labels that carry the expected migration and the migrations' checksums (docs/image-labels.md)."""
    from ecs_migrate_deploy.image_labels import NoLabels, docker_arguments, json_text, labels_for, with_lint_summary

    if output_format not in ("docker", "json"):
        typer.echo(f"ecs-migrate-deploy image-labels: --format is docker or json, not {output_format!r}", err=True)
        raise typer.Exit(2)
    try:
        labels = labels_for(directory)
        if with_lint:
            labels = with_lint_summary(labels, directory, base_ref)
    except NoLabels as exc:
        typer.echo(f"ecs-migrate-deploy image-labels: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(docker_arguments(labels) if output_format == "docker" else json_text(labels))


@app.command()
def lint(
    directory: Annotated[
        Path, typer.Argument(help="Project folder with the migrations (Prisma, Alembic, Flyway, golang-migrate).")
    ] = Path("."),
    base_ref: Annotated[
        str | None,
        typer.Option(
            help="Lint only the migrations that are not in this git commit's copy of the folder (default: all).",
            show_default=False,
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of the findings.")] = False,
    fail_on: Annotated[
        str, typer.Option(help="Exit 1 when a finding is at least this severe: error, warning or never.")
    ] = "error",
) -> None:
    """What the pending migrations will lock or break, read from their SQL by squawk (docs/lint.md); no database."""
    from ecs_migrate_deploy.console import ci_console
    from ecs_migrate_deploy.lint import FAIL_ON, LintError
    from ecs_migrate_deploy.lint import lint as run_lint

    if fail_on not in FAIL_ON:
        typer.echo(f"error: --fail-on is {', '.join(FAIL_ON)}, not {fail_on!r}", err=True)
        raise typer.Exit(2)
    try:
        report = run_lint(directory, base_ref)
    except LintError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    failed = report.failed(fail_on)
    if json_output:
        sys.stdout.write(json.dumps({**report.as_json(), "fail_on": fail_on, "failed": failed}) + "\n")
        raise typer.Exit(int(failed))
    console = ci_console()
    console.print(f"[bold]Linting[/] {escape(report.project.described)}")
    for finding in report.findings:
        colour = "red" if finding.severity == "error" else "yellow"
        console.print(f"  [{colour}]{escape(finding.describe())}[/]")
        console.print(f"      [dim]{escape(finding.sql)}[/]")
        if finding.help:
            console.print(f"      help: {escape(finding.help)}")
    verdict = f"fails --fail-on {fail_on}" if failed else f"passes --fail-on {fail_on}"
    console.print(f"{escape(report.summary())}: {verdict}")
    raise typer.Exit(int(failed))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
