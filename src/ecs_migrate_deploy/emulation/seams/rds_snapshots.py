"""RDS: snapshot status control (manual snapshots that take time, or are refused; see `RdsSnapshots`)."""

from __future__ import annotations

import threading
from typing import Any, Literal, Protocol

from ecs_migrate_deploy.emulation.seams.base import Seam, _Patches

SnapshotKind = Literal["instance", "cluster"]


class SnapshotPolicy(Protocol):
    """The status a manual snapshot shows: asked at creation and on each describe until terminal.

    Raising (a moto RDS error such as `moto.rds.exceptions.SnapshotQuotaExceededFault`) at
    creation makes the Create*Snapshot call fail and leaves no snapshot behind.
    """

    def __call__(self, kind: SnapshotKind, snapshot_id: str, /) -> str: ...


_TERMINAL_SNAPSHOT_STATES = frozenset({"available", "failed", "incompatible-restore", "deleted"})


class RdsSnapshots(Seam):
    """Lets tests decide how manual RDS snapshots progress (moto makes them `available` at once).

    Patches in `moto/rds/models.py` (`RDSBackend`): `create_db_snapshot`,
    `create_db_cluster_snapshot` (manual snapshots only; moto's automated cluster snapshots are left
    alone), `describe_db_snapshots`, `describe_db_cluster_snapshots`.
    """

    def __init__(self, policy: SnapshotPolicy) -> None:
        super().__init__()
        self.policy = policy
        self._managed: dict[tuple[str, str], Any] = {}
        self._lock = threading.RLock()

    def _apply(self, patches: _Patches) -> None:
        from moto.rds.models import RDSBackend

        seam = self
        original_create = RDSBackend.create_db_snapshot
        original_create_cluster = RDSBackend.create_db_cluster_snapshot
        original_describe = RDSBackend.describe_db_snapshots
        original_describe_cluster = RDSBackend.describe_db_cluster_snapshots

        def create_db_snapshot(backend: Any, *args: Any, **kwargs: Any) -> Any:
            snapshot = original_create(backend, *args, **kwargs)
            if snapshot.snapshot_type == "manual":
                seam._created("instance", snapshot, snapshot.db_snapshot_identifier, backend.database_snapshots)
            return snapshot

        def create_db_cluster_snapshot(backend: Any, *args: Any, **kwargs: Any) -> Any:
            snapshot = original_create_cluster(backend, *args, **kwargs)
            if snapshot.snapshot_type == "manual":
                seam._created("cluster", snapshot, snapshot.db_cluster_snapshot_identifier, backend.cluster_snapshots)
            return snapshot

        def describe_db_snapshots(backend: Any, *args: Any, **kwargs: Any) -> Any:
            snapshots = original_describe(backend, *args, **kwargs)
            for snapshot in snapshots:
                seam._refresh("instance", snapshot, getattr(snapshot, "db_snapshot_identifier", ""))
            return snapshots

        def describe_db_cluster_snapshots(backend: Any, *args: Any, **kwargs: Any) -> Any:
            snapshots = original_describe_cluster(backend, *args, **kwargs)
            for snapshot in snapshots:
                seam._refresh("cluster", snapshot, getattr(snapshot, "db_cluster_snapshot_identifier", ""))
            return snapshots

        patches.set(RDSBackend, "create_db_snapshot", create_db_snapshot)
        patches.set(RDSBackend, "create_db_cluster_snapshot", create_db_cluster_snapshot)
        patches.set(RDSBackend, "describe_db_snapshots", describe_db_snapshots)
        patches.set(RDSBackend, "describe_db_cluster_snapshots", describe_db_cluster_snapshots)

    def _reset(self) -> None:
        self._managed.clear()

    def _created(self, kind: SnapshotKind, snapshot: Any, snapshot_id: str, store: dict[str, Any]) -> None:
        with self._lock:
            try:
                status = self.policy(kind, snapshot_id)
            except Exception:
                store.pop(snapshot_id, None)
                raise
            self._managed[(kind, snapshot_id)] = snapshot
            self._set(snapshot, status)

    def _refresh(self, kind: SnapshotKind, snapshot: Any, snapshot_id: str) -> None:
        with self._lock:
            tracked = self._managed.get((kind, snapshot_id))
            if tracked is None or id(tracked) != id(snapshot) or snapshot.status in _TERMINAL_SNAPSHOT_STATES:
                return
            self._set(snapshot, self.policy(kind, snapshot_id))

    @staticmethod
    def _set(snapshot: Any, status: str) -> None:
        snapshot.status = status
        snapshot.percent_progress = 100 if status == "available" else 0
