"""Local execution of the real state machine: moto for AWS, in-process handlers, chosen outcomes.

`Emulator` (engine) runs executions in a `World` (world) built from a `WorldSpec`; `moto_seams` is
the only module that reaches into moto's internals. Imported by the workflow tests, the benchmarks
and the `rehearse` CLI command, never by a Lambda.
"""

from ecs_migrate_deploy.emulation.engine import Emulator, ExecutionReport, StateVisit
from ecs_migrate_deploy.emulation.moto_seams import (
    LambdaContext,
    MotoSeams,
    RecordedSleep,
    RolloutPolicy,
    SnapshotPolicy,
    TaskOutcome,
    TaskRunner,
)
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
