"""StartRollout / CheckRollout: one starts the rollout, the other is polled by the ASL's Wait loop."""

from deploy_pipeline.handlers._runtime import pipeline_handler
from deploy_pipeline.logic import rollout
from deploy_pipeline.models.state import PipelineState, RolloutResult
from deploy_pipeline.settings import get_settings


@pipeline_handler(PipelineState, obeys_stop=True)
def start(state: PipelineState) -> RolloutResult:
    return rollout.start(state, get_settings())


@pipeline_handler(PipelineState, obeys_stop=True)
def check(state: PipelineState) -> RolloutResult:
    return rollout.check(state, get_settings())
