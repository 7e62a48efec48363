"""AcquireLock / ReleaseLock: one deployment per service at a time."""

from deploy_pipeline.handlers._runtime import pipeline_handler
from deploy_pipeline.logic import lock
from deploy_pipeline.models.state import LockResult, PipelineState, RecordInput
from deploy_pipeline.settings import get_settings


@pipeline_handler(PipelineState)
def acquire(state: PipelineState) -> LockResult:
    return lock.acquire(state, get_settings())


@pipeline_handler(RecordInput)  # runs on every path, after a failed Resolve too (no plan, no lock)
def release(state: RecordInput) -> LockResult:
    return lock.release(state, get_settings())
