"""RecordOutcome: the outcome in DynamoDB, SNS and EventBridge, on every path."""

from deploy_pipeline.handlers._runtime import pipeline_handler
from deploy_pipeline.logic import record as logic
from deploy_pipeline.models.state import RecordInput, RecordResult
from deploy_pipeline.settings import get_settings


@pipeline_handler(RecordInput)
def record_outcome(state: RecordInput) -> RecordResult:
    return logic.record_outcome(state, get_settings())
