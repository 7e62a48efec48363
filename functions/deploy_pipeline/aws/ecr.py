"""ECR look-ups: the repository's URI, an image's digest (we deploy by digest, never by tag), its labels."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deploy_pipeline.aws import clients
from deploy_pipeline.errors import ConfigurationError, ImageNotFound


@dataclass(frozen=True)
class FoundImage:
    digest: str
    tags: tuple[str, ...]


def repository_uri(repository: str) -> str:
    ecr = clients.ecr()
    try:
        repos = ecr.describe_repositories(repositoryNames=[repository])["repositories"]
    except ecr.exceptions.RepositoryNotFoundException:
        raise ConfigurationError(f"ECR repository {repository!r} does not exist in this account/region") from None
    return repos[0]["repositoryUri"]


def find_image(repository: str, *, tag: str | None = None, digest: str | None = None) -> FoundImage:
    """Describe one image by tag or digest; ImageNotFound names what was asked for."""
    ecr = clients.ecr()
    image_id: Any = {"imageDigest": digest} if digest else {"imageTag": tag or ""}
    wanted = f"digest {digest}" if digest else f"tag {tag!r}"
    try:
        details = ecr.describe_images(repositoryName=repository, imageIds=[image_id])["imageDetails"]
    except (ecr.exceptions.ImageNotFoundException, ecr.exceptions.RepositoryNotFoundException):
        raise ImageNotFound(f"no image with {wanted} in ECR repository {repository!r}") from None
    if not details:
        raise ImageNotFound(f"no image with {wanted} in ECR repository {repository!r}")
    return FoundImage(digest=details[0]["imageDigest"], tags=tuple(details[0].get("imageTags", [])))


# ---- the image's labels: manifest -> config blob -> config.Labels -------------------------

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
# What BatchGetImage may answer with. Its model lists only the two manifest types (and schema 1) as
# valid acceptedMediaTypes, but ECR stores and serves manifest lists and OCI indexes too (User Guide,
# "Pushing a multi-architecture image"), and AWS's own containerd resolver asks for all four
# (awslabs/amazon-ecr-containerd-resolver, ecr/base.go `supportedImageMediaTypes`). Schema 1 is not
# asked for: it has no config blob, hence no labels.
ACCEPTED_MEDIA_TYPES = [OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST]
MAX_CONFIG_BYTES = 4 * 1024 * 1024  # a registry's usual manifest cap; real image configs are a few KB
DOWNLOAD_TIMEOUT_SECONDS = 5.0


class LabelsUnreadable(Exception):
    """The image's labels could not be read; the message says why, in one line, without the URL."""


def image_labels(repository: str, digest: str) -> dict[str, str]:
    """`config.Labels` of the image `digest` (by digest: what was resolved is what is read).

    BatchGetImage gives the manifest ("When an image is pulled, the BatchGetImage API is called once
    to retrieve the image manifest", botocore's ECR model); the labels are in the image config blob
    the manifest's `config.digest` names. GetDownloadUrlForLayer "Retrieves the pre-signed Amazon S3
    download URL corresponding to an image layer. You can only get URLs for image layers that are
    referenced in an image." Its note says it "is not generally used by customers ... you should use
    the docker CLI"; it serves config blobs as well as layers: the config is a blob referenced by the
    image, and AWS's containerd resolver fetches Docker and OCI config media types with it
    (awslabs/amazon-ecr-containerd-resolver, ecr/fetcher.go: `MediaTypeDockerSchema2Config` and
    `ocispec.MediaTypeImageConfig` go to `fetchLayer`, GetDownloadUrlForLayer then an HTTP GET).

    An image index or manifest list (multi-platform build): its first manifest for a real platform,
    skipping buildx's attestation manifests (platform unknown/unknown): `docker buildx build --label`
    puts the same labels in every platform's config, so any platform answers; the first one keeps the
    choice stable. The blob's sha256 must be its digest. LabelsUnreadable: any failure (permissions,
    no route to ECR or S3, a manifest without a config).
    """
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        manifest = _manifest(repository, digest)
        if manifest.get("mediaType") in (OCI_INDEX, DOCKER_MANIFEST_LIST) or "manifests" in manifest:
            manifest = _manifest(repository, _platform_manifest(manifest))
        config = manifest.get("config")
        if not isinstance(config, dict) or not isinstance(config.get("digest"), str):
            raise LabelsUnreadable(f"the {manifest.get('mediaType', 'image')} manifest names no config blob")
        config_digest = config["digest"]
        url = clients.ecr().get_download_url_for_layer(repositoryName=repository, layerDigest=config_digest)[
            "downloadUrl"
        ]
        blob = download_blob(url)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise LabelsUnreadable(
            f"{exc.operation_name} failed ({error.get('Code', '?')}): {str(error.get('Message', ''))[:200]}"
        ) from None
    except BotoCoreError as exc:
        raise LabelsUnreadable(f"ECR could not be reached: {str(exc)[:200]}") from None
    except OSError as exc:  # urllib's HTTPError, URLError and timeouts are OSErrors
        raise LabelsUnreadable(f"the config blob could not be downloaded: {_without_url(exc)}") from None
    if "sha256:" + hashlib.sha256(blob).hexdigest() != config_digest:
        raise LabelsUnreadable(f"the downloaded config blob does not hash to {config_digest}")
    try:
        labels = (json.loads(blob).get("config") or {}).get("Labels") or {}
    except (ValueError, AttributeError):
        raise LabelsUnreadable("the config blob is not an image config (JSON object)") from None
    if not isinstance(labels, dict):
        raise LabelsUnreadable("config.Labels is not an object")
    return {str(key): value for key, value in labels.items() if isinstance(value, str)}


def _manifest(repository: str, digest: str) -> dict[str, Any]:
    response = clients.ecr().batch_get_image(
        repositoryName=repository, imageIds=[{"imageDigest": digest}], acceptedMediaTypes=ACCEPTED_MEDIA_TYPES
    )
    images = response.get("images") or []
    if not images:
        failure = (response.get("failures") or [{}])[0]
        raise LabelsUnreadable(
            f"BatchGetImage returned no manifest for {digest} ({failure.get('failureCode', 'no failure given')})"
        )
    try:
        manifest = json.loads(images[0]["imageManifest"])
    except (KeyError, ValueError):
        raise LabelsUnreadable(f"the manifest of {digest} is not JSON") from None
    if not isinstance(manifest, dict):
        raise LabelsUnreadable(f"the manifest of {digest} is not a JSON object")
    manifest.setdefault("mediaType", images[0].get("imageManifestMediaType"))
    return manifest


def _platform_manifest(index: dict[str, Any]) -> str:
    """The digest of the index's first manifest for a real platform (attestations are unknown/unknown)."""
    for entry in index.get("manifests") or []:
        platform = entry.get("platform") or {}
        if entry.get("mediaType") in (OCI_MANIFEST, DOCKER_MANIFEST) and platform.get("os") not in (None, "unknown"):
            return str(entry["digest"])
    raise LabelsUnreadable("the image index lists no manifest for a platform")


def _https_get(url: str) -> bytes:
    """GET a presigned S3 URL: HTTPS only, no redirect, `DOWNLOAD_TIMEOUT_SECONDS`, at most `MAX_CONFIG_BYTES`."""
    from urllib.parse import urlsplit
    from urllib.request import HTTPRedirectHandler, Request, build_opener

    class _NoRedirect(HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None  # the 3xx then surfaces as an HTTPError: a presigned URL answers by itself

    if urlsplit(url).scheme != "https":
        raise OSError("the download URL is not https")
    with build_opener(_NoRedirect).open(Request(url), timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:
        body: bytes = response.read(MAX_CONFIG_BYTES + 1)
    if len(body) > MAX_CONFIG_BYTES:
        raise OSError(f"the config blob is larger than {MAX_CONFIG_BYTES} bytes")
    return body


download_blob: Callable[[str], bytes] = _https_get
"""The one network read outside boto3. The local emulator has no network: while its
`documented_behaviour.EcrBlobDownloads` seam is installed this is the seam's server of the URLs its
GetDownloadUrlForLayer hands out (the bytes pushed with CompleteLayerUpload); on AWS it is `_https_get`."""


def _without_url(exc: OSError) -> str:
    """The error without the presigned URL (it carries a signature: it stays out of logs and records)."""
    from urllib.error import HTTPError, URLError

    if isinstance(exc, HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, URLError):
        return str(exc.reason)[:200]
    return str(exc)[:200]
