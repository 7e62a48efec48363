"""A typical deployment on an emulated timeline: snapshot 5 min, migration 2 min, rollout 8 min
(and, with `rollback=True`, a rollout that fails at 8 min and a rollback of 4 min).

Shared by deployment_cost.py and pipeline_overhead.py (files starting with `_` are not run by
`make bench`). The real state machine runs on the local emulator: moto for AWS, the handlers
in-process, a real PostgreSQL scratch database, the shop example's migrations really applied.
Waits are skipped, but the pipeline's clock (`deploy_pipeline.logic.polling.clock`) moves on by
every skipped second, and the snapshot, the migration task and the rollout are made to finish when
that clock passes their planned durations (x `scale`), so each check sees what it would see on AWS.
AWS's state-change events are emitted by the emulated account when a resource changes and reach
NoticeFunction `delay_seconds` later (emulation/aws_events.py), or never (`polling="events lost"`):
the waits then end at the interval each check chose, as the polling design did.

A phase's notice lag is from the moment its resource changed state (its planned end) to the moment
the check that saw it ran: the step after it starts right then.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT_SECONDS, MIGRATION_SECONDS, ROLLOUT_SECONDS = 300, 120, 480
PLANNED_SECONDS = SNAPSHOT_SECONDS + MIGRATION_SECONDS + ROLLOUT_SECONDS
SERVER_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
Polling = Literal["events", "events lost", "fixed 10 s"]
ROLLBACK_SECONDS = 240

# Quiet handlers: the figures are the output. The functions' POWERTOOLS_LOG_LEVEL comes from the
# template's Globals (INFO) with each invocation, so the level is lowered for the whole process.
logging.disable(logging.WARNING)
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "1")


@dataclass
class Phase:
    """When a phase started and when its check saw it end, on the pipeline's emulated clock."""

    planned_seconds: float
    started: datetime | None = None
    seen_done: datetime | None = None

    def start(self, now: datetime) -> None:
        self.started = self.started or now

    def finished(self, now: datetime) -> bool:
        return self.started is not None and (now - self.started).total_seconds() >= self.planned_seconds

    def noticed(self, now: datetime) -> None:
        """The phase's check saw its end (done, or failed) at `now`."""
        if self.seen_done is None and self.finished(now):
            self.seen_done = now

    @property
    def noticed_late_seconds(self) -> float:
        """How long after the phase really ended its check noticed it."""
        assert self.started and self.seen_done, "the phase's end was never noticed"
        return (self.seen_done - self.started).total_seconds() - self.planned_seconds


@dataclass
class TimelineRun:
    polling: Polling
    scale: float
    report: Any  # ExecutionReport
    invocations: list[Any]  # seams.awslambda.Invocation
    migrator_seconds: float
    phases: dict[str, Phase] = field(default_factory=dict)

    @property
    def transitions(self) -> int:
        """State transitions as Step Functions bills them: one per state entered."""
        return sum(1 for e in self.report.events if str(e["type"]).endswith("StateEntered"))

    @property
    def lambda_invocations(self) -> int:
        """Every invocation: the phases' functions, AwaitEvent (a waitForTaskToken state's history
        shows it as a task, not a Lambda) and NoticeFunction (invoked by EventBridge, outside it)."""
        return len(self.invocations)

    def own_ms(self, invocation: Any) -> float:
        """An invocation's duration without the migrator, which the emulated RunTask runs inside
        StartMigration's call (on AWS it runs in its own ECS task)."""
        migrator = 1000 * self.migrator_seconds if invocation.function_name == "StartMigrationFunction" else 0.0
        return float(invocation.duration_ms) - migrator

    @property
    def checks(self) -> dict[str, int]:
        return {
            name: self.report.state_names.count(name)
            for name in ("CheckSnapshot", "CheckMigration", "CheckRollout", "CheckRollback")
        }

    @property
    def history_events(self) -> int:
        return len(self.report.events)

    @property
    def migration_started_after(self) -> float:
        """Seconds from the push (the execution's start) to the migration task's start, emulated."""
        started = self.phases["migration"].started
        assert started is not None
        return (started - self.report_started).total_seconds()

    report_started: datetime = field(default_factory=datetime.now)


@contextlib.contextmanager
def scratch_database() -> Iterator[tuple[str, str]]:
    """(name, URL) of a database created for one run and dropped after it."""
    import psycopg2
    from psycopg2 import sql

    name = f"emd_bench_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(SERVER_URL, connect_timeout=5)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name, f"{SERVER_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()


@contextlib.contextmanager
def fixed_polling(seconds: int) -> Iterator[None]:
    """Every Wait of the snapshot, migration and rollout loops `seconds` long (the naive design)."""
    from deploy_pipeline.logic import migration, polling, rollback, rollout, snapshot

    saved_first = dict(polling.FIRST_WAIT_SECONDS)
    modules = (snapshot, migration, rollout, rollback)
    saved_next = [m.next_wait for m in modules]
    polling.FIRST_WAIT_SECONDS.update(dict.fromkeys(saved_first, seconds))
    for module in modules:
        module.next_wait = lambda started_at, timeout_seconds: seconds  # type: ignore[assignment]
    try:
        yield
    finally:
        polling.FIRST_WAIT_SECONDS.update(saved_first)
        for module, original in zip(modules, saved_next, strict=True):
            module.next_wait = original  # type: ignore[assignment]


@dataclass
class _Timeline:
    """The emulated AWS of one timeline: each phase starts when the pipeline starts it, lasts its
    planned duration on the pipeline's clock, and counts as noticed when its check says done."""

    phases: dict[str, Phase]
    rollback: bool
    local: Any  # the LocalMigrationRunner that really applies examples/shop
    initial: dict[str, str] = field(default_factory=dict)  # service -> its task definition before (the rollback's)
    migrator_seconds: float = 0.0

    @staticmethod
    def now() -> datetime:
        from deploy_pipeline.logic.polling import now

        return now()

    def snapshot_policy(self, kind: str, snapshot_id: str) -> str:
        self.phases["snapshot"].start(self.now())
        return "available" if self.phases["snapshot"].finished(self.now()) else "creating"

    def rollout_policy(self, service: str, task_definition_arn: str) -> str:
        if task_definition_arn == self.initial.get(service):  # the rollback's deployment
            return "COMPLETED" if self.phases["rollback"].finished(self.now()) else "IN_PROGRESS"
        if not self.phases["rollout"].finished(self.now()):
            return "IN_PROGRESS"
        return "FAILED" if self.rollback else "COMPLETED"

    def migrate(self, task_definition: dict[str, Any], overrides: list[dict[str, Any]], started_by: str) -> Any:
        self.phases["migration"].start(self.now())
        began = time.perf_counter()
        outcome = self.local(task_definition, overrides, started_by)
        self.migrator_seconds += time.perf_counter() - began
        migration = self.phases["migration"]
        return dataclasses.replace(outcome, still_running=lambda: not migration.finished(self.now()))

    def started(self, phase: str, handler: str) -> Any:
        from ecs_migrate_deploy.emulation.seams.awslambda import resolve_handler

        def start(event: dict[str, Any], context: Any) -> Any:
            self.phases[phase].start(self.now())
            return resolve_handler(handler)(event, context)

        return start

    def checked(self, phase: str, handler: str) -> Any:
        """The phase's check: when it returns done, or fails, the phase's end has been noticed."""
        from ecs_migrate_deploy.emulation.seams.awslambda import resolve_handler

        def check(event: dict[str, Any], context: Any) -> Any:
            try:
                result = resolve_handler(handler)(event, context)
            except Exception:
                self.phases[phase].noticed(self.now())
                raise
            if result.get("done"):
                self.phases[phase].noticed(self.now())
            return result

        return check

    def routes(self) -> dict[str, Any]:
        return {
            "StartRolloutFunction": self.started("rollout", "deploy_pipeline.handlers.rollout.start"),
            "CheckSnapshotFunction": self.checked("snapshot", "deploy_pipeline.handlers.snapshot.check"),
            "CheckMigrationFunction": self.checked("migration", "deploy_pipeline.handlers.migration.check"),
            "CheckRolloutFunction": self.checked("rollout", "deploy_pipeline.handlers.rollout.check"),
            "StartRollbackFunction": self.started("rollback", "deploy_pipeline.handlers.rollback.start"),
            "CheckRollbackFunction": self.checked("rollback", "deploy_pipeline.handlers.rollback.check"),
        }


def _secret(name: str, url: str) -> Any:
    from psycopg2.extensions import parse_dsn

    from ecs_migrate_deploy.emulation.world import DbSecret

    dsn = parse_dsn(url)
    return DbSecret(
        username=dsn.get("user", "postgres"),
        password=dsn.get("password") or "unused-with-trust-auth",
        host=dsn.get("host", "127.0.0.1"),
        port=int(dsn.get("port", 5432)),
        dbname=name,
    )


def run_timeline(
    polling: Polling,
    *,
    scale: float = 1.0,
    rollback: bool = False,
    delay_seconds: float | None = None,
    restore_point: str = "snapshot",
) -> TimelineRun:
    """One deployment of v1.1.0 on the timeline above (durations x `scale`): it must succeed, or with
    `rollback`, roll back after its rollout fails."""
    from ecs_migrate_deploy.emulation.aws_events import DOCUMENTED_NEAR_REAL_TIME_SECONDS, EventDelivery
    from ecs_migrate_deploy.emulation.engine import Emulator
    from ecs_migrate_deploy.emulation.world import WorldSpec
    from ecs_migrate_deploy.local_migrations import LocalMigrationRunner

    phases = {
        "snapshot": Phase(SNAPSHOT_SECONDS * scale),
        "migration": Phase(MIGRATION_SECONDS * scale),
        "rollout": Phase(ROLLOUT_SECONDS * scale),
    }
    if rollback:
        phases["rollback"] = Phase(ROLLBACK_SECONDS * scale)
    delay = DOCUMENTED_NEAR_REAL_TIME_SECONDS if delay_seconds is None else delay_seconds
    # "fixed 10 s" is the naive design: a poll every 10 s and no events.
    delivery = EventDelivery(delay_seconds=delay, drop=lambda event: polling != "events")

    with scratch_database() as (name, url):
        timeline = _Timeline(
            phases, rollback, LocalMigrationRunner(workdir=ROOT / "examples" / "shop", database_url=url)
        )
        emulator = Emulator(
            WorldSpec(db_secret=_secret(name, url)),
            task_runner=timeline.migrate,
            snapshot_policy=timeline.snapshot_policy,
            rollout_policy=timeline.rollout_policy,
            routes=timeline.routes(),
            parameters={
                "DbSslMode": "disable",
                "RolloutTimeoutSeconds": str(int(4 * ROLLOUT_SECONDS * scale) + 60),
                "RestorePoint": restore_point,
            },
            poll_interval=0.2,  # the figures are the pipeline's time, not the harness's
            event_delivery=delivery,
        )
        with emulator, fixed_polling(10) if polling == "fixed 10 s" else contextlib.nullcontext():
            timeline.initial.update(emulator.world.task_definition_arns)
            began = timeline.now()
            report = emulator.run({"image_tag": "v1.1.0"}, name=f"timeline-{uuid.uuid4().hex[:8]}", timeout=600)
            expected = "FAILED" if rollback else "SUCCEEDED"
            if report.status != expected:
                raise RuntimeError(f"the timeline deployment ended {report.status}: {report.error}: {report.cause}")
            invocations = list(emulator.seams.lambdas.invocations)
    return TimelineRun(polling, scale, report, invocations, timeline.migrator_seconds, phases, report_started=began)
