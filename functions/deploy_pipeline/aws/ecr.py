"""ECR look-ups: the repository's URI and an image's digest (we deploy by digest, never by tag)."""

from __future__ import annotations

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
