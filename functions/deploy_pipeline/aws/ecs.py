"""ECS calls: services, task-definition revisions with a new image, the migration task, rollouts."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from deploy_pipeline.aws import clients
from deploy_pipeline.errors import ConfigurationError, MigrationFailed, ServiceNotFound

DEPLOYMENT_TAG = "ecs-migrate-deploy:deployment-id"


@cache
def registrable_members() -> frozenset[str]:
    """The members of DescribeTaskDefinition's output that RegisterTaskDefinition accepts back.

    Read from the service model the ECS client already loaded (no extra file is parsed), so a
    member botocore adds (enableFaultInjection, trustedExecutionConfiguration, ...) is copied
    without a release of ours; a hand-written list silently dropped each new one.
    """
    model = clients.ecs().meta.service_model
    accepted = model.operation_model("RegisterTaskDefinition").input_shape.members  # type: ignore[union-attr]
    returned = model.shape_for("TaskDefinition").members  # type: ignore[attr-defined]
    return frozenset(accepted) & frozenset(returned)


def _is_reserved(tag: dict[str, str]) -> bool:
    """RegisterTaskDefinition `tags` doc: "Do not use aws:, AWS:, or any upper or lowercase
    combination of such as a prefix for either keys or values as it is reserved for Amazon Web
    Services use." CloudFormation puts such tags (aws:cloudformation:stack-name, ...) on what it creates."""
    return any(str(tag.get(part, "")).lower().startswith("aws:") for part in ("key", "value"))


@dataclass(frozen=True)
class ServiceInfo:
    name: str
    arn: str
    task_definition_arn: str
    launch_type: str | None
    capacity_provider_strategy: list[dict[str, Any]]
    platform_version: str | None
    network_configuration: dict[str, Any] | None
    deployments: list[dict[str, Any]] = field(default_factory=list)
    deployment_controller: str = "ECS"
    running_count: int = 0
    desired_count: int = 0

    def primary_deployment(self) -> dict[str, Any] | None:
        return next((d for d in self.deployments if d.get("status") == "PRIMARY"), None)


def describe_services(cluster: str, names: list[str]) -> list[ServiceInfo]:
    """Every named service, ACTIVE, in the order asked; ServiceNotFound names the missing ones."""
    found: dict[str, ServiceInfo] = {}
    missing: list[str] = []
    for start in range(0, len(names), 10):  # DescribeServices takes at most 10 names
        chunk = names[start : start + 10]
        try:
            response = clients.ecs().describe_services(cluster=cluster, services=chunk)
        except clients.ecs().exceptions.ClusterNotFoundException:
            raise ServiceNotFound(f"ECS cluster {cluster!r} does not exist") from None
        missing += [f["arn"].rsplit("/", 1)[-1] for f in response.get("failures", [])]
        for svc in response["services"]:
            if svc.get("status") != "ACTIVE":
                missing.append(svc["serviceName"])
                continue
            found[svc["serviceName"]] = ServiceInfo(
                name=svc["serviceName"],
                arn=svc["serviceArn"],
                # CreateService's model doc: "A task definition must be specified if the service uses either
                # the ECS or CODE_DEPLOY deployment controllers": an EXTERNAL one's live in its task sets.
                task_definition_arn=svc.get("taskDefinition", ""),
                launch_type=svc.get("launchType"),
                capacity_provider_strategy=[dict(c) for c in svc.get("capacityProviderStrategy", [])],
                platform_version=svc.get("platformVersion"),
                network_configuration=dict(svc["networkConfiguration"]) if svc.get("networkConfiguration") else None,
                deployments=list(svc.get("deployments", [])),  # type: ignore[arg-type]
                deployment_controller=svc.get("deploymentController", {}).get("type", "ECS"),
                running_count=svc.get("runningCount", 0),
                desired_count=svc.get("desiredCount", 0),
            )
    missing += [n for n in names if n not in found and n not in missing]
    if missing:
        raise ServiceNotFound(
            f"ECS service(s) {', '.join(sorted(set(missing)))} not found or not ACTIVE in cluster {cluster!r}"
        )
    return [found[n] for n in names]


def describe_task_definition(arn: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    response = clients.ecs().describe_task_definition(taskDefinition=arn, include=["TAGS"])
    return dict(response["taskDefinition"]), list(response.get("tags", []))  # type: ignore[arg-type]


def images_from_repository(task_definition: dict[str, Any], repository_uri: str) -> dict[str, str]:
    """Container name -> image, for the containers that run an image of our repository."""
    return {
        c["name"]: c["image"]
        for c in task_definition["containerDefinitions"]
        if c.get("image", "").split("@")[0].split(":")[0] == repository_uri
    }


def register_revision(source_arn: str, repository_uri: str, image_uri: str, deployment_id: str) -> str:
    """A new revision of the source's family with our repository's containers on `image_uri`.

    Idempotent: if the family's latest revision was registered by this deployment, it is reused,
    so a retried Lambda does not leave a trail of revisions.
    """
    source, source_tags = describe_task_definition(source_arn)
    latest, latest_tags = describe_task_definition(source["family"])
    if {"key": DEPLOYMENT_TAG, "value": deployment_id} in latest_tags:
        return str(latest["taskDefinitionArn"])
    if not images_from_repository(source, repository_uri):
        raise ConfigurationError(f"task definition {source_arn} has no container running an image of {repository_uri}")
    spec = {key: value for key, value in source.items() if key in registrable_members() and value is not None}
    spec["containerDefinitions"] = [
        {**c, "image": image_uri} if c.get("image", "").split("@")[0].split(":")[0] == repository_uri else c
        for c in source["containerDefinitions"]
    ]
    # The source's own tags (a previous deployment's id replaced by ours; AWS-reserved ones are AWS's to set).
    kept = [t for t in source_tags if t.get("key") != DEPLOYMENT_TAG and not _is_reserved(t)]
    spec["tags"] = [*kept, {"key": DEPLOYMENT_TAG, "value": deployment_id}]
    registered = clients.ecs().register_task_definition(**spec)
    return registered["taskDefinition"]["taskDefinitionArn"]


@dataclass(frozen=True)
class TaskStatus:
    task_arn: str
    last_status: str
    exit_code: int | None
    container_reason: str | None
    stopped_reason: str | None
    stop_code: str | None
    desired_status: str = "RUNNING"

    @property
    def stopped(self) -> bool:
        return self.last_status == "STOPPED"


def started_task_arns(cluster: str, started_by: str) -> list[str]:
    """Every task this deployment started: running ones first, then recently stopped ones (ListTasks:
    "Recently stopped tasks might appear in the returned results", so ask while the deployment runs)."""
    ecs = clients.ecs()
    arns: list[str] = []
    for desired in ("RUNNING", "STOPPED"):
        pages = ecs.get_paginator("list_tasks").paginate(cluster=cluster, startedBy=started_by, desiredStatus=desired)
        arns += [arn for page in pages for arn in page["taskArns"] if arn not in arns]
    return arns


def run_migration_task(
    service: ServiceInfo,
    cluster: str,
    task_definition_arn: str,
    container: str,
    command: list[str],
    started_by: str,
    client_token: str,
) -> str:
    """RunTask from the new revision with the command override, placed like the service's tasks.

    `client_token` makes a retried RunTask return the first call's task instead of starting a second
    migrator ("If you retry a request that completed successfully using the same client token and the
    same parameters, the retry succeeds without performing any further actions", ECS API Reference,
    "Ensuring idempotency"; up to 64 characters, per cluster, for 24 hours).
    """
    kwargs: dict[str, Any] = {
        "cluster": cluster,
        "clientToken": client_token,
        "taskDefinition": task_definition_arn,
        "count": 1,
        "startedBy": started_by,
        "overrides": {"containerOverrides": [{"name": container, "command": command}]},
        "tags": [{"key": DEPLOYMENT_TAG, "value": started_by}],
    }
    if service.capacity_provider_strategy:
        kwargs["capacityProviderStrategy"] = service.capacity_provider_strategy
    elif service.launch_type:
        kwargs["launchType"] = service.launch_type
    if service.network_configuration:
        kwargs["networkConfiguration"] = service.network_configuration
    if service.platform_version and service.platform_version != "LATEST":
        kwargs["platformVersion"] = service.platform_version
    response = clients.ecs().run_task(**kwargs)
    if response.get("failures") or not response.get("tasks"):
        reasons = "; ".join(f"{f.get('reason')} {f.get('detail', '')}".strip() for f in response.get("failures", []))
        raise MigrationFailed(f"ECS could not start the migration task: {reasons or 'no task returned'}")
    return response["tasks"][0]["taskArn"]


def task_status(cluster: str, task_arn: str, container: str) -> TaskStatus:
    found = task_statuses(cluster, [task_arn], container)
    if not found:
        raise MigrationFailed(f"the migration task {task_arn} has disappeared from cluster {cluster!r}")
    return found[0]


def task_statuses(cluster: str, task_arns: list[str], container: str) -> list[TaskStatus]:
    """DescribeTasks (100 ARNs per call, its documented maximum); tasks ECS no longer knows are left out."""
    statuses: list[TaskStatus] = []
    for start in range(0, len(task_arns), 100):
        for task in clients.ecs().describe_tasks(cluster=cluster, tasks=task_arns[start : start + 100])["tasks"]:
            match: dict[str, Any] = next(
                (dict(c) for c in task.get("containers", []) if c.get("name") == container), {}
            )
            statuses.append(
                TaskStatus(
                    task_arn=task["taskArn"],
                    last_status=task.get("lastStatus", "UNKNOWN"),
                    exit_code=match.get("exitCode"),
                    container_reason=match.get("reason"),
                    stopped_reason=task.get("stoppedReason") or None,
                    stop_code=task.get("stopCode"),
                    desired_status=task.get("desiredStatus", "RUNNING"),
                )
            )
    return statuses


def stop_task(cluster: str, task_arn: str, reason: str) -> None:
    clients.ecs().stop_task(cluster=cluster, task=task_arn, reason=reason[:255])


def update_service(cluster: str, service: str, task_definition_arn: str) -> str | None:
    """Point the service at a revision; returns the new PRIMARY deployment's id."""
    response = clients.ecs().update_service(cluster=cluster, service=service, taskDefinition=task_definition_arn)
    primary = next((d for d in response["service"].get("deployments", []) if d.get("status") == "PRIMARY"), None)
    return primary.get("id") if primary else None


def all_run_image(services: list[str], cluster: str, repository_uri: str, image_uri: str) -> bool:
    """Whether every service's task definition runs `image_uri` in all its containers of the repository."""
    for service in describe_services(cluster, services):
        definition, _ = describe_task_definition(service.task_definition_arn)
        ours = images_from_repository(definition, repository_uri)
        if not ours or any(uri != image_uri for uri in ours.values()):
            return False
    return True
