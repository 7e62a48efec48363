"""The operator CLI tests' stack: the CLI as a subprocess, talking HTTP to a moto server in this process.

The server (`ThreadedMotoServer`) shares this process with the test, so the emulation seams
(Lambda tasks routed to our in-process handlers, skipped waits, ECS tasks and rollouts) act on it,
and the state machine's executions really run in its interpreter. The world is built through the
server's endpoint, plus a small CloudFormation stack whose outputs and parameters point at it, as
`sam deploy` would leave them; the CLI finds everything through that stack.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from ecs_migrate_deploy.emulation.engine import Emulator, ExecutionReport
from ecs_migrate_deploy.emulation.seams.awslambda import Handler
from ecs_migrate_deploy.emulation.seams.ecs_rollouts import RolloutPolicy
from ecs_migrate_deploy.emulation.seams.ecs_tasks import TaskRunner
from ecs_migrate_deploy.emulation.world import World, WorldSpec
from ecs_migrate_deploy.local_migrations import LocalMigrationRunner
from tests.support.moto_server import MotoServer, post
from tests.support.postgres import ScratchDatabase

ROOT = Path(__file__).resolve().parents[2]

# Every operator test module: one moto server per xdist worker, so all of them on the same worker;
# a real PostgreSQL for the migrations and the verifier; moto's note about the stand-in stack's
# placeholder resource (it creates the stack all the same).
OPERATOR_MARKS = [
    pytest.mark.xdist_group("moto-server"),
    pytest.mark.postgres,
    pytest.mark.filterwarnings("ignore:Tried to parse .*WaitConditionHandle:UserWarning"),
]
REGION = "us-east-1"
CALLER = "arn:aws:sts::123456789012:user/moto"  # who moto's GetCallerIdentity says runs the CLI
STACK_NAME = "emd-operator-test"
# What GitHub Actions sets, and what would make rich colour a pipe: the output must stay plain text.
CI = {"CI": "true", "FORCE_COLOR": "1"}

# A stand-in for the deployed SAM stack: the same output and parameter names as template.yaml,
# with the emulated world's values (the emulated world is built by the Emulator, not by deploying
# template.yaml through moto's CloudFormation).
# ServiceNames is a String here: moto 5.2.5 reports a CommaDelimitedList parameter as a Python repr.
_STACK_TEMPLATE: dict[str, Any] = {
    "Parameters": {
        "ClusterName": {"Type": "String"},
        "ServiceNames": {"Type": "String"},
        "AllowSkipSnapshot": {"Type": "String"},
        "RepositoryName": {"Type": "String"},
    },
    "Resources": {"Anchor": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
}


@dataclass(frozen=True)
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


class Running:
    """A CLI subprocess whose stdout is read line by line as it comes."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()

    def wait_for(self, text: str, timeout: float, count: int = 1) -> list[str]:
        """The first `count` lines with `text`, once they are on stdout."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._with(text)) >= count, timeout=timeout):
                self.process.kill()
                raise AssertionError(f"not {count} {text!r} on stdout within {timeout}s: {''.join(self.lines)!r}")
            return self._with(text)[:count]

    def _with(self, text: str) -> list[str]:
        return [line for line in self.lines if text in line]

    def finish(self, timeout: float) -> CliResult:
        try:
            code = self.process.wait(timeout=timeout)
        finally:
            self.process.kill()
        self._reader.join(timeout=10)
        assert self.process.stderr is not None
        return CliResult(code, "".join(self.lines), self.process.stderr.read())


@dataclass
class OperatorStack:
    """An emulated, deployed stack and a way to run the CLI against it."""

    emulator: Emulator
    database: ScratchDatabase
    server: MotoServer
    cwd: Path

    @property
    def world(self) -> World:
        return self.emulator.world

    def client(self, service: str) -> Any:
        return self.emulator.client(service)

    def cli(
        self,
        *args: str,
        stack: bool = True,
        timeout: float = 120,
        env: dict[str, str] | None = None,
        program: Sequence[str] | None = None,
    ) -> CliResult:
        """`python -m ecs_migrate_deploy.cli ARGS --stack-name S --region R`, as a user runs it (or
        `program ARGS ...`, e.g. the console script of another installation)."""
        done = subprocess.run(
            **self._command(args, stack, env, program), capture_output=True, text=True, timeout=timeout
        )
        return CliResult(done.returncode, done.stdout, done.stderr)

    def spawn(self, *args: str, stack: bool = True, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """The same command, started and left running (stdout and stderr piped, line-buffered text)."""
        return subprocess.Popen(
            **self._command(args, stack, env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )

    def in_terminal(self, *args: str, columns: int) -> CliResult:
        """The same command in a pseudo-terminal `columns` wide, as a person runs it (COLUMNS unset:
        the width is the terminal's own). Its stdout and stderr are both the terminal's, in `stdout`."""
        primary, secondary = pty.openpty()
        fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
        command = self._command(args, True, {"COLUMNS": "", "TERM": "xterm-256color"})
        process = subprocess.Popen(**command, stdin=secondary, stdout=secondary, stderr=secondary)
        os.close(secondary)
        output = bytearray()
        while chunk := _read_terminal(primary):
            output += chunk
        os.close(primary)
        return CliResult(process.wait(timeout=60), output.decode(), "")

    def _command(
        self, args: tuple[str, ...], stack: bool, env: dict[str, str] | None, program: Sequence[str] | None = None
    ) -> dict[str, Any]:
        extra = ["--stack-name", STACK_NAME, "--region", REGION] if stack else []
        environment = {
            "PATH": os.environ["PATH"],
            "HOME": str(self.cwd),
            "AWS_ENDPOINT_URL": self.server.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_CONFIG_FILE": str(self.cwd / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.cwd / "no-aws-credentials"),
            "COLUMNS": "220",
            "PYTHONIOENCODING": "utf-8",
            **(env or {}),
        }
        return {
            "args": [*(program or [sys.executable, "-m", "ecs_migrate_deploy.cli"]), *args, *extra],
            "cwd": self.cwd,
            "env": environment,
        }

    def add_stack(self, name: str, *, cluster: str, repository: str | None = None) -> str:
        """A second stand-in stack in the same account (e.g. dev beside this prod): its own deployments
        table (the key schema of the world's) for `cluster`, the given repository (default: the world's).

        Only its table is its own: its outputs name the world's state machine and topic, which the
        commands reading another stack's records (`promote --from-stack`) never touch. Returns the
        table's name; put records in it with `put_record`.
        """
        dynamodb = self.client("dynamodb")
        table = f"{name}-deployments"
        schema = dynamodb.describe_table(TableName=self.world.table_name)["Table"]
        dynamodb.create_table(
            TableName=table,
            KeySchema=schema["KeySchema"],
            AttributeDefinitions=schema["AttributeDefinitions"],
            BillingMode="PAY_PER_REQUEST",
        )
        _register_stack(
            self.emulator,
            name,
            outputs={
                "StateMachineArn": self.world.state_machine_arn,
                "TopicArn": self.world.topic_arn,
                "TableName": table,
            },
            parameters={
                "ClusterName": cluster,
                "ServiceNames": ",".join(self.world.spec.services),
                "AllowSkipSnapshot": "false",
                "RepositoryName": repository or self.world.repository_name,
            },
        )
        return table

    def put_record(self, table: str, cluster: str, record: dict[str, Any]) -> None:
        """A deployment record written by the Record function's own writer (deploy_pipeline.aws.table)."""
        from deploy_pipeline.aws.table import put_record

        put_record(table, cluster, record, [service["name"] for service in record.get("services", [])])

    def run(self, execution_input: dict[str, Any], name: str) -> ExecutionReport:
        """An execution started directly (to set the scene), waited for."""
        return self.emulator.run(execution_input, name=name, timeout=90)

    def executions(self) -> list[dict[str, Any]]:
        sfn = self.client("stepfunctions")
        listed = sfn.list_executions(stateMachineArn=self.world.state_machine_arn)["executions"]
        return [sfn.describe_execution(executionArn=e["executionArn"]) for e in listed]

    def records(self) -> list[dict[str, Any]]:
        """The deployment records Record wrote, newest first."""
        items = self.client("dynamodb").query(
            TableName=self.world.table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"DEPLOYMENTS#{self.world.cluster_name}"}},
            ScanIndexForward=False,
        )["Items"]
        return [json.loads(item["record"]["S"]) for item in items]

    def images(self) -> dict[str, str]:
        """Service -> the image its current task definition runs."""
        ecs = self.client("ecs")
        out = {}
        for name in self.world.spec.services:
            arn = self.world.service(name)["taskDefinition"]
            (container,) = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]["containerDefinitions"]
            out[name] = container["image"]
        return out

    def query(self, statement: str) -> list[tuple[Any, ...]]:
        with self.database.connect() as conn, conn.cursor() as cur:
            cur.execute(statement)
            rows = list(cur.fetchall())
        conn.close()
        return rows


StackFactory = Callable[..., OperatorStack]


def _read_terminal(primary: int) -> bytes:
    """The next output of a pseudo-terminal; b"" once its other end is closed (Linux says EIO)."""
    try:
        return os.read(primary, 65536)
    except OSError:
        return b""


def _register_stack(emulator: Emulator, name: str, outputs: dict[str, str], parameters: dict[str, str]) -> None:
    """The stand-in CloudFormation stack the CLI finds by name, as `sam deploy` would leave it."""
    emulator.client("cloudformation").create_stack(
        StackName=name,
        TemplateBody=json.dumps({**_STACK_TEMPLATE, "Outputs": {k: {"Value": v} for k, v in outputs.items()}}),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
    )


def _trigger_rule(emulator: Emulator) -> str:
    """The stack's ECR push rule (template.yaml's DeployStateMachineEcrPush), for `pause`/`resume` to
    disable and enable. The emulated world starts executions on a push itself, not through this rule:
    it has no target, only its state is read."""
    name = f"{STACK_NAME}-DeployStateMachineEcrPush"
    pattern = json.dumps(emulator.world.trigger_pattern())
    emulator.client("events").put_rule(Name=name, EventPattern=pattern, State="ENABLED")
    return name


@contextmanager
def stack_factory(moto_server: MotoServer, scratch_database: ScratchDatabase, cwd: Path) -> Iterator[StackFactory]:
    """Reset the server, build the world through it, and register the stack the CLI discovers (the CLI runs
    in `cwd`); every emulator built is closed on exit, the last built first."""
    with ExitStack() as emulators:

        def build(
            *,
            task_runner: TaskRunner | None = None,
            parameters: dict[str, str] | None = None,
            rollout_policy: RolloutPolicy | None = None,
            routes: dict[str, Handler] | None = None,
            skip_waits: bool = True,
        ) -> OperatorStack:
            post(f"{moto_server.url}/moto-api/reset")
            spec = replace(
                WorldSpec(),
                db_secret=scratch_database.secret(),
            )
            runner = task_runner or LocalMigrationRunner(
                workdir=ROOT / "examples" / "shop", database_url=scratch_database.url
            )
            emulator = emulators.enter_context(
                Emulator(
                    spec,
                    task_runner=runner,
                    rollout_policy=rollout_policy,
                    routes=routes,
                    skip_waits=skip_waits,
                    parameters={"DbSslMode": "disable", **(parameters or {})},
                    extra_env={"POWERTOOLS_METRICS_DISABLED": "1", "POWERTOOLS_LOG_LEVEL": "ERROR"},
                    endpoint_url=moto_server.url,
                )
            )
            world = emulator.world
            env = world.env()
            _register_stack(
                emulator,
                STACK_NAME,
                outputs={
                    "StateMachineArn": world.state_machine_arn,
                    "TopicArn": world.topic_arn,
                    "TableName": world.table_name,
                    "TriggerRuleName": _trigger_rule(emulator),
                },
                parameters={
                    "ClusterName": env["CLUSTER_NAME"],
                    "ServiceNames": env["SERVICE_NAMES"],
                    "AllowSkipSnapshot": env["ALLOW_SKIP_SNAPSHOT"],
                    "RepositoryName": env["REPOSITORY_NAME"],
                },
            )
            return OperatorStack(emulator, scratch_database, moto_server, cwd)

        yield build
