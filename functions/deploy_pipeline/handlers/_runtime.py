"""What every handler shares: parse the state with its model, delegate, translate AWS errors.

Handlers stay one line of delegation; this decorator is the only place that knows how a Python
exception becomes the `errorType` the ASL's Retry and Catch match on.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.utilities.parser import parse
from pydantic import BaseModel

from deploy_pipeline.errors import AwsCallFailed, InvalidInput, TransientAwsError
from deploy_pipeline.logic import stops
from deploy_pipeline.observability import logger, metrics

M = TypeVar("M", bound=BaseModel)

# Error codes that mean "try again later", left over after boto3's own standard-mode retries.
_TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalServerError",
        "InternalError",
        "ServerException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


def translate_aws_error(exc: Exception) -> Exception:
    """Map botocore failures to the two named errors the ASL knows; leave everything else alone."""
    from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        message = str(error.get("Message", ""))
        operation = exc.operation_name
        if code in _TRANSIENT_CODES:
            return TransientAwsError(f"{operation} was throttled or unavailable ({code}): {message}")
        return AwsCallFailed(f"{operation} failed ({code}): {message}")
    if isinstance(exc, ConnectionError | ReadTimeoutError):
        return TransientAwsError(f"AWS endpoint unreachable: {exc}")
    return exc


def parse_as(model: type[M], event: dict[str, Any]) -> M:
    """The event as `model`, or InvalidInput naming what does not fit: a state that is not what this
    function takes (a hand-made `sam local invoke` event, a state machine edited out of step) reaches
    the ASL as a named error, never as pydantic's raw ValidationError."""
    from pydantic import ValidationError

    try:
        return parse(event=event, model=model)
    except ValidationError as exc:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": str(exc)}
        where = ".".join(str(part) for part in first["loc"]) or "the event"
        raise InvalidInput(
            f"this function takes a {model.__name__}; {where}: {first['msg']} ({exc.error_count()} problem(s))"
        ) from None


def pipeline_handler(
    model: type[M], *, obeys_stop: bool = False
) -> Callable[[Callable[[M], BaseModel]], Callable[[dict[str, Any], Any], Any]]:
    """Turn `fn(parsed_model) -> result_model` into a Lambda handler with logging and metrics.

    `obeys_stop`: before `fn`, fail with DeploymentStopped when an operator asked this execution to
    stop (logic.stops); the model must carry the `execution`.
    """
    if obeys_stop and "execution" not in model.model_fields:
        raise TypeError(f"{model.__name__} has no execution: a handler of it cannot obey a stop request")

    def decorate(fn: Callable[[M], BaseModel]) -> Callable[[dict[str, Any], Any], Any]:
        @functools.wraps(fn)
        @logger.inject_lambda_context(correlation_id_path="execution.name", clear_state=True)
        @metrics.log_metrics
        def handler(event: dict[str, Any], context: Any) -> Any:
            parsed = parse_as(model, event)
            try:
                if obeys_stop:
                    stops.obey(getattr(parsed, "execution", None))  # type: ignore[arg-type]
                result = fn(parsed)
            except Exception as exc:
                translated = translate_aws_error(exc)
                logger.warning("phase failed", extra={"error": type(translated).__name__, "reason": str(translated)})
                if translated is exc:
                    raise
                raise translated from exc
            return result.model_dump(mode="json")

        return handler

    return decorate
