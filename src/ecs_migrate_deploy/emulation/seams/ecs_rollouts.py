"""ECS: service rollouts (UpdateService -> a `RolloutPolicy` decides how the deployment ends; see
`EcsRollouts`), and a world's starting point (`settle_services`, `set_system_tags`)."""

from __future__ import annotations

import functools
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol

from ecs_migrate_deploy.emulation.seams.base import Seam, _now, _Patches

if TYPE_CHECKING:
    from moto.ecs.models import EC2ContainerServiceBackend, Service

RolloutState = Literal["COMPLETED", "FAILED", "IN_PROGRESS"]


class RolloutPolicy(Protocol):
    """Asked on each DescribeServices while a deployment is IN_PROGRESS."""

    def __call__(self, service_name: str, task_definition_arn: str, /) -> RolloutState: ...


def complete_rollout(service_name: str, task_definition_arn: str) -> RolloutState:
    """The default RolloutPolicy: every deployment completes at the first look."""
    return "COMPLETED"


CIRCUIT_BREAKER_REASON = "ECS deployment circuit breaker: tasks failed to start."


def _has_classic_load_balancer(service: Service) -> bool:
    """A Classic Load Balancer is named by `loadBalancerName` (ALB/NLB ones by `targetGroupArn`)."""
    return any(lb.get("loadBalancerName") for lb in service.load_balancers)


def _rolls_back_itself(service: Service) -> bool:
    configuration = getattr(service, "deployment_configuration", None) or {}
    return bool((configuration.get("deploymentCircuitBreaker") or {}).get("rollback"))


class EcsRollouts(Seam):
    """Gives UpdateService real deployments, finished by a pluggable RolloutPolicy, and keeps what
    real services and task definitions carry that moto drops.

    Patches in `moto/ecs/models.py` (`EC2ContainerServiceBackend`):
    - `update_service`: moto only swaps `taskDefinition` and leaves `deployments` untouched; here a
      changed task definition (or forceNewDeployment) makes a new PRIMARY deployment IN_PROGRESS and
      the previous PRIMARY becomes ACTIVE; the task definition is normalised to its full ARN. A
      CODE_DEPLOY or EXTERNAL service refuses a new task definition, as UpdateService's model doc
      says: "For services using the blue/green (CODE_DEPLOY) deployment controller, only the desired
      count, deployment configuration, health check grace period, task placement constraints and
      strategies, enable ECS managed tags option, and propagate tags can be updated using this API"
      (the error's wording is ours);
    - `describe_services`: each managed IN_PROGRESS PRIMARY asks the policy; COMPLETED drops the other
      deployments and sets runningCount = desiredCount; FAILED keeps the new taskDefinition with
      rolloutState FAILED and the circuit breaker's reason. With `deploymentCircuitBreaker.rollback`
      on, ECS then rolls back by itself (see `_roll_back`). Behind a Classic Load Balancer no
      deployment carries `rolloutState` (Deployment.rolloutState, botocore's ecs model: "The
      rolloutState of a service is only returned for services that use the rolling update (ECS)
      deployment type that aren't behind a Classic Load Balancer"), and a failing deployment is
      never FAILED: its tasks keep failing (failedTasks grows) until someone acts.
    Patches in `moto/ecs/responses.py` (`EC2ContainerServiceResponse`):
    - `create_service`: moto drops `deploymentConfiguration`; it is kept (as UpdateService already
      keeps it, by attribute name), so DescribeServices shows the circuit breaker's settings;
    - `register_task_definition`: moto keeps a fixed list of members and drops the others (e.g.
      `enableFaultInjection`, `trustedExecutionConfiguration`); every member of the request that the
      model's TaskDefinition output also has is kept. Tag keys with the `aws:` prefix are refused,
      as the model's doc of RegisterTaskDefinition `tags` says: "Do not use aws:, AWS:, or any upper
      or lowercase combination of such as a prefix for either keys or values as it is reserved for
      Amazon Web Services use" (the error's wording is ours).
    `settle(service)` marks a service's current deployment COMPLETED (moto leaves the deployment of
    a newly created service IN_PROGRESS forever).
    """

    def __init__(self, policy: RolloutPolicy | None = None) -> None:
        super().__init__()
        self.policy: RolloutPolicy = policy or complete_rollout
        self._managed: dict[str, RolloutState] = {}  # deployment ids this seam created -> rollout state
        self._counter = 0
        self._lock = threading.RLock()

    def _apply(self, patches: _Patches) -> None:
        from moto.ecs.exceptions import InvalidParameterException
        from moto.ecs.models import EC2ContainerServiceBackend
        from moto.ecs.responses import EC2ContainerServiceResponse

        seam = self
        original_update = EC2ContainerServiceBackend.update_service
        original_describe = EC2ContainerServiceBackend.describe_services
        original_create_response = EC2ContainerServiceResponse.create_service
        original_register_response = EC2ContainerServiceResponse.register_task_definition

        def update_service(backend: EC2ContainerServiceBackend, service_properties: dict[str, Any]) -> Service:
            cluster = service_properties.get("cluster", "default")
            name = str(service_properties.get("service", "")).split("/")[-1]
            force = bool(service_properties.get("force_new_deployment"))
            wanted = service_properties.get("task_definition")
            with seam._lock:
                current = backend._get_service(cluster, name)
                controller = current.deployment_controller.get("type", "ECS")
                if wanted and controller != "ECS":
                    raise InvalidParameterException(
                        f"Unable to update task definition on services with a {controller} deployment controller."
                    )
                previous = current.task_definition
                service = original_update(backend, service_properties)
                if wanted:
                    service.task_definition = backend.describe_task_definition(wanted).arn
                if service.task_definition != previous or force:
                    seam._new_deployment(service)
                elif service_properties.get("desired_count") is not None:
                    deployments: list[dict[str, Any]] = service.deployments
                    for deployment in deployments:
                        if deployment.get("status") == "PRIMARY":
                            deployment.update(desiredCount=service.desired_count, updatedAt=_now())
                            if seam._managed.get(deployment["id"], "COMPLETED") == "COMPLETED":
                                deployment["runningCount"] = service.desired_count
                return service

        def describe_services(
            backend: EC2ContainerServiceBackend, cluster_str: str, service_names_or_arns: list[str]
        ) -> tuple[list[Service], list[dict[str, str]]]:
            services, failures = original_describe(backend, cluster_str, service_names_or_arns)
            for service in services:
                seam._progress(service)
            return services, failures

        def create_service(response: EC2ContainerServiceResponse) -> Any:
            result: Any = original_create_response(response)
            configuration = response._get_param("deploymentConfiguration")
            if configuration:
                result.result["service"].deployment_configuration = configuration
            return result

        def register_task_definition(response: EC2ContainerServiceResponse) -> Any:
            reserved = [t["key"] for t in response._get_param("tags") or [] if str(t["key"]).lower().startswith("aws:")]
            if reserved:
                raise InvalidParameterException(f"Tag keys with the aws: prefix are reserved for AWS use: {reserved}")
            result: Any = original_register_response(response)
            task_definition = result.result["taskDefinition"]
            for member in _task_definition_members():
                value = response._get_param(member)
                attribute = _xform_name(member)
                if value is not None and getattr(task_definition, attribute, None) is None:
                    setattr(task_definition, attribute, value)
            return result

        patches.set(EC2ContainerServiceBackend, "update_service", update_service)
        patches.set(EC2ContainerServiceBackend, "describe_services", describe_services)
        patches.set(EC2ContainerServiceResponse, "create_service", create_service)
        patches.set(EC2ContainerServiceResponse, "register_task_definition", register_task_definition)

    def _reset(self) -> None:
        self._managed.clear()

    def _deployment_id(self) -> str:
        self._counter += 1
        return f"ecs-svc/{int(time.time() * 1000) % 10**10:010d}{self._counter:09d}"

    def _new_deployment(self, service: Service) -> None:
        now = _now()
        for deployment in service.deployments:
            if deployment.get("status") == "PRIMARY":
                deployment["status"] = "ACTIVE"
                deployment["updatedAt"] = now
        template = service.deployments[0] if service.deployments else {}
        deployment_id = self._deployment_id()
        primary = {
            "id": deployment_id,
            "status": "PRIMARY",
            "taskDefinition": service.task_definition,
            "desiredCount": service.desired_count,
            "pendingCount": service.desired_count,
            "runningCount": 0,
            "failedTasks": 0,
            "createdAt": now,
            "updatedAt": now,
            "launchType": service.launch_type,
            "platformVersion": template.get("platformVersion"),
            "platformFamily": template.get("platformFamily"),
            "networkConfiguration": service.network_configuration or template.get("networkConfiguration"),
        }
        if not _has_classic_load_balancer(service):
            primary.update(rolloutState="IN_PROGRESS", rolloutStateReason="ECS deployment in progress.")
        service.deployments = [primary, *(d for d in service.deployments if d.get("status") == "ACTIVE")]
        self._managed[deployment_id] = "IN_PROGRESS"

    def _progress(self, service: Service) -> None:
        with self._lock:
            deployments: list[dict[str, Any]] = service.deployments
            primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
            if primary is None or self._managed.get(primary["id"]) != "IN_PROGRESS":
                return
            state = self.policy(service.name, primary["taskDefinition"])
            now = _now()
            classic = _has_classic_load_balancer(service)
            if state == "COMPLETED":
                self._managed[primary["id"]] = "COMPLETED"
                primary.update(runningCount=primary["desiredCount"], pendingCount=0, updatedAt=now)
                if not classic:
                    primary.update(
                        rolloutState="COMPLETED", rolloutStateReason=f"ECS deployment {primary['id']} completed."
                    )
                service.deployments = [primary]
                service.running_count = primary["desiredCount"]
                service.pending_count = 0
                _service_event(service, f"(service {service.name}) has reached a steady state.")
            elif state == "FAILED":
                primary.update(
                    runningCount=0,
                    pendingCount=0,
                    failedTasks=int(primary.get("failedTasks", 0)) + max(1, int(primary["desiredCount"])),
                    updatedAt=now,
                )
                if classic:
                    # No circuit breaker behind a Classic Load Balancer: ECS keeps launching tasks that fail.
                    return
                self._managed[primary["id"]] = "FAILED"
                primary.update(rolloutState="FAILED", rolloutStateReason=CIRCUIT_BREAKER_REASON)
                _service_event(
                    service,
                    f"(service {service.name}) (deployment {primary['id']}) deployment failed: tasks failed to start.",
                )
                if _rolls_back_itself(service):
                    self._roll_back(service, primary)

    def _roll_back(self, service: Service, failed: dict[str, Any]) -> None:
        """ECS's own rollback, as the Developer Guide's "Deployment circuit breaker" page describes it:
        "When the deployment circuit breaker determines that a deployment failed, it looks for the most
        recent deployment that is in a COMPLETED state. This is the deployment that it uses as the
        roll-back deployment. When the rollback starts, the deployment changes from a COMPLETED to
        IN_PROGRESS. [...] When the deployment circuit breaker does not find a deployment that is in a
        COMPLETED state, the circuit breaker does not launch new tasks and the deployment is stalled."

        So the last COMPLETED deployment (same id, same createdAt) becomes PRIMARY again, IN_PROGRESS
        until the policy completes it, and the service's taskDefinition follows it; the failed one stays
        ACTIVE with rolloutState FAILED while its tasks drain (Deployment.status in botocore's model
        has only PRIMARY, ACTIVE and INACTIVE). The rolloutStateReason and event wordings are ours.
        """
        deployments: list[dict[str, Any]] = service.deployments
        completed = next(
            (
                d
                for d in deployments
                if d.get("status") == "ACTIVE" and self._managed.get(d["id"], "COMPLETED") == "COMPLETED"
            ),
            None,
        )
        if completed is None:
            return  # stalled
        failed["status"] = "ACTIVE"
        completed.update(
            status="PRIMARY",
            rolloutState="IN_PROGRESS",
            rolloutStateReason="ECS deployment circuit breaker: rolling back to the last COMPLETED deployment.",
            updatedAt=_now(),
        )
        self._managed[completed["id"]] = "IN_PROGRESS"
        service.task_definition = completed["taskDefinition"]
        service.deployments = [completed, *(d for d in service.deployments if d is not completed)]
        _service_event(service, f"(service {service.name}) rolling back to deployment {completed['id']}.")

    def settle(self, service: Service) -> None:
        """Mark the service steady on its current task definition (a world's starting point)."""
        settle_service(service)


@functools.cache
def _task_definition_members() -> list[str]:
    """RegisterTaskDefinition's members that DescribeTaskDefinition returns too (botocore's model)."""
    from botocore.session import get_session

    ecs = get_session().get_service_model("ecs")
    request: Any = ecs.operation_model("RegisterTaskDefinition").input_shape
    described: Any = ecs.shape_for("TaskDefinition")
    return sorted(set(request.members) & set(described.members))


def _xform_name(member: str) -> str:
    from botocore import xform_name

    return str(xform_name(member))


def settle_service(service: Service) -> None:
    """Mark a moto service steady on its current task definition (moto leaves it IN_PROGRESS).

    Behind a Classic Load Balancer the deployment carries no rolloutState (see `EcsRollouts`)."""
    now = _now()
    classic = _has_classic_load_balancer(service)
    for deployment in service.deployments:
        if deployment.get("status") == "PRIMARY":
            deployment.update(runningCount=service.desired_count, pendingCount=0, updatedAt=now)
            if classic:
                deployment.pop("rolloutState", None)
                deployment.pop("rolloutStateReason", None)
            else:
                deployment.update(
                    rolloutState="COMPLETED", rolloutStateReason=f"ECS deployment {deployment['id']} completed."
                )
    service.deployments = [d for d in service.deployments if d.get("status") == "PRIMARY"]
    service.running_count = service.desired_count
    service.pending_count = 0


def settle_services(account: str, region: str, cluster: str, names: Sequence[str]) -> None:
    """`settle_service` for services by name (patches nothing; reads moto's ECS backend directly)."""
    from moto.ecs.models import ecs_backends

    backend = ecs_backends[account][region]
    for name in names:
        settle_service(backend._get_service(cluster, name))


def set_system_tags(account: str, region: str, arn: str, tags: Mapping[str, str]) -> None:
    """Put `aws:`-prefixed tags on a task definition as AWS itself does: CloudFormation "automatically
    creates the following stack-level tags with the aws: prefix: aws:cloudformation:logical-id,
    aws:cloudformation:stack-id, aws:cloudformation:stack-name" (CloudFormation resource tagging),
    which no one can set through the API (see `EcsRollouts`)."""
    from moto.ecs.models import ecs_backends

    task_definition = ecs_backends[account][region].describe_task_definition(arn)
    task_definition.tags = [*task_definition.tags, *({"key": k, "value": v} for k, v in tags.items())]


def _service_event(service: Service, message: str) -> None:
    # Real ECS lists the newest event first.
    service.events.insert(0, {"id": str(uuid.uuid4()), "createdAt": _now(), "message": message})
