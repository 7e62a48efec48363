"""What ECS itself runs, per service: its task definition, the image, tasks running/desired, and the
deployments still rolling out.

The records say what the pipeline did; ECS says what runs now. They differ when a service was
updated by hand or by another tool, which `status` shows as drift; `watch` reports the same counts
while it waits for a rollout.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from deploy_pipeline.aws.ecs import images_from_repository

DESCRIBE_SERVICES_MAX = 10  # DescribeServices takes at most 10 services per call


@dataclass(frozen=True)
class EcsDeployment:
    """One entry of the service's `deployments`: PRIMARY (the newest) or ACTIVE (still draining or rolling)."""

    id: str
    status: str
    task_definition: str
    rollout_state: str | None
    running: int
    desired: int

    @classmethod
    def from_api(cls, deployment: dict[str, Any]) -> EcsDeployment:
        return cls(
            id=str(deployment.get("id", "")),
            status=str(deployment.get("status", "")),
            task_definition=str(deployment.get("taskDefinition", "")),
            rollout_state=deployment.get("rolloutState"),
            running=int(deployment.get("runningCount", 0)),
            desired=int(deployment.get("desiredCount", 0)),
        )

    def counts(self) -> str:
        """`2/4 running (IN_PROGRESS)`: as many as a person watching a rollout wants to know."""
        state = f" ({self.rollout_state})" if self.rollout_state else ""
        return f"{self.running}/{self.desired} running{state}"


@dataclass(frozen=True)
class EcsService:
    name: str
    status: str  # ACTIVE, DRAINING or INACTIVE (a deleted service), or MISSING (DescribeServices' failure)
    task_definition: str
    containers: dict[str, str]  # container name -> image, as the task definition gives them
    running: int
    desired: int
    deployments: list[EcsDeployment]

    @property
    def rolling_out(self) -> bool:
        """A deployment in progress: more than one deployment (the old one's tasks still draining, or
        a rollout under way, as `aws ecs wait services-stable` counts them) or, where ECS reports it,
        the primary's rolloutState IN_PROGRESS. Tasks merely restarting are in running/desired."""
        primary = next((d for d in self.deployments if d.status == "PRIMARY"), None)
        return len(self.deployments) > 1 or (primary is not None and primary.rollout_state == "IN_PROGRESS")

    def images_of(self, repository_uri: str) -> dict[str, str]:
        """Container -> image, for the containers that run an image of `repository_uri` (the rule the
        pipeline's rollout uses to choose the containers it updates)."""
        definition = {"containerDefinitions": [{"name": n, "image": i} for n, i in self.containers.items()]}
        return images_from_repository(definition, repository_uri)

    def image(self, repository: str) -> str | None:
        """The image a person wants to see: the first container's from `repository` (a name, e.g.
        acme/app: the registry differs per account and region), else the first container's."""
        for image in self.containers.values():
            path = repository_path(image)
            if path == repository or path.endswith(f"/{repository}"):
                return image
        return next(iter(self.containers.values()), None)

    def deployment_of(self, task_definition: str) -> EcsDeployment | None:
        return next((d for d in self.deployments if d.task_definition == task_definition), None)

    def as_json(self, repository: str) -> dict[str, Any]:
        image = self.image(repository)
        return {
            "status": self.status,
            "task_definition": self.task_definition or None,
            "image": image,
            "image_digest": image_digest(image),
            "containers": self.containers,
            "running": self.running,
            "desired": self.desired,
            "rolling_out": self.rolling_out,
            "deployments": [vars(d) for d in self.deployments],
        }


def repository_path(image: str) -> str:
    """`registry/acme/app:tag` or `...@sha256:...` -> `registry/acme/app` (a registry's port kept)."""
    name = image.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    return f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]


def image_digest(image: str | None) -> str | None:
    """The digest of an image named by digest; None for one named by tag (which can be moved)."""
    return image.split("@", 1)[1] if image and "@" in image else None


def short_image(image: str | None) -> str:
    """Without the registry (`123456789012.dkr.ecr.../acme/app@sha256:` + 12 digits -> `acme/app@sha256:…`)."""
    if not image:
        return "-"
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        image = rest
    name, at, digest = image.partition("@")
    return f"{name}@{digest[:19]}" if at else name


def revision(task_definition_arn: str) -> str:
    """`arn:aws:ecs:...:task-definition/web:3` -> `web:3`."""
    return task_definition_arn.rsplit("/", 1)[-1] if task_definition_arn else "-"


def describe(ecs: Any, cluster: str, names: list[str]) -> dict[str, EcsService]:
    """Service name -> what DescribeServices reports (no containers yet: `with_containers`); a
    service ECS does not know is there with status MISSING."""
    found: dict[str, EcsService] = {}
    for chunk in _chunks(names, DESCRIBE_SERVICES_MAX):
        for service in ecs.describe_services(cluster=cluster, services=chunk)["services"]:
            found[service["serviceName"]] = EcsService(
                name=service["serviceName"],
                status=str(service.get("status", "")),
                task_definition=str(service.get("taskDefinition", "")),
                containers={},
                running=int(service.get("runningCount", 0)),
                desired=int(service.get("desiredCount", 0)),
                deployments=[EcsDeployment.from_api(d) for d in service.get("deployments", [])],
            )
    return {name: found.get(name) or EcsService(name, "MISSING", "", {}, 0, 0, []) for name in names}


def with_containers(ecs: Any, services: dict[str, EcsService]) -> dict[str, EcsService]:
    """The same services with their task definition's containers (one DescribeTaskDefinition per revision)."""
    definitions = {
        s.task_definition: _containers(ecs, s.task_definition) for s in services.values() if s.task_definition
    }
    return {name: replace(s, containers=definitions.get(s.task_definition, {})) for name, s in services.items()}


def _containers(ecs: Any, task_definition_arn: str) -> dict[str, str]:
    definition = ecs.describe_task_definition(taskDefinition=task_definition_arn)["taskDefinition"]
    return {str(c["name"]): str(c.get("image", "")) for c in definition.get("containerDefinitions", [])}


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
