"""Seams for AWS behaviours moto does not have: idempotent RunTask, empty log pages, a busy database,
the database's endpoint, ECR's blob downloads.

Same rules as every seam (`seams.base`: each patch names the moto method it replaces, pinned to
`base.MOTO_VERSION`, reversible), and each follows the AWS document quoted in its docstring,
not what the pipeline happens to expect. `RunTaskIdempotency`, `RdsEndpoint` and `EcrBlobDownloads` are
always installed (the Emulator adds them); the others are world variants a test asks for.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from datetime import UTC, datetime
from email.message import Message
from typing import Any

from ecs_migrate_deploy.emulation.seams.base import Seam, _Patches


class RunTaskIdempotency(Seam):
    """RunTask honours `clientToken`, which moto's ECS responses drop.

    ECS API Reference, "Ensuring idempotency": "If you retry a request that completed successfully using
    the same client token and the same parameters, the retry succeeds without performing any further
    actions" and returns the original result; with the same token and different parameters it "fails
    with a ConflictException"; tokens are per cluster ("Requests with the same token in different
    clusters are considered separate") and live 24 hours (not modelled: an emulated world is shorter).
    Patches `moto/ecs/responses.py` `EC2ContainerServiceResponse.run_task`.
    """

    def __init__(self) -> None:
        super().__init__()
        self._seen: dict[tuple[str, str, str, str], tuple[str, Any]] = {}
        self._lock = threading.Lock()

    def _apply(self, patches: _Patches) -> None:
        from moto.ecs.exceptions import ECSException
        from moto.ecs.responses import EC2ContainerServiceResponse

        original = EC2ContainerServiceResponse.run_task
        seam = self

        def run_task(response: EC2ContainerServiceResponse) -> Any:
            token = response._get_param("clientToken")
            if not token:
                return original(response)
            cluster = str(response._get_param("cluster", "default")).rsplit("/", 1)[-1]
            key = (response.current_account, response.region, cluster, token)
            request = {k: v for k, v in json.loads(response.body or "{}").items() if k != "clientToken"}
            fingerprint = json.dumps(request, sort_keys=True, default=str)
            with seam._lock:
                if key in seam._seen:
                    first, result = seam._seen[key]
                    if first != fingerprint:
                        raise ECSException(
                            "ConflictException", "The clientToken was already used with different request parameters"
                        )
                    return result
                result = original(response)
                seam._seen[key] = (fingerprint, result)
                return result

        patches.set(EC2ContainerServiceResponse, "run_task", run_task)

    def _reset(self) -> None:
        self._seen.clear()


class LogsEmptyFirstPage(Seam):
    """The first `count` GetLogEvents calls without a nextToken return no events, and a token to go on.

    botocore's CloudWatch Logs model, GetLogEvents: "A returned page might only be partially full, or even
    empty ... Partially full or empty pages don't necessarily mean that pagination is finished. As long as
    the nextBackwardToken or nextForwardToken returned is NOT equal to the nextToken that you passed into
    the API call, there might be more log events available." moto always fills the first page.
    Patches `moto/logs/models.py` `LogsBackend.get_log_events`.
    """

    def __init__(self, count: int = 1) -> None:
        super().__init__()
        self.remaining = count
        self.empty_pages = 0
        self._lock = threading.Lock()

    def _apply(self, patches: _Patches) -> None:
        from moto.logs.models import LogsBackend

        original = LogsBackend.get_log_events
        seam = self

        def get_log_events(backend: LogsBackend, *args: Any, **kwargs: Any) -> Any:
            events, backward, forward = original(backend, *args, **kwargs)
            with seam._lock:
                empty = kwargs.get("next_token") is None and seam.remaining > 0
                if empty:
                    seam.remaining -= 1
                    seam.empty_pages += 1
            if not empty or not events:
                return events, backward, forward
            # moto's backward token "b/<i>" reads the page ending just before event i: point it past
            # the newest event so the next call returns the page this one withheld.
            end = int(forward.split("/", 1)[1]) + 1 if forward else len(events)
            return [], f"b/{end:056d}", forward

        patches.set(LogsBackend, "get_log_events", get_log_events)


class DatabaseBackingUp(Seam):
    """The database is `backing-up` for its first `calls` snapshot requests, which RDS refuses.

    botocore's RDS model: CreateDBSnapshot may fail with InvalidDBInstanceStateFault (code
    InvalidDBInstanceState, "The DB instance isn't in a valid state") and CreateDBClusterSnapshot with
    InvalidDBClusterStateFault ("The requested operation can't be performed while the cluster is in this
    state"); the RDS User Guide lists `backing-up` among DB instance statuses ("The DB instance is being
    backed up"), as during the daily backup window. While busy, Describe* shows that status.
    Patches `moto/rds/models.py` `RDSBackend.create_db_snapshot`, `create_db_cluster_snapshot`.
    """

    def __init__(self, calls: int = 2, status: str = "backing-up") -> None:
        super().__init__()
        self.remaining = calls
        self.status = status
        self.refused = 0
        self._lock = threading.Lock()

    def _apply(self, patches: _Patches) -> None:
        from moto.rds.exceptions import RDSClientError
        from moto.rds.models import RDSBackend

        seam = self
        original_instance = RDSBackend.create_db_snapshot
        original_cluster = RDSBackend.create_db_cluster_snapshot

        def busy(backend: Any, kind: str, identifier: str) -> None:
            with seam._lock:
                refuse = seam.remaining > 0
                if refuse:
                    seam.remaining -= 1
                    seam.refused += 1
            store = backend.databases if kind == "instance" else backend.clusters
            resource = store.get(identifier)
            if resource is not None:
                resource.status = seam.status if refuse else "available"
            if not refuse:
                return
            if kind == "instance":
                raise RDSClientError(
                    "InvalidDBInstanceState",
                    f"Cannot create a snapshot because the database instance {identifier} is not currently in the "
                    f"available state (it is {seam.status}).",
                )
            raise RDSClientError(
                "InvalidDBClusterStateFault",
                f"Cannot create a snapshot because the DB cluster {identifier} is in the {seam.status} state.",
            )

        def create_db_snapshot(backend: Any, db_instance_identifier: str, *args: Any, **kwargs: Any) -> Any:
            if kwargs.get("snapshot_type", "manual") == "manual":  # moto's own automated ones pass
                busy(backend, "instance", db_instance_identifier)
            return original_instance(backend, db_instance_identifier, *args, **kwargs)

        def create_db_cluster_snapshot(backend: Any, db_cluster_identifier: str, *args: Any, **kwargs: Any) -> Any:
            if kwargs.get("snapshot_type", "manual") == "manual":
                busy(backend, "cluster", db_cluster_identifier)
            return original_cluster(backend, db_cluster_identifier, *args, **kwargs)

        patches.set(RDSBackend, "create_db_snapshot", create_db_snapshot)
        patches.set(RDSBackend, "create_db_cluster_snapshot", create_db_cluster_snapshot)


class RdsEndpoint(Seam):
    """Every emulated RDS instance and cluster answers at `address` (the local PostgreSQL).

    moto invents `<id>.aaaaaaaaaa.<region>.rds.amazonaws.com`, which resolves nowhere; a secret that
    holds only username and password (RDS-managed master credentials) makes the pipeline connect to
    the endpoint DescribeDBInstances / DescribeDBClusters report, as on AWS, so the emulated endpoint
    must be the database the tests really run. Ports are the ones the world creates the database with.
    Patches `moto/rds/models.py` `DBInstance.address` and `DBCluster.endpoint` (properties).
    """

    def __init__(self, address: str) -> None:
        super().__init__()
        self.address = address

    def _apply(self, patches: _Patches) -> None:
        from moto.rds.models import DBCluster, DBInstance

        address = self.address
        patches.set(DBInstance, "address", property(lambda instance: address))
        patches.set(DBCluster, "endpoint", property(lambda cluster: address))


class EcrBlobDownloads(Seam):
    """GetDownloadUrlForLayer, which moto 5.2.5 does not implement, and the blobs behind its URLs.

    botocore's ECR model: GetDownloadUrlForLayer "Retrieves the pre-signed Amazon S3 download URL
    corresponding to an image layer. You can only get URLs for image layers that are referenced in an
    image."; LayersNotFoundException: "The specified layers could not be found, or the specified layer
    is not valid for this repository."; LayerInaccessibleException: "The specified layer is not available
    because it is not associated with an image." A config blob is such a layer: AWS's containerd resolver
    fetches Docker and OCI image configs through it (awslabs/amazon-ecr-containerd-resolver,
    ecr/fetcher.go). The URL has the shape the AWS CLI's example shows
    (`https://prod-<region>-starport-layer-bucket.s3.<region>.amazonaws.com/...?X-Amz-Expires=3600&...`).

    moto keeps only the size of what CompleteLayerUpload receives; this seam also keeps the bytes (the
    world pushes each image's config blob that way, as `docker push` does). The emulated account has no
    network, so the seam also serves its URLs: while installed, the pipeline's one non-boto3 read,
    `deploy_pipeline.aws.ecr.download_blob` (an HTTPS GET on AWS), is `self.download`, which answers a
    URL it handed out with the blob, and any other with HTTP 403 (S3's answer to a URL it did not sign).
    `refuse_downloads` makes every GET answer 403, as a bucket policy or a VPC without a route to S3
    would: the pipeline must then go on without the labels.
    Patches `moto/ecr/responses.py` `ECRResponse.get_download_url_for_layer`, `moto/ecr/models.py`
    `ECRBackend.complete_layer_upload`, and `deploy_pipeline.aws.ecr.download_blob`.
    """

    def __init__(self, *, refuse_downloads: bool = False) -> None:
        super().__init__()
        self.refuse_downloads = refuse_downloads
        self._blobs: dict[tuple[str, str, str, str], bytes] = {}  # (account, region, repository, digest)
        self._urls: dict[str, bytes] = {}
        self.downloads = 0
        self._lock = threading.Lock()

    def _apply(self, patches: _Patches) -> None:
        from deploy_pipeline.aws import ecr as pipeline_ecr
        from moto.core.exceptions import JsonRESTError
        from moto.core.responses import ActionResult
        from moto.ecr.models import ECRBackend
        from moto.ecr.responses import ECRResponse

        seam = self
        original_complete = ECRBackend.complete_layer_upload

        def complete_layer_upload(
            backend: ECRBackend, repository_name: str, upload_id: str, *args: Any, **kwargs: Any
        ) -> Any:
            repository = backend._get_repository(repository_name, kwargs.get("registry_id"))
            upload = repository.uploads.get(upload_id)
            data = bytes(upload.layer_parts) if upload is not None else b""
            result = original_complete(backend, repository_name, upload_id, *args, **kwargs)
            with seam._lock:
                seam._blobs[(backend.account_id, backend.region_name, repository_name, result["layerDigest"])] = data
            return result

        def get_download_url_for_layer(response: ECRResponse) -> ActionResult:
            repository_name = str(response._get_param("repositoryName"))
            digest = str(response._get_param("layerDigest"))
            backend = response.ecr_backend
            repository = backend._get_repository(repository_name, response._get_param("registryId"))
            referenced = any(digest in _blob_digests(image.image_manifest) for image in repository.images)
            blob = seam._blobs.get((backend.account_id, backend.region_name, repository_name, digest))
            if not referenced or blob is None:
                raise JsonRESTError(
                    "LayersNotFoundException",
                    "The specified layers could not be found, or the specified layer is not valid for this repository.",
                )
            url = _presigned_url(backend.region_name, backend.account_id)
            with seam._lock:
                seam._urls[url] = blob
            return ActionResult({"downloadUrl": url, "layerDigest": digest})

        patches.set(ECRBackend, "complete_layer_upload", complete_layer_upload)
        patches.set(ECRResponse, "get_download_url_for_layer", get_download_url_for_layer)
        patches.set(pipeline_ecr, "download_blob", self.download)

    def download(self, url: str) -> bytes:
        """What an HTTPS GET of `url` returns (an HTTPError 403 for a URL this seam did not hand out)."""
        from urllib.error import HTTPError

        with self._lock:
            self.downloads += 1
            blob = None if self.refuse_downloads else self._urls.get(url)
        if blob is None:
            raise HTTPError(url, 403, "Forbidden", Message(), None)
        return blob

    def _reset(self) -> None:
        self._blobs.clear()
        self._urls.clear()


def _blob_digests(manifest_text: str) -> set[str]:
    """The config and layer digests a manifest references (an index references manifests, not blobs)."""
    try:
        manifest = json.loads(manifest_text)
    except ValueError:
        return set()
    descriptors = [manifest.get("config") or {}, *(manifest.get("layers") or [])]
    return {str(d["digest"]) for d in descriptors if isinstance(d, dict) and "digest" in d}


def _presigned_url(region: str, account: str) -> str:
    """A URL shaped like the one GetDownloadUrlForLayer returns (a presigned GET of ECR's layer bucket)."""
    now = datetime.now(UTC)
    return (
        f"https://prod-{region}-starport-layer-bucket.s3.{region}.amazonaws.com/"
        f"{uuid.uuid4().hex[:4]}-{account}-{uuid.uuid4()}/{uuid.uuid4()}"
        f"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={now:%Y%m%dT%H%M%SZ}&X-Amz-SignedHeaders=host"
        f"&X-Amz-Expires=3600&X-Amz-Credential=EMULATED%2F{now:%Y%m%d}%2F{region}%2Fs3%2Faws4_request"
        f"&X-Amz-Signature={hashlib.sha256(uuid.uuid4().bytes).hexdigest()}"
    )
