"""Seams for DynamoDB and SNS: where moto is more lenient than AWS documents, or never fails the way AWS can.

Same rules as `moto_seams` (each patch names the moto method it replaces, pinned to
`moto_seams.MOTO_VERSION`, reversible); kept apart because they concern the stack's own resources
(its table and topic) rather than the application's ECS, RDS and Lambda.
"""

from __future__ import annotations

import threading
from typing import Any

from ecs_migrate_deploy.emulation.moto_seams import Seam, _Patches


class SnsSubjectRules(Seam):
    """Publish refuses a Subject that AWS documents as invalid, which moto (up to 100) accepts.

    botocore's SNS model, PublishInput.Subject: "Constraints: Subjects must be UTF-8 text with no line
    breaks or control characters, and less than 100 characters long." (moto follows a 2018 report,
    getmoto/moto#1503, that AWS accepted exactly 100; the pipeline must not depend on either reading, so
    the emulation enforces the documented, stricter one.) Patches `moto/sns/models.py`
    `SNSBackend.publish`.
    """

    def _apply(self, patches: _Patches) -> None:
        from moto.sns.exceptions import InvalidParameterValue
        from moto.sns.models import SNSBackend

        original = SNSBackend.publish

        def publish(backend: Any, message: str, arn: str | None, *args: Any, **kwargs: Any) -> str:
            subject = kwargs.get("subject", args[1] if len(args) > 1 else None)
            if subject is not None:
                if len(subject) >= 100:
                    raise InvalidParameterValue("Subject must be less than 100 characters long")
                if any(not c.isprintable() for c in subject):
                    raise InvalidParameterValue("Subject must have no line breaks or control characters")
            return str(original(backend, message, arn, *args, **kwargs))

        patches.set(SNSBackend, "publish", publish)


class TransactionConflicts(Seam):
    """The first `count` TransactWriteItems calls are cancelled with reason `TransactionConflict`.

    botocore's DynamoDB model, TransactionCanceledException: DynamoDB cancels a TransactWriteItems
    request when "There is an ongoing TransactWriteItems operation that conflicts with a concurrent
    TransactWriteItems request", listing per item "Code: TransactionConflict, Message: Transaction is
    ongoing for the item" (and "None" for items without error). moto serialises every call, so it never
    produces one. Patches `moto/dynamodb/models/__init__.py` `DynamoDBBackend.transact_write_items`.
    """

    def __init__(self, count: int = 1) -> None:
        super().__init__()
        self.remaining = count
        self.raised = 0
        self._lock = threading.Lock()

    def _apply(self, patches: _Patches) -> None:
        from moto.dynamodb.exceptions import TransactionCanceledException
        from moto.dynamodb.models import DynamoDBBackend

        original = DynamoDBBackend.transact_write_items
        seam = self

        def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
            with seam._lock:
                conflict = seam.remaining > 0
                if conflict:
                    seam.remaining -= 1
                    seam.raised += 1
            if conflict:
                reasons = [("TransactionConflict", "Transaction is ongoing for the item", None)]
                reasons += [(None, None, None)] * (len(transact_items) - 1)
                raise TransactionCanceledException(reasons)
            original(backend, transact_items)

        patches.set(DynamoDBBackend, "transact_write_items", transact_write_items)
