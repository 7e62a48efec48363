"""The progress line `watch` prints during a long wait: the phase, what it waits for, and what AWS
reports about it now.

A rollout or a migration can take many minutes with no new state to print; a CI log that stays
silent that long looks hung (and some CI systems kill a job with no output for 10 minutes). The
execution's history says what it waits for (the task, the services and their new revisions, the
snapshot); ECS and RDS say how far it got. Those reads are made only when a line is due, and one
that fails (a missing permission) becomes words in the line rather than the end of the watch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ecs_migrate_deploy.operator.services import describe, revision
from ecs_migrate_deploy.progress import PHASES


@dataclass(frozen=True)
class LiveReader:
    """What ECS and RDS report now, in words."""

    client: Callable[[str], Any]

    def task(self, cluster: str, task_arn: str) -> str:
        tasks = self.client("ecs").describe_tasks(cluster=cluster, tasks=[task_arn])["tasks"]
        return f"ECS: task {tasks[0]['lastStatus']}" if tasks else "ECS: no such task"

    def services(self, cluster: str, rollouts: list[dict[str, Any]]) -> str:
        """Per service, its deployment of the revision the execution rolls out (or back) to."""
        services = describe(self.client("ecs"), cluster, [str(r["name"]) for r in rollouts])
        parts = []
        for rollout in rollouts:
            service = services[str(rollout["name"])]
            deployment = service.deployment_of(str(rollout["task_definition_arn"]))
            if deployment is not None:
                parts.append(f"{service.name} {deployment.counts()}")
            else:
                parts.append(f"{service.name} runs {revision(service.task_definition)}, no deployment of it")
        return "ECS: " + ", ".join(parts)

    def snapshot(self, kind: str, snapshot_id: str) -> str:
        rds = self.client("rds")
        if kind == "cluster":
            found = rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=snapshot_id)["DBClusterSnapshots"]
        else:
            found = rds.describe_db_snapshots(DBSnapshotIdentifier=snapshot_id)["DBSnapshots"]
        if not found:
            return "RDS: no such snapshot yet"
        progress = found[0].get("PercentProgress")
        return f"RDS: {found[0].get('Status')}" + (f", {progress}%" if progress is not None else "")


def waiting_for(current: str | None, state: dict[str, Any], live: LiveReader) -> str:
    """What the execution waits for in the state it is in (`state`: the newest pipeline state a
    state exited with), with what AWS reports about it."""
    phase = PHASES.get(current or "")
    plan = state.get("plan") or {}
    cluster = str(plan.get("cluster", ""))
    if phase == "lock":
        holder = (state.get("lock") or {}).get("held_by")
        return f"waiting for the lock, held by {holder}" if holder else "taking the lock"
    if phase == "snapshot" and state.get("snapshot"):
        snapshot_id = str(state["snapshot"]["snapshot_id"])
        kind = str((plan.get("database") or {}).get("kind", "instance"))
        return f"waiting for snapshot {snapshot_id}; " + _read(lambda: live.snapshot(kind, snapshot_id))
    if phase == "migration" and current != "CaptureBaseline" and state.get("migration"):
        task_arn = str(state["migration"]["task_arn"])
        return f"waiting for migration task {task_arn.rsplit('/', 1)[-1][:8]} to stop; " + _read(
            lambda: live.task(cluster, task_arn)
        )
    if phase in ("rollout", "rollback") and (state.get(phase) or {}).get("services"):
        rollouts = list(state[phase]["services"])
        revisions = ", ".join(f"{r['name']} → {revision(str(r['task_definition_arn']))}" for r in rollouts)
        return f"waiting for {revisions}; " + _read(lambda: live.services(cluster, rollouts))
    return f"in {current}" if current else "waiting for the first state"


def _read(report: Callable[[], str]) -> str:
    try:
        return report()
    except ClientError as exc:
        return f"AWS not readable ({exc.response.get('Error', {}).get('Code', 'error')})"
    except BotoCoreError as exc:
        return f"AWS not readable ({type(exc).__name__})"
