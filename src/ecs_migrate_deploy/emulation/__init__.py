"""Local execution of the real state machine: moto for AWS, in-process handlers, chosen outcomes.

`Emulator` (engine) runs executions in a `World` (world) built from a `WorldSpec`; the `seams`
package (one module per AWS service) is the only place that patches moto's internals, and
`aws_events` emits AWS's state-change events. Imported by the workflow tests, the benchmarks and the
`rehearse` CLI command, never by a Lambda.
"""

from ecs_migrate_deploy.emulation.engine import Emulator, ExecutionReport, StateVisit
from ecs_migrate_deploy.emulation.seams import MotoSeams
from ecs_migrate_deploy.emulation.seams.awslambda import LambdaContext
from ecs_migrate_deploy.emulation.seams.ecs_rollouts import RolloutPolicy
from ecs_migrate_deploy.emulation.seams.ecs_tasks import TaskOutcome, TaskRunner
from ecs_migrate_deploy.emulation.seams.rds_snapshots import SnapshotPolicy
from ecs_migrate_deploy.emulation.seams.waits import RecordedSleep
from ecs_migrate_deploy.emulation.world import DbSecret, World, WorldSpec, build_world

__all__ = [
    "DbSecret",
    "Emulator",
    "ExecutionReport",
    "LambdaContext",
    "MotoSeams",
    "RecordedSleep",
    "RolloutPolicy",
    "SnapshotPolicy",
    "StateVisit",
    "TaskOutcome",
    "TaskRunner",
    "World",
    "WorldSpec",
    "build_world",
]
