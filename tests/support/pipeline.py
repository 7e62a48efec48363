"""The workflow tests' stack: the real statemachine/deploy.asl.json executed by moto's interpreter, the
Lambda tasks routed to our in-process handlers, a real PostgreSQL, and the migration command really run."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ecs_migrate_deploy.emulation.aws_events import EventDelivery
from ecs_migrate_deploy.emulation.engine import Emulator, ExecutionReport
from ecs_migrate_deploy.emulation.seams.base import Seam
from ecs_migrate_deploy.emulation.seams.ecs_rollouts import RolloutPolicy
from ecs_migrate_deploy.emulation.seams.ecs_tasks import TaskRunner
from ecs_migrate_deploy.emulation.seams.rds_snapshots import SnapshotPolicy
from ecs_migrate_deploy.emulation.world import World, WorldSpec
from ecs_migrate_deploy.local_migrations import LocalMigrationRunner
from tests.iam_policies import is_granted
from tests.support.postgres import ScratchDatabase

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
DB_PASSWORD = "s3cr3t-Pa55word-never-travels"


@dataclass
class Pipeline:
    """One emulated stack, ready to run executions."""

    emulator: Emulator
    database: ScratchDatabase
    local: LocalMigrationRunner  # really runs the example's migrations

    @property
    def world(self) -> World:
        return self.emulator.world

    def run(self, execution_input: dict[str, Any], name: str = "deploy-1") -> ExecutionReport:
        return self.emulator.run(execution_input, name=name, timeout=90)

    def deliver(self, event: dict[str, Any]) -> ExecutionReport:
        """Start an execution as the stack's EventBridge rule does (matched by its pattern, named by
        "AWS"), and wait for it; the rule must match."""
        arn = self.emulator.deliver(event)
        assert arn is not None, f"the stack's trigger rule does not match {event.get('detail')}"
        return self.emulator.wait(arn, timeout=90)

    def query(self, statement: str) -> list[tuple[Any, ...]]:
        with self.database.connect() as conn, conn.cursor() as cur:
            cur.execute(statement)
            return list(cur.fetchall())

    def client(self, service: str) -> Any:
        return self.emulator.client(service)

    def records(self) -> list[dict[str, Any]]:
        """The deployment records Record wrote for this cluster, as the operator CLI reads them."""
        items = self.client("dynamodb").query(
            TableName=self.world.table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"DEPLOYMENTS#{self.world.cluster_name}"}},
        )["Items"]
        return [dict(json.loads(i["record"]["S"])) for i in items]

    def function_name(self, state: str) -> str:
        """The Lambda function a Task state of the world's state machine invokes."""
        return str(self.world.definition["States"][state]["Resource"]).rsplit(":", 1)[-1]

    def locks(self) -> list[dict[str, Any]]:
        """The deployment lock items still in the table."""
        return list(
            self.client("dynamodb").scan(
                TableName=self.world.table_name,
                FilterExpression="sk = :l",
                ExpressionAttributeValues={":l": {"S": "LOCK"}},
            )["Items"]
        )

    def record(self) -> dict[str, Any]:
        """The only record (an execution's Record ran once, or wrote the same item again)."""
        [record] = self.records()
        return record


PipelineFactory = Callable[..., Pipeline]


def assert_no_secret_emitted(emulator: Emulator) -> None:
    """After every workflow test: the password is in no execution history, table item, log event,
    notification or outcome event, whether the test read it or not (the secret's full JSON neither, as
    it contains the password)."""
    world = emulator.world
    sfn = emulator.client("stepfunctions")
    emitted: list[str] = []
    for execution in sfn.list_executions(stateMachineArn=world.state_machine_arn)["executions"]:
        history = sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)["events"]
        emitted.append(json.dumps(history, default=str))
        emitted.append(json.dumps(sfn.describe_execution(executionArn=execution["executionArn"]), default=str))
    emitted.append(json.dumps(emulator.client("dynamodb").scan(TableName=world.table_name)["Items"], default=str))
    logs = emulator.client("logs")
    for group in logs.describe_log_groups()["logGroups"]:
        events = logs.filter_log_events(logGroupName=group["logGroupName"])["events"]
        emitted.append(json.dumps(events, default=str))
    emitted.append(json.dumps(world.everything_sent()))  # read by the test or not
    leaks = [
        text[max(text.find(DB_PASSWORD) - 80, 0) : text.find(DB_PASSWORD) + 40]
        for text in emitted
        if DB_PASSWORD in text
    ]
    assert not leaks, f"the database password was emitted: {leaks[:3]}"


def assert_every_call_is_granted(emulator: Emulator) -> None:
    """After every workflow test: each AWS action a Lambda performed is granted to it by template.yaml,
    with the Conditions this stack's parameters decide, on the partition key it touched where a
    statement's `dynamodb:LeadingKeys` condition restricts it (moto does not enforce IAM, so a missing
    permission would otherwise first fail on AWS)."""
    conditions = tuple(sorted(emulator.world.conditions().items()))
    denied = sorted(
        f"{function}: {action} on partition key {key!r}"
        for function, action, key in emulator.seams.lambdas.api_calls
        if not is_granted(function, action, key, conditions)
    )
    assert not denied, f"calls the functions made that their roles in template.yaml do not grant: {denied}"


@contextmanager
def pipeline_factory(scratch_database: ScratchDatabase) -> Iterator[PipelineFactory]:
    """Build the emulated stack; the secret points at the scratch database (with a password set
    on a dedicated role, so the tests can prove it never appears in what the pipeline emits)."""
    role = f"{scratch_database.name}_app"
    with scratch_database.connect() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{DB_PASSWORD}'")
        cur.execute(f"GRANT ALL ON DATABASE {scratch_database.name} TO {role}")
        cur.execute(f"GRANT ALL ON SCHEMA public TO {role}")
        # tables a test creates as the superuser stay readable by the application's role
        cur.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO {role}")
    with ExitStack() as emulators:
        built: list[Emulator] = []

        def build(
            migrations: str = "shop",
            *,
            task_runner: TaskRunner | None = None,
            rollout_policy: RolloutPolicy | None = None,
            snapshot_policy: SnapshotPolicy | None = None,
            routes: dict[str, Any] | None = None,
            parameters: dict[str, str] | None = None,
            extra_seams: Sequence[Seam] = (),
            event_delivery: EventDelivery | None = None,
            **spec_changes: Any,
        ) -> Pipeline:
            app_url = f"postgresql://{role}:{DB_PASSWORD}@{scratch_database.host}:{scratch_database.port}/{scratch_database.name}"
            local = LocalMigrationRunner(workdir=EXAMPLES / migrations, database_url=app_url)
            spec = replace(
                WorldSpec(),
                db_secret=scratch_database.secret(role, DB_PASSWORD),
                **spec_changes,
            )
            emulator = emulators.enter_context(
                Emulator(
                    spec,
                    task_runner=task_runner or local,
                    rollout_policy=rollout_policy,
                    snapshot_policy=snapshot_policy,
                    routes=routes,
                    parameters={"DbSslMode": "disable", **(parameters or {})},
                    extra_env={"POWERTOOLS_METRICS_DISABLED": "1"},
                    extra_seams=extra_seams,
                    event_delivery=event_delivery,
                )
            )
            built.append(emulator)
            return Pipeline(emulator, scratch_database, local)

        yield build
        for emulator in built:
            assert_no_secret_emitted(emulator)
            assert_every_call_is_granted(emulator)
    with scratch_database.connect() as conn, conn.cursor() as cur:
        cur.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {role}")
        cur.execute(f"REASSIGN OWNED BY {role} TO CURRENT_USER")
        cur.execute(f"DROP OWNED BY {role}")
        cur.execute(f"DROP ROLE {role}")
