"""Every patch into moto's internals, one module per AWS service, because each one is pinned to moto 5.2.5.

moto emulates the AWS APIs well but stops short of what a deployment pipeline needs to see:
Lambda invocations that run our handlers, Wait states that do not really wait, a migration task
whose exit code and log lines we choose, ECS rollouts that complete or fail, snapshots that are
slow or fail. Each seam replaces one moto method (or one module reference) and names the moto
file it patches, so an upgrade of moto means re-reading exactly these modules:

- `base`: `MOTO_VERSION`, `Seam` (the base of every seam) and its reversible `_Patches`;
- `awslambda`: `LambdaRouter` (invocations run by in-process handlers; IAM actions and DynamoDB
  partition keys recorded),
  `LambdaContext`, `Invocation`, `resolve_handler`;
- `waits`: Step Functions' Wait states, Retry backoff (`SleepRecorder`) and task-token waits
  (`EventDrivenWaits`) in emulated time;
- `ecs_tasks`: RunTask / DescribeTasks / StopTask (`EcsTasks`, `TaskRunner`, `TaskOutcome`);
- `ecs_rollouts`: ECS deployments (`EcsRollouts`, `RolloutPolicy`, `settle_services`, `set_system_tags`);
- `rds_snapshots`: manual snapshots' status (`RdsSnapshots`, `SnapshotPolicy`);
- `documented_limits`: where moto is more lenient than AWS documents (SNS, DynamoDB, RDS identifiers
  and restores); `documented_behaviour`: AWS behaviours moto does not have (RunTask idempotency,
  GetLogEvents pages, a busy database, its endpoint, ECR blob downloads).

Only the seams reach into moto's internals to change them: the rest of `emulation` goes through the
AWS APIs, or only reads moto's backends (`aws_events.AwsEventSource`).

Every seam is reversible: `install()` / `uninstall()` or `with seam:`; `MotoSeams` bundles them.
Patches are class-level, so they act on every moto backend (all accounts and regions) while installed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Self

from ecs_migrate_deploy.emulation.seams.awslambda import Handler, LambdaRouter
from ecs_migrate_deploy.emulation.seams.base import Seam
from ecs_migrate_deploy.emulation.seams.documented_behaviour import EcrBlobDownloads, RunTaskIdempotency
from ecs_migrate_deploy.emulation.seams.documented_limits import (
    RdsClusterRestoreAsDocumented,
    RdsIdentifierRules,
    SnsSubjectRules,
)
from ecs_migrate_deploy.emulation.seams.ecs_rollouts import EcsRollouts, RolloutPolicy
from ecs_migrate_deploy.emulation.seams.ecs_tasks import EcsTasks, TaskRunner
from ecs_migrate_deploy.emulation.seams.rds_snapshots import RdsSnapshots, SnapshotPolicy
from ecs_migrate_deploy.emulation.seams.waits import EventDrivenWaits, SleepRecorder

if TYPE_CHECKING:
    from ecs_migrate_deploy.emulation.aws_events import EventDelivery


class MotoSeams(Seam):
    """The seams an emulated deployment needs, installed and removed together."""

    def __init__(
        self,
        *,
        routes: Mapping[str, str | Handler] | None = None,
        task_runner: TaskRunner | None = None,
        rollout_policy: RolloutPolicy | None = None,
        snapshot_policy: SnapshotPolicy | None = None,
        skip_waits: bool = True,
        skip_retry_sleeps: bool = True,
        enforce_lambda_timeouts: bool = False,
        extra: Sequence[Seam] = (),
        event_delivery: EventDelivery | None = None,
    ) -> None:
        """`extra`: more seams installed with these (the documented AWS limits and behaviours moto does
        not have, `documented_limits.SnsSubjectRules`, `documented_behaviour.RunTaskIdempotency` and
        `documented_behaviour.EcrBlobDownloads` (`ecr_blobs`), are always among them)."""
        super().__init__()
        self.ecr_blobs = EcrBlobDownloads()
        self.extra: list[Seam] = [SnsSubjectRules(), RunTaskIdempotency(), self.ecr_blobs, *extra]
        self.extra += [RdsIdentifierRules(), RdsClusterRestoreAsDocumented()]  # RDS identifiers, Aurora restores
        self.lambdas = LambdaRouter(routes, enforce_timeouts=enforce_lambda_timeouts)
        self.sleeps = SleepRecorder(skip_waits=skip_waits, skip_retries=skip_retry_sleeps)
        self.tasks = EcsTasks(task_runner)
        self.rollouts = EcsRollouts(rollout_policy)
        self.snapshots = RdsSnapshots(snapshot_policy) if snapshot_policy else None
        self.events = EventDrivenWaits(self.sleeps, event_delivery)
        self._installed: list[Seam] = []

    @property
    def installed(self) -> bool:
        return bool(self._installed)

    def install(self) -> Self:
        if self._installed:
            raise RuntimeError("MotoSeams is already installed")
        seams: list[Seam] = [self.lambdas, self.sleeps, self.tasks, self.rollouts, self.events]
        if self.snapshots is not None:
            seams.append(self.snapshots)
        seams += self.extra
        try:
            for seam in seams:
                seam.install()
                self._installed.append(seam)
        except BaseException:
            self.uninstall()
            raise
        return self

    def uninstall(self) -> None:
        while self._installed:
            self._installed.pop().uninstall()
