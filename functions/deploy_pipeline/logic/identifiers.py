"""Names the pipeline gives AWS resources, derived from the execution name and kept inside AWS's rules.

The deployment id is the key that finds a deployment's snapshot, task-definition revision and
migration task again (a retried Lambda reuses them), so two executions must never share one. An
execution name may hold what AWS identifiers reject ('_', '.', non-ASCII letters) and differ from
another only in such characters or in case (RDS identifiers ignore case), so a name that had to be
changed gets a hash of the original appended; a name that is already safe is kept as it is.
"""

from __future__ import annotations

import hashlib
import re

from deploy_pipeline.aws.rds import restored_identifier_max_length
from deploy_pipeline.models.state import DEPLOYMENT_ID_MAX_LENGTH

_HASH_LENGTH = 8


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_LENGTH]


def _with_hash(base: str, source: str, max_length: int) -> str:
    """`base`, cut to leave room, then `-` and a hash of `source` (what makes it unique)."""
    head = base[: max_length - _HASH_LENGTH - 1].rstrip("-")
    return f"{head}-{_digest(source)}" if head else _digest(source)


def safe_deployment_id(execution_name: str) -> str:
    """Lower-case letters, digits and single hyphens, at most 80 characters, one per execution name
    (the shape `models.state.DeploymentId` checks again in every handler)."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", execution_name.lower()).strip("-")
    if cleaned == execution_name and len(cleaned) <= DEPLOYMENT_ID_MAX_LENGTH:
        return cleaned
    return _with_hash(cleaned or "deployment", execution_name, DEPLOYMENT_ID_MAX_LENGTH)


def derived_identifier(prefix: str, deployment_id: str, max_length: int) -> str:
    """`<prefix><deployment id>` within `max_length`; a cut id keeps a hash of the whole one."""
    identifier = f"{prefix}{deployment_id}"
    if len(identifier) <= max_length:
        return identifier
    return prefix + _with_hash(deployment_id, deployment_id, max_length - len(prefix))


RESTORED_PREFIX = "restored-"


def restored_identifier(deployment_id: str, kind: str) -> str:
    """`restored-<deployment id>`: the instance or cluster a `restore` rollback creates beside the
    database, within RDS's 63 characters; a cluster's leaves room for its writer's suffix
    (`aws.rds.restored_identifier_max_length`), so `<restored>-1` is a valid DB instance identifier too."""
    return derived_identifier(RESTORED_PREFIX, deployment_id, restored_identifier_max_length(kind))
