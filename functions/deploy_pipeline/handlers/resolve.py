"""Resolve: the raw input (ECR push or manual start) → a validated DeploymentPlan."""

from deploy_pipeline.handlers._runtime import pipeline_handler
from deploy_pipeline.logic import resolve as logic
from deploy_pipeline.models.state import ResolveOutput, StartInput
from deploy_pipeline.settings import get_settings


@pipeline_handler(StartInput)
def resolve(start: StartInput) -> ResolveOutput:
    return logic.resolve(start, get_settings())
