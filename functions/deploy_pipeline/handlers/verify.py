"""CaptureBaseline / Verify: the schema before the migration, and the database's word after it."""

from deploy_pipeline.handlers._runtime import pipeline_handler
from deploy_pipeline.logic import verify as logic
from deploy_pipeline.models.state import PipelineState, SchemaBaseline, VerificationResult
from deploy_pipeline.settings import get_settings


@pipeline_handler(PipelineState)
def capture_baseline(state: PipelineState) -> SchemaBaseline:
    return logic.capture_baseline(state, get_settings())


@pipeline_handler(PipelineState)
def verify(state: PipelineState) -> VerificationResult:
    return logic.verify_schema(state, get_settings())
