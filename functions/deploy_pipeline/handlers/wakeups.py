"""AwaitEvent (a waitForTaskToken state's Lambda) and Notice (the target of AWS's state-change events)."""

from deploy_pipeline.handlers._runtime import pipeline_handler
from deploy_pipeline.logic import wakeups
from deploy_pipeline.models.state import AwaitInput, AwaitResult, AwsEvent, NoticeResult
from deploy_pipeline.settings import get_settings


@pipeline_handler(AwaitInput)
def await_event(request: AwaitInput) -> AwaitResult:
    return wakeups.await_event(request, get_settings())


@pipeline_handler(AwsEvent)
def notice(event: AwsEvent) -> NoticeResult:
    return wakeups.notice(event, get_settings())
