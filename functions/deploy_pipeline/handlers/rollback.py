"""StartRollback / CheckRollback: one starts the rollback, the other is polled by the ASL's Wait loop."""

from deploy_pipeline.handlers._runtime import pipeline_handler
from deploy_pipeline.logic import rollback
from deploy_pipeline.models.state import PipelineState, RollbackResult
from deploy_pipeline.settings import get_settings


@pipeline_handler(PipelineState)
def start(state: PipelineState) -> RollbackResult:
    return rollback.start(state, get_settings())


@pipeline_handler(PipelineState)
def check(state: PipelineState) -> RollbackResult:
    return rollback.check(state, get_settings())
