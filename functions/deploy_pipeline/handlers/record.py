"""Record: the outcome in DynamoDB, SNS and EventBridge, on every path."""

from deploy_pipeline.handlers._runtime import pipeline_handler
from deploy_pipeline.logic.record import record_outcome
from deploy_pipeline.models.state import RecordInput, RecordResult
from deploy_pipeline.settings import get_settings


@pipeline_handler(RecordInput)
def handler(state: RecordInput) -> RecordResult:
    return record_outcome(state, get_settings())
