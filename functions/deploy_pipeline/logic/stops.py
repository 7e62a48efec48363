"""Obeying `ecs-migrate-deploy stop`: a phase that is asked to stop fails with DeploymentStopped.

The phases that start or check work (snapshot, migration and rollout) read the request before doing
anything; the ASL routes their failure as it routes any other, so a stop before the migration leaves
everything untouched, and a stop from the migration on goes through StartRollback (which stops a
running migration task and puts the services back). The rollback, the record and the lock release
never obey a stop: they are how a stopped deployment ends cleanly. Nor does AcquireLock: retried after
its transaction took the locks, it would fail before the result that names them reaches the state,
and ReleaseLock, which frees the locks that result names, would leave them to their TTL. A stop asked
while the lock is awaited is obeyed by the first phase after it, before anything is touched.
"""

from __future__ import annotations

from deploy_pipeline.aws import stop_requests
from deploy_pipeline.errors import DeploymentStopped
from deploy_pipeline.models.state import ExecutionInfo
from deploy_pipeline.settings import get_settings


def obey(execution: ExecutionInfo) -> None:
    request = stop_requests.stop_request(get_settings().table_name, execution.name)
    if request is not None:
        raise DeploymentStopped(request.describe())
