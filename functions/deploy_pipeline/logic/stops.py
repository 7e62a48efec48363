"""Obeying `ecs-migrate-deploy stop`: a phase that is asked to stop fails with DeploymentStopped.

The phases that start or check work (snapshot, migration and rollout) read the request before doing
anything; the ASL routes their failure as it routes any other, so a stop before the migration leaves
everything untouched, and a stop from the migration on goes through StartRollback (which stops a
running migration task and puts the services back). The rollback, the record and the lock release
never obey a stop: they are how a stopped deployment ends cleanly. AcquireLock obeys one only when it
did not get the lock (another deployment holds it): a deployment waiting for the lock ends at its next
try, holding nothing. Once it has the lock it does not: retried after its transaction took the locks,
it would fail before the result that names them reaches the state, and ReleaseLock, which frees the
locks that result names, would leave them to their TTL; the first phase after it obeys instead.
StartSnapshot obeys one unless its snapshot exists already (logic/snapshot.start): retried after
creating it, it passes the snapshot's id on and lets CheckSnapshot obey, so the record names it.
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
