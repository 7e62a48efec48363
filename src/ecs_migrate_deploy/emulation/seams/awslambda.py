"""Lambda: route invocations to in-process Python handlers (`LambdaRouter`), and what they see.

Patches `moto/awslambda_simple/models.py` and, for a Task's own timeout, moto's Step Functions
interpreter (`StateTaskLambda._eval_execution`); see `LambdaRouter`. Reads a table's key schema from
`moto/dynamodb/models/__init__.py` (`DynamoDBBackend.get_schema`) for the calls it records.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ecs_migrate_deploy.emulation.seams.base import Seam, _now, _Patches

Handler = Callable[[dict[str, Any], Any], Any]
"""A Lambda handler as the Python runtime calls it: `handler(event, context)`."""

ApiCall = tuple[str, str, str | None]
"""What `LambdaRouter.api_calls` keeps: (function, IAM action, `dynamodb:LeadingKeys` value or None)."""

PartitionKeyOf = Callable[[str, str | None], str | None]
"""(table name or ARN, index name or None) -> the name of its partition key attribute (None: unknown)."""


@dataclass
class LambdaContext:
    """The attributes of the Python runtime's context object that handlers (and Powertools) read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 128
    timeout_seconds: float = 3.0
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"
        self.log_stream_name = self.log_stream_name or f"{_now():%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class Invocation:
    """One routed Lambda invocation, kept so tests and the live view can see what ran."""

    function_name: str
    request_id: str
    event: Any
    result: Any
    error_type: str | None
    error_message: str | None
    duration_ms: float


def _drop_unflushed_metrics() -> None:
    """What `log_metrics`'s flush does at the end of every invocation, when metrics are disabled.

    Powertools' `flush_metrics` serializes and clears the buffer only when metrics are enabled; with
    POWERTOOLS_METRICS_DISABLED (set in rehearsals and tests) the values stay, pile up across the
    invocations of a warm container, and at the 100th value of one metric Powertools flushes by
    itself, which fails on a Metrics object created before its namespace was set ("Must contain a
    metric namespace"). Each emulated invocation ends with the buffer a real flush would leave: empty.
    """
    with contextlib.suppress(ImportError):
        from aws_lambda_powertools.metrics.functions import is_metrics_disabled
        from deploy_pipeline.observability import metrics

        if is_metrics_disabled():
            metrics.clear_metrics()


def resolve_handler(dotted: str) -> Handler:
    """`package.module.func` -> the function, imported on first use (handlers may not import yet)."""
    module_name, _, attr = dotted.rpartition(".")
    if not module_name:
        raise ValueError(f"handler {dotted!r} is not of the form 'module.function'")
    handler = getattr(importlib.import_module(module_name), attr)
    if not callable(handler):
        raise TypeError(f"handler {dotted!r} is not callable")
    return handler  # type: ignore[no-any-return]


class LambdaRouter(Seam):
    """Runs `LambdaSimpleBackend.invoke` invocations through in-process Python handlers.

    Patches `moto/awslambda_simple/models.py` `LambdaSimpleBackend.invoke` (used when
    `config={"lambda": {"use_docker": False}}`), which Step Functions' Task states reach through the
    Lambda API. `routes` maps a function name to a handler or a dotted path; an unrouted function
    falls back to its configured `Handler` (as created from the template). Exceptions become an
    Unhandled function error with `errorType` = the exception's class name, which is what the ASL's
    Retry/Catch match, exactly as the Python runtime reports it.

    Invocations are serialized with a lock: the SFN interpreter runs in a background thread, our
    handlers share module-level state (cached clients and settings), and real Lambda runs each
    invocation in its own process. The function's configured environment is overlaid on os.environ
    for the duration of a call, as each real function has its own environment.

    Every AWS API call a handler makes is kept in `api_calls` as (function, IAM action, leading key):
    moto does not enforce IAM, so this is what a test compares with the function's role in the
    template. The leading key is the partition key value a DynamoDB item request touches, which a
    `dynamodb:LeadingKeys` condition restricts (`iam_requests`); None for every other service.
    """

    def __init__(
        self,
        routes: Mapping[str, str | Handler] | None = None,
        *,
        fallback_to_configured_handler: bool = True,
        enforce_timeouts: bool = False,
    ) -> None:
        super().__init__()
        self._routes: dict[str, str | Handler] = dict(routes or {})
        self._resolved: dict[str, Handler] = {}
        self.fallback_to_configured_handler = fallback_to_configured_handler
        self.enforce_timeouts = enforce_timeouts
        self.invocations: list[Invocation] = []
        self._lock = threading.RLock()
        self._calls: dict[str, int] = {}
        self._lost: dict[str, tuple[range, str]] = {}
        self._task_timeouts: dict[str, int] = {}  # function name -> Task timeouts to raise after invoking
        self.lost_results: list[Invocation] = []
        self.api_calls: set[ApiCall] = set()
        self._current = threading.local()  # the function whose handler this thread is running

    def lose_result(
        self, function_name: str, error: str = "Lambda.Unknown", occurrence: int = 1, times: int = 1
    ) -> None:
        """At-least-once delivery: the `occurrence`-th invocation of `function_name` runs to its end, so
        its side effects happen, and then fails with `error` instead of returning its result.

        This is what AWS documents for a function that times out after doing its work: Step Functions'
        "Handle Lambda service exceptions" page says "Unhandled errors in Lambda are reported as
        Lambda.Unknown in the error output. These include out-of-memory errors and function timeouts";
        a Task whose own TimeoutSeconds elapses fails with "States.Timeout" (the ASL spec's predefined
        error) while the invocation may still finish. The ASL's Retry then runs the function again.
        `times` > 1 loses that many invocations in a row from `occurrence` on (enough of them exhausts
        the Retry, and the Catch takes over).
        """
        with self._lock:
            self._lost[function_name] = (range(occurrence, occurrence + times), error)

    def route(self, function_name: str, handler: str | Handler) -> None:
        with self._lock:
            self._routes[function_name] = handler
            self._resolved.pop(function_name, None)

    def _handler_for(self, function_name: str, configured: str | None) -> Handler:
        if function_name in self._resolved:
            return self._resolved[function_name]
        target = self._routes.get(function_name)
        if target is None and self.fallback_to_configured_handler:
            target = configured
        if target is None:
            raise LookupError(f"no in-process handler routed for Lambda function {function_name!r}")
        handler = resolve_handler(target) if isinstance(target, str) else target
        self._resolved[function_name] = handler
        return handler

    def _apply(self, patches: _Patches) -> None:
        from moto.awslambda_simple.models import LambdaSimpleBackend

        router = self

        def invoke(
            backend: Any,
            function_name: str,
            qualifier: str | None,
            body: Any,
            headers: Any,
            response_headers: Any,
        ) -> bytes:
            # function_name may be a name or an ARN (SFN passes the ARN); moto resolves both.
            fn = backend.get_function(function_name, qualifier)
            return router._invoke(fn, body, response_headers)

        patches.set(LambdaSimpleBackend, "invoke", invoke)

        from botocore.client import BaseClient

        original_call = BaseClient._make_api_call  # type: ignore[attr-defined]

        def make_api_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            function = getattr(router._current, "function", None)
            if function is not None:
                prefix = client.meta.service_model.signing_name
                requests = iam_requests(prefix, operation_name, api_params, _moto_partition_keys(client))
                router.api_calls.update((function, action, key) for action, key in requests)
            return original_call(client, operation_name, api_params)

        patches.set(BaseClient, "_make_api_call", make_api_call)

        # A Task's own timeout ("States.Timeout") cannot be reported by the function (moto, like AWS,
        # refuses error names starting with "States."): it is raised by the interpreter, after the
        # invocation did its work, as `_evaluate_with_timeout` does when TimeoutSeconds elapses
        # (moto/stepfunctions/parser/asl/component/state/exec/state_task/state_task_lambda.py
        # `StateTaskLambda._eval_execution`; its `_from_error` maps TimeoutError to States.Timeout).
        from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import EvalTimeoutError
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import StateTaskLambda

        original = StateTaskLambda._eval_execution

        def eval_execution(state: Any, env: Any) -> None:
            failure: Exception | None = None
            try:
                original(state, env)
            except Exception as exc:  # the invocation's own error, lost if the Task timed out
                failure = exc
            function_name = str(state.resource.resource_arn).rsplit(":", 1)[-1]
            with router._lock:
                due = router._task_timeouts.get(function_name, 0)
                if due:
                    router._task_timeouts[function_name] = due - 1
            if due:
                raise EvalTimeoutError()
            if failure is not None:
                raise failure

        patches.set(StateTaskLambda, "_eval_execution", eval_execution)

    def _invoke(self, fn: Any, body: Any, response_headers: dict[str, str]) -> bytes:
        event = json.loads(body) if body else {}
        with self._lock:
            context = LambdaContext(
                function_name=fn.function_name,
                invoked_function_arn=fn.function_arn,
                memory_limit_in_mb=int(fn.memory_size or 128),
                timeout_seconds=float(fn.timeout or 3),
            )
            started = time.perf_counter()
            result: Any = None
            error: BaseException | None = None
            try:
                handler = self._handler_for(fn.function_name, fn.handler)
                self._current.function = fn.function_name
                with _environment_overlay(dict(fn.environment_vars or {})):
                    try:
                        result = handler(event, context)
                    finally:
                        _drop_unflushed_metrics()
                payload = json.dumps(result)
            except Exception as exc:
                error = exc
            finally:
                self._current.function = None
            elapsed = time.perf_counter() - started
            calls = self._calls[fn.function_name] = self._calls.get(fn.function_name, 0) + 1
            if error is None and self.enforce_timeouts and elapsed > context.timeout_seconds:
                error = _SandboxTimedout(f"Task timed out after {context.timeout_seconds:.2f} seconds")
            lost = self._lost.get(fn.function_name)
            # The work is done either way: what is lost is its result, a value or an error.
            if lost is not None and calls in lost[0] and lost[1] == "States.Timeout":
                self._task_timeouts[fn.function_name] = self._task_timeouts.get(fn.function_name, 0) + 1
                self.lost_results.append(
                    Invocation(fn.function_name, context.aws_request_id, event, result, "States.Timeout", None, 0.0)
                )
            elif lost is not None and calls in lost[0]:
                error = _ResultLost(
                    lost[1], f"emulated: the invocation did its work, then its result was lost ({lost[1]})"
                )
            if error is not None:
                error_type = (
                    "Sandbox.Timedout"
                    if isinstance(error, _SandboxTimedout)
                    else error.error_type
                    if isinstance(error, _ResultLost)
                    else type(error).__name__
                )
                response_headers["x-amz-function-error"] = "Unhandled"
                payload = json.dumps({"errorType": error_type, "errorMessage": str(error), "stackTrace": []})
                result = None
            self.invocations.append(
                Invocation(
                    function_name=fn.function_name,
                    request_id=context.aws_request_id,
                    event=event,
                    result=result,
                    error_type=None if error is None else json.loads(payload)["errorType"],
                    error_message=None if error is None else str(error),
                    duration_ms=elapsed * 1000,
                )
            )
            if isinstance(error, _ResultLost):
                self.lost_results.append(self.invocations[-1])
        return payload.encode("utf-8")

    def _reset(self) -> None:
        self._resolved.clear()
        self._calls.clear()
        self._lost.clear()
        self._task_timeouts.clear()


_TRANSACTION_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
_ITEM_OPERATIONS = frozenset({"GetItem", "PutItem", "UpdateItem", "DeleteItem"})
_EQUALITY = re.compile(r"([#:]?\w+)\s*=\s*([#:]?\w+)")


class _ItemAccess(NamedTuple):
    """One item (or, for a Query, one partition) a DynamoDB call touches, as IAM authorises it."""

    action: str
    table: str | None
    index_name: str | None
    attributes: Mapping[str, Any]  # the item's key (or whole item), or a Query's `name = :value` tests


def iam_requests(
    prefix: str, operation: str, params: Mapping[str, Any], partition_key_of: PartitionKeyOf
) -> set[tuple[str, str | None]]:
    """The IAM requests one API call makes, as (action, `dynamodb:LeadingKeys` value or None).

    The action is `<prefix>:<Operation>`, except in DynamoDB's transactions, which IAM authorises item
    by item ("TransactWriteItems ... requires permissions for each of the actions it performs:
    PutItem, UpdateItem, DeleteItem, ConditionCheckItem", DynamoDB Developer Guide, "Using IAM with
    DynamoDB transactions"). The leading key is what a policy's `dynamodb:LeadingKeys` condition
    compares: the partition key value of the items accessed (DynamoDB Developer Guide, "Using IAM
    policy conditions for fine-grained access control": the key lets a role "access only the items
    where the partition key value matches"). It is the partition key attribute (`partition_key_of`,
    from the table's or index's key schema) of each item's Key or Item, or the value a Query's
    KeyConditionExpression compares it with by `=`; None when it cannot be determined (a Scan, an
    unknown table, a binary key) and for every other service.
    """
    if prefix != "dynamodb":
        return {(f"{prefix}:{operation}", None)}
    return {
        (f"dynamodb:{access.action}", _leading_key(access, partition_key_of))
        for access in _dynamodb_accesses(operation, params)
    }


def _dynamodb_accesses(operation: str, params: Mapping[str, Any]) -> list[_ItemAccess]:
    if operation in _ITEM_OPERATIONS:
        return [_ItemAccess(operation, params.get("TableName"), None, _key_or_item(params))]
    if operation == "Query":
        return [_ItemAccess(operation, params.get("TableName"), params.get("IndexName"), _key_equalities(params))]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return [
            _ItemAccess(_TRANSACTION_ITEM_ACTIONS[kind], body.get("TableName"), None, _key_or_item(body))
            for item in params.get("TransactItems", [])
            for kind, body in item.items()
        ]
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [
            _ItemAccess(operation, table, None, key)
            for table, request in params.get("RequestItems", {}).items()
            for key in _batch_keys(request)
        ]
    return [_ItemAccess(operation, None, None, {})]


def _key_or_item(body: Mapping[str, Any]) -> Mapping[str, Any]:
    """The attributes naming the item: `Key` (Get/Update/Delete/ConditionCheck) or `Item` (Put)."""
    return dict(body.get("Key") or body.get("Item") or {})


def _batch_keys(request: Any) -> list[Mapping[str, Any]]:
    """BatchGetItem's `{"Keys": [...]}` per table, or BatchWriteItem's list of Put/DeleteRequests."""
    if isinstance(request, Mapping):
        return list(request.get("Keys", []))
    return [_key_or_item(body) for write in request for body in write.values()]


def _key_equalities(params: Mapping[str, Any]) -> dict[str, Any]:
    """Attribute name -> value of each `name = :value` test of a Query's KeyConditionExpression (the
    partition key's is among them: "must perform an equality test on a single partition key value")."""
    names = params.get("ExpressionAttributeNames", {})
    values = params.get("ExpressionAttributeValues", {})
    found: dict[str, Any] = {}
    for left, right in _EQUALITY.findall(params.get("KeyConditionExpression", "")):
        name, placeholder = (right, left) if left.startswith(":") else (left, right)
        if placeholder.startswith(":") and not name.startswith(":"):
            found[names.get(name, name)] = values.get(placeholder)
    return found


def _leading_key(access: _ItemAccess, partition_key_of: PartitionKeyOf) -> str | None:
    if access.table is None or not access.attributes:
        return None
    name = partition_key_of(access.table, access.index_name)
    value = access.attributes.get(name) if name is not None else None
    # A string key's value, or a number's text: what the condition's string operators compare.
    if isinstance(value, Mapping):
        return next((value[kind] for kind in ("S", "N") if isinstance(value.get(kind), str)), None)
    return None


def _moto_partition_keys(client: Any) -> PartitionKeyOf:
    """The partition key attribute of a table (or index) as moto's backend holds it, in the account
    and region that `client`'s calls reach (a table ARN names its own)."""

    def partition_key_of(table: str, index: str | None) -> str | None:
        from moto.dynamodb.exceptions import ResourceNotFoundException
        from moto.dynamodb.models import dynamodb_backends

        account, region = _moto_account(client), client.meta.region_name
        if table.startswith("arn:"):
            region, account = table.split(":")[3:5]
        try:
            schema = dynamodb_backends[account][region].get_schema(table, index)
        except ResourceNotFoundException:
            return None
        return next((str(key["AttributeName"]) for key in schema if key["KeyType"] == "HASH"), None)

    return partition_key_of


def _moto_account(client: Any) -> str:
    """The account moto serves `client` from, in moto's own order (`BaseResponse.get_current_account`):
    MOTO_ACCOUNT_ID (the Emulator sets it), then the account of the client's access key."""
    from moto.iam.models import get_account_id_from

    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    credentials = client._get_credentials()
    return get_account_id_from(credentials.access_key if credentials else "")


class _SandboxTimedout(Exception):
    pass


class _ResultLost(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


@contextmanager
def _environment_overlay(values: Mapping[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update({key: str(value) for key, value in values.items()})
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
