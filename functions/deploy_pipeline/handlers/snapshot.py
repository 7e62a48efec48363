"""StartSnapshot / CheckSnapshot: one starts the snapshot, the other is polled by the ASL's Wait loop."""

from deploy_pipeline.handlers._runtime import pipeline_handler
from deploy_pipeline.logic import snapshot
from deploy_pipeline.models.state import PipelineState, SnapshotResult
from deploy_pipeline.settings import get_settings


@pipeline_handler(PipelineState)  # obeys a stop itself: see snapshot.start
def start(state: PipelineState) -> SnapshotResult:
    return snapshot.start(state, get_settings())


@pipeline_handler(PipelineState, obeys_stop=True)
def check(state: PipelineState) -> SnapshotResult:
    return snapshot.check(state, get_settings())
