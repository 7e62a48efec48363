"""The emulated AWS account a deployment runs in: everything the stack and its target expect to exist.

Built through the public AWS APIs (boto3 against moto), so the world is what real users have: an
ECR repository with pushed images, a FARGATE cluster whose services run an image *by tag*, an RDS
instance or Aurora cluster, its secret, the stack's table, topic and functions, and the state
machine from `statemachine/deploy.asl.json`. What the stack would receive from SAM (function ARNs in
DefinitionSubstitutions, the Lambda environment from `Globals`) is computed here in Python, because
moto's CloudFormation does not apply DefinitionSubstitutions.

Must be called inside an active `mock_aws` (see `engine.Emulator`). The only moto internals it
touches go through `seams.ecs_rollouts` (settling the services' initial deployments).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import uuid
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import boto3

from ecs_migrate_deploy import template as cfn
from ecs_migrate_deploy.emulation.seams.ecs_rollouts import set_system_tags, settle_services
from ecs_migrate_deploy.template_values import (
    WorldValues,
    compute_environment,
    function_names_in,
    global_variables,
    substitute_definition,
    template_functions,
    template_parameters,
)

MANIFEST_MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
OCI_MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"
ImageLayout = Literal["docker", "oci", "index"]


_SESSION: boto3.session.Session | None = None


def aws_client(service: str, region: str) -> Any:
    """A boto3 client from one shared Session: its loader caches service models across worlds.

    (A client per call from a fresh session re-parses botocore's JSON models, ~40 ms each.)
    moto's interception is registered on every botocore session, so sharing one is safe.
    """
    global _SESSION
    if _SESSION is None:
        _SESSION = boto3.session.Session()
    return _SESSION.client(service, region_name=region)  # type: ignore[call-overload]


def project_root() -> Path:
    """The repository root (statemachine/, template.yaml), for the rehearse CLI and the tests.

    `ECS_MIGRATE_DEPLOY_ROOT` wins; then the working directory if it holds the state machine;
    then the source tree this module lives in (an editable install).
    """
    explicit = os.environ.get("ECS_MIGRATE_DEPLOY_ROOT")
    if explicit:
        return Path(explicit)
    cwd = Path.cwd()
    if (cwd / "statemachine" / "deploy.asl.json").is_file():
        return cwd
    return Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class DbSecret:
    """What the DB secret holds; by default the local PostgreSQL the verifier really connects to.

    The password is never empty: RDS secrets always carry one (the pipeline checks), and a local
    server with `trust` authentication ignores it.
    """

    username: str = "postgres"
    password: str = "postgres"
    host: str = "127.0.0.1"
    port: int = 5432
    dbname: str = "postgres"
    engine: str = "postgres"

    def as_json(self, *, rds_managed: bool = False) -> str:
        """`rds_managed`: the shape RDS gives the secret it manages itself (ManageMasterUserPassword),
        username and password only (RDS User Guide, "Password management with Amazon RDS and AWS
        Secrets Manager"); the database's endpoint then says where to connect."""
        if rds_managed:
            return json.dumps({"username": self.username, "password": self.password})
        return json.dumps(
            {
                "username": self.username,
                "password": self.password,
                "host": self.host,
                "port": self.port,
                "dbname": self.dbname,
                "engine": self.engine,
            }
        )


@dataclass(frozen=True)
class WorldSpec:
    """What to build. Defaults give a two-service app on tag v1.0.0 with v1.1.0 pushed and waiting.

    `template_path` None means: no SAM template; then `functions` (logical id -> handler) must name
    the functions the ASL's `${<Name>FunctionArn}` placeholders need (missing ones get no handler:
    route them by name in the LambdaRouter). `functions` also overrides template handlers.
    `parameters` override template Parameters by name; `asl` is a path, JSON text or a dict.
    `db_sslmode` defaults to "disable" (outside the template's AllowedValues on purpose: the local
    PostgreSQL has no TLS).
    """

    region: str = "us-east-1"
    account: str = "123456789012"
    stack_name: str = "ecs-migrate-deploy-local"
    repository: str = "acme/app"
    image_tags: Sequence[str] = ("v1.0.0", "v1.1.0")
    initial_tag: str = "v1.0.0"
    cluster: str = "acme-prod"
    services: Sequence[str] = ("web", "worker")
    container_name: str = "app"
    container_memory: int = 512
    container_environment: Mapping[str, str] = field(default_factory=dict)
    container_secrets: Mapping[str, str] = field(default_factory=dict)
    task_cpu: str = "256"
    task_memory: str = "512"
    desired_count: int = 2
    db_kind: Literal["instance", "cluster"] | None = "instance"  # None: a service without a database (a frontend)
    db_identifier: str = "acme-db"
    db_secret: DbSecret = field(default_factory=DbSecret)
    db_sslmode: str = "disable"
    secret_name: str = "acme/app/db"
    table_name: str = "ecs-migrate-deploy-deployments"
    topic_name: str = "ecs-migrate-deploy-outcomes"
    event_source: str = "ecs-migrate-deploy"
    migration_command: str | None = None
    state_machine_name: str = "ecs-migrate-deploy"
    asl: Path | str | Mapping[str, Any] | None = None
    template_path: Path | None = field(default_factory=lambda: _default_template())
    functions: Mapping[str, str] = field(default_factory=dict)
    parameters: Mapping[str, str] = field(default_factory=dict)
    lambda_runtime: str = "python3.12"
    # What real services have and the defaults do not; seams.ecs_rollouts.EcsRollouts keeps them:
    circuit_breaker_rollback: bool = False  # ECS rolls a FAILED deployment back by itself
    classic_load_balancer: bool = False  # deployments carry no rolloutState
    deployment_controller: Literal["ECS", "CODE_DEPLOY", "EXTERNAL"] = "ECS"
    task_definition_fields: Mapping[str, Any] = field(default_factory=dict)  # e.g. enableFaultInjection
    task_definition_tags: Mapping[str, str] = field(default_factory=dict)  # `aws:` keys set as AWS sets them
    rds_managed_secret: bool = False  # the secret holds username/password only, as RDS-managed ones do
    # db_kind="cluster": the class of the cluster's writer instance; "db.serverless" gives the cluster
    # the capacity range a Serverless v2 writer needs (aurora_capacity: MinCapacity, MaxCapacity in ACUs).
    aurora_writer_class: str = "db.r6g.large"
    aurora_capacity: tuple[float, float] = (0.5, 4.0)
    backup_retention_days: int = 1  # automated backups (0: off, no point-in-time restore)
    # tag -> the labels its image config carries (`docker build --label`), e.g. from
    # `ecs_migrate_deploy.image_labels.labels_for(folder)`; a tag not listed has none.
    image_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # tag -> the digest a captured push event names. The stand-in image is stored under that digest
    # (ECR computes a digest from the manifest's bytes, and an image is found by it; the image a team
    # pushed is not here, so the emulated one takes its place under its name: moto's PutImage keeps
    # the imageDigest it is given). Everything read through the image (its config, labels) is ours.
    captured_digests: Mapping[str, str] = field(default_factory=dict)

    @property
    def registry(self) -> str:
        return f"{self.account}.dkr.ecr.{self.region}.amazonaws.com"

    @property
    def repository_uri(self) -> str:
        return f"{self.registry}/{self.repository}"


def _default_template() -> Path | None:
    path = project_root() / "template.yaml"
    return path if path.is_file() else None


@dataclass
class World:
    """Names and ARNs of everything built, plus readers for what the pipeline sends out."""

    spec: WorldSpec
    vpc_id: str
    subnet_ids: list[str]
    security_group_id: str
    repository_name: str
    repository_uri: str
    digests: dict[str, str]
    cluster_name: str
    cluster_arn: str
    service_arns: dict[str, str]
    task_definition_arns: dict[str, str]
    task_role_arn: str
    execution_role_arn: str
    db_kind: Literal["instance", "cluster"] | None
    db_identifier: str
    db_arn: str
    secret_arn: str
    table_name: str
    topic_arn: str
    notifications_queue_url: str
    events_queue_url: str
    event_rule_arn: str
    lambda_role_arn: str
    function_arns: dict[str, str]
    function_handlers: dict[str, str | None]
    state_machine_arn: str
    state_machine_role_arn: str
    definition: dict[str, Any] = field(repr=False)
    template: dict[str, Any] | None = field(default=None, repr=False)
    _env: dict[str, str] = field(default_factory=dict, repr=False)
    # Every body read from the capture queues, by queue URL: a test consumes what it reads, and a scan
    # of everything the stack sent (the secret scan) must still see it.
    _delivered: dict[str, list[str]] = field(default_factory=dict, repr=False)

    @property
    def region(self) -> str:
        return self.spec.region

    @property
    def account(self) -> str:
        return self.spec.account

    @property
    def network_configuration(self) -> dict[str, Any]:
        return _network_configuration(self.subnet_ids, self.security_group_id)

    def client(self, service: str) -> Any:
        return aws_client(service, self.region)

    def env(self, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
        """The Lambda environment (template Globals), parameters overridden by `overrides`.

        With no overrides this is the environment the functions were created with.
        """
        if not overrides:
            return dict(self._env)
        return compute_environment(self.spec, self.template, self._world_values(), overrides)

    def _world_values(self) -> WorldValues:
        return WorldValues(
            env={
                "CLUSTER_NAME": self.cluster_name,
                "SERVICE_NAMES": ",".join(self.spec.services),
                "REPOSITORY_NAME": self.repository_name,
                "MIGRATION_CONTAINER": self.spec.container_name,
                "DB_INSTANCE_IDENTIFIER": self.db_identifier if self.db_kind == "instance" else "",
                "DB_CLUSTER_IDENTIFIER": self.db_identifier if self.db_kind == "cluster" else "",
                "DB_SECRET_ARN": self.secret_arn,
                "DB_SSLMODE": self.spec.db_sslmode,
                # The verification functions' network: where the emulated database is (none without one).
                "VERIFY_SUBNET_IDS": ",".join(self.subnet_ids) if self.db_kind else "",
                "VERIFY_SECURITY_GROUP_IDS": self.security_group_id if self.db_kind else "",
                "TABLE_NAME": self.table_name,
                "TOPIC_ARN": self.topic_arn,
                "EVENT_BUS_NAME": "default",
                "EVENT_SOURCE": self.spec.event_source,
                **({"MIGRATION_COMMAND": self.spec.migration_command} if self.spec.migration_command else {}),
                **({} if self.db_kind else {"MIGRATION_COMMAND": ""}),
            },
            refs={"table": self.table_name, "topic": self.topic_arn, "state_machine": self.state_machine_arn},
            attrs={
                "table.Arn": f"arn:aws:dynamodb:{self.region}:{self.account}:table/{self.table_name}",
                "topic.TopicName": self.spec.topic_name,
            },
            functions=self.function_arns,
        )

    # ---- images -----------------------------------------------------------------------------------

    def image_uri(self, tag: str) -> str:
        return f"{self.repository_uri}:{tag}"

    def push_image(
        self,
        tag: str,
        *,
        seed: str | None = None,
        labels: Mapping[str, str] | None = None,
        layout: ImageLayout = "docker",
    ) -> str:
        """Push another image (or move a tag), its config carrying `labels`; returns its digest."""
        digest = put_image(self.client("ecr"), self.repository_name, tag, seed or tag, labels, layout=layout)
        self.digests[tag] = digest
        return digest

    def ecr_push_event(self, tag: str, *, digest: str | None = None) -> dict[str, Any]:
        """The `ECR Image Action` event EventBridge would deliver for a push of `tag`."""
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "ECR Image Action",
            "source": "aws.ecr",
            "account": self.account,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": [],
            "detail": {
                "result": "SUCCESS",
                "repository-name": self.repository_name,
                "image-digest": digest or self.digests[tag],
                "action-type": "PUSH",
                "image-tag": tag,
            },
        }

    def trigger_pattern(self) -> dict[str, Any]:
        """The stack's trigger rule pattern (template.yaml) with this world's parameter values."""
        if not self.template:
            raise RuntimeError("this world was built without a SAM template: it has no trigger rule")
        params = template_parameters(self.spec, self.template, self._world_values())
        pattern = cfn.resolve(cfn.trigger_pattern(self.template), params, self.template.get("Conditions"))
        return dict(pattern)

    def function_event_patterns(self, logical_id: str) -> list[dict[str, Any]]:
        """The EventBridge patterns of a function's `EventBridgeRule` events, with this world's values."""
        if not self.template:
            return []
        params = template_parameters(self.spec, self.template, self._world_values())
        function = (self.template.get("Resources") or {}).get(logical_id) or {}
        events = ((function.get("Properties") or {}).get("Events")) or {}
        conditions = self.template.get("Conditions") or {}
        return [
            dict(cfn.resolve(event["Properties"]["Pattern"], params, conditions))
            for event in events.values()
            if event.get("Type") == "EventBridgeRule"
        ]

    def conditions(self) -> dict[str, bool]:
        """The template's Conditions as this world's parameters decide them (e.g. HasDatabase)."""
        if not self.template:
            return {}
        params = template_parameters(self.spec, self.template, self._world_values())
        declared = self.template.get("Conditions") or {}
        return {name: bool(cfn.resolve({"Condition": name}, params, declared)) for name in declared}

    # ---- what the pipeline sent out ---------------------------------------------------------------

    def notifications(self) -> list[dict[str, Any]]:
        """SNS notifications received since the last call (the SNS envelopes, `Message` as sent)."""
        return [json.loads(body) for body in self._consume(self.notifications_queue_url)]

    def outcome_events(self) -> list[dict[str, Any]]:
        """EventBridge events with our source received since the last call (full envelopes)."""
        return [json.loads(body) for body in self._consume(self.events_queue_url)]

    def everything_sent(self) -> list[dict[str, Any]]:
        """Every notification and outcome event the stack sent, read by a test or not."""
        for url in (self.notifications_queue_url, self.events_queue_url):
            self._consume(url)
        return [json.loads(body) for bodies in self._delivered.values() for body in bodies]

    def _consume(self, queue_url: str) -> list[str]:
        bodies = _drain(self.client("sqs"), queue_url)
        self._delivered.setdefault(queue_url, []).extend(bodies)
        return bodies

    def service(self, name: str) -> dict[str, Any]:
        """The service as DescribeServices shows it now (note: a read advances emulated rollouts)."""
        services = self.client("ecs").describe_services(cluster=self.cluster_name, services=[name])["services"]
        return dict(services[0])


def _drain(sqs: Any, queue_url: str) -> list[str]:
    bodies: list[str] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not messages:
            return bodies
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def _network_configuration(subnets: list[str], security_group: str) -> dict[str, Any]:
    return {
        "awsvpcConfiguration": {
            "subnets": list(subnets),
            "securityGroups": [security_group],
            "assignPublicIp": "DISABLED",
        }
    }


# --------------------------------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------------------------------


def image_config(seed: str, labels: Mapping[str, str] | None = None, architecture: str = "amd64") -> bytes:
    """An image config as `docker build` writes it (the fields tools read), distinct per seed, with
    `config.Labels` when there are labels."""
    config: dict[str, Any] = {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin"], "Cmd": ["node", "server.js"]}
    if labels:
        config["Labels"] = dict(labels)
    document = {
        "architecture": architecture,
        "os": "linux",
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(f"diff:{seed}".encode()).hexdigest()]},
        "history": [{"created_by": f"emulated image {seed}"}],
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode("utf-8")


def image_manifest(seed: str, config: bytes, *, oci: bool = False) -> str:
    """A Docker v2 schema 2 (or OCI) image manifest naming `config` by its real digest, distinct per
    seed, formatted as `docker push` sends it. The layers are named only (never uploaded)."""

    def blob(kind: str) -> str:
        return "sha256:" + hashlib.sha256(f"{kind}:{seed}".encode()).hexdigest()

    layer_type = (
        "application/vnd.oci.image.layer.v1.tar+gzip" if oci else "application/vnd.docker.image.rootfs.diff.tar.gzip"
    )
    size = 2_000_000 + int(hashlib.sha256(seed.encode()).hexdigest()[:5], 16)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST_MEDIA_TYPE if oci else MANIFEST_MEDIA_TYPE,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json"
            if oci
            else "application/vnd.docker.container.image.v1+json",
            "size": len(config),
            "digest": "sha256:" + hashlib.sha256(config).hexdigest(),
        },
        "layers": [
            {"mediaType": layer_type, "size": 3_623_807, "digest": blob("base")},
            {"mediaType": layer_type, "size": size, "digest": blob("app")},
        ],
    }
    return json.dumps(manifest, indent=3)


def upload_blob(ecr: Any, repository: str, data: bytes) -> str:
    """InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload: how `docker push` sends a blob; its digest."""
    upload_id = ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]
    ecr.upload_layer_part(
        repositoryName=repository, uploadId=upload_id, partFirstByte=0, partLastByte=len(data) - 1, layerPartBlob=data
    )
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    return str(
        ecr.complete_layer_upload(repositoryName=repository, uploadId=upload_id, layerDigests=[digest])["layerDigest"]
    )


def _put_manifest(
    ecr: Any, repository: str, manifest: str, media_type: str, tag: str | None, stored_as: str | None = None
) -> str:
    """PutImage with the digest ECR computes: sha256 of the manifest bytes as pushed (or `stored_as`,
    a captured event's digest: see WorldSpec.captured_digests)."""
    digest = stored_as or "sha256:" + hashlib.sha256(manifest.encode("utf-8")).hexdigest()
    response = ecr.put_image(
        repositoryName=repository,
        imageManifest=manifest,
        imageManifestMediaType=media_type,
        imageDigest=digest,
        **({"imageTag": tag} if tag else {}),
    )
    return str(response["image"]["imageId"]["imageDigest"])


def put_image(
    ecr: Any,
    repository: str,
    tag: str,
    seed: str,
    labels: Mapping[str, str] | None = None,
    *,
    layout: ImageLayout = "docker",
    stored_as: str | None = None,
) -> str:
    """Push an image as `docker push` does: its config blob, then its manifest; returns the digest.

    `layout` "index" pushes what `docker buildx build --platform linux/amd64,linux/arm64` does: an OCI
    image index over an attestation manifest (platform unknown/unknown, config without labels) and one
    OCI manifest per platform (untagged, each config with `labels`), tagged `tag`.
    """
    if layout != "index":
        config = image_config(seed, labels)
        upload_blob(ecr, repository, config)
        media_type = OCI_MANIFEST_MEDIA_TYPE if layout == "oci" else MANIFEST_MEDIA_TYPE
        manifest = image_manifest(seed, config, oci=layout == "oci")
        return _put_manifest(ecr, repository, manifest, media_type, tag, stored_as)
    entries: list[dict[str, Any]] = []
    for architecture, platform_labels in (("unknown", None), ("amd64", labels), ("arm64", labels)):
        config = image_config(f"{seed}/{architecture}", platform_labels, architecture)
        upload_blob(ecr, repository, config)
        manifest = image_manifest(f"{seed}/{architecture}", config, oci=True)
        digest = _put_manifest(ecr, repository, manifest, OCI_MANIFEST_MEDIA_TYPE, None)
        os_name = "unknown" if architecture == "unknown" else "linux"
        entry: dict[str, Any] = {
            "mediaType": OCI_MANIFEST_MEDIA_TYPE,
            "digest": digest,
            "size": len(manifest.encode("utf-8")),
            "platform": {"architecture": architecture, "os": os_name},
        }
        if architecture == "unknown":
            entry["annotations"] = {"vnd.docker.reference.type": "attestation-manifest"}
        entries.append(entry)
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX_MEDIA_TYPE, "manifests": entries}, indent=3)
    return _put_manifest(ecr, repository, index, OCI_INDEX_MEDIA_TYPE, tag, stored_as)


# --------------------------------------------------------------------------------------------------
# The state machine's definition
# --------------------------------------------------------------------------------------------------


def _load_asl(spec: WorldSpec) -> str:
    asl = spec.asl if spec.asl is not None else project_root() / "statemachine" / "deploy.asl.json"
    if isinstance(asl, Path):
        return asl.read_text(encoding="utf-8")
    if isinstance(asl, str):
        return asl
    return json.dumps(asl)


# --------------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------------


def _role(iam: Any, name: str, service: str, path: str = "/") -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }
    return str(iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])


def _dummy_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "emulated: the handler runs in-process (ecs_migrate_deploy.emulation)\n")
    return buffer.getvalue()


def build_world(spec: WorldSpec | None = None) -> World:
    """Create every resource of `spec` through boto3 (inside an active mock_aws), step by step: the
    network, the images, the roles, the database and its secret, the services, the stack's own
    resources (table, topic, outcome captures), its functions, and last the state machine."""
    spec = spec or WorldSpec()
    if spec.initial_tag not in spec.image_tags:
        raise ValueError(f"initial_tag {spec.initial_tag!r} is not among image_tags {list(spec.image_tags)}")

    def client(service: str) -> Any:
        return aws_client(service, spec.region)

    template = cfn.load_template(spec.template_path) if spec.template_path else None
    vpc_id, subnet_ids, security_group_id = _network(client("ec2"), spec)
    repository_uri, digests = _images(client("ecr"), spec)
    roles = _roles(client("iam"), spec)
    db_arn, secret_arn = _database(client("rds"), client("secretsmanager"), spec)
    network = _network_configuration(subnet_ids, security_group_id)
    cluster_arn, task_definition_arns, service_arns = _services(
        client("ecs"), client("logs"), spec, repository_uri, roles, network
    )
    stack = _stack_resources(client, spec)
    definition_text = _load_asl(spec)
    declared = template_functions(template)
    handlers, function_arns = _functions(client("lambda"), spec, template, declared, definition_text, roles)

    world = World(
        spec=spec,
        vpc_id=vpc_id,
        subnet_ids=subnet_ids,
        security_group_id=security_group_id,
        repository_name=spec.repository,
        repository_uri=repository_uri,
        digests=digests,
        cluster_name=spec.cluster,
        cluster_arn=cluster_arn,
        service_arns=service_arns,
        task_definition_arns=task_definition_arns,
        task_role_arn=roles["task"],
        execution_role_arn=roles["execution"],
        db_kind=spec.db_kind,
        db_identifier=spec.db_identifier if spec.db_kind else "",
        db_arn=db_arn,
        secret_arn=secret_arn,
        table_name=spec.table_name,
        topic_arn=stack["topic_arn"],
        notifications_queue_url=stack["notifications_queue_url"],
        events_queue_url=stack["events_queue_url"],
        event_rule_arn=stack["event_rule_arn"],
        lambda_role_arn=roles["functions"],
        function_arns=function_arns,
        function_handlers=handlers,
        state_machine_arn=f"arn:aws:states:{spec.region}:{spec.account}:stateMachine:{spec.state_machine_name}",
        state_machine_role_arn=roles["states"],
        definition={},
        template=template,
    )
    values = world._world_values()
    world._env = compute_environment(spec, template, values)
    for logical_id in function_arns:
        function_env = dict(world._env)
        function_env.update(_function_environment(declared.get(logical_id, {}), template, spec, values))
        client("lambda").update_function_configuration(FunctionName=logical_id, Environment={"Variables": function_env})

    world.definition = substitute_definition(definition_text, template, values, spec)
    world.state_machine_arn = client("stepfunctions").create_state_machine(
        name=spec.state_machine_name, definition=json.dumps(world.definition), roleArn=roles["states"]
    )["stateMachineArn"]
    return world


def _network(ec2: Any, spec: WorldSpec) -> tuple[str, list[str], str]:
    """(VPC, two subnets, the tasks' security group). The VPC needs DNS hostnames or moto's RunTask
    crashes on the ENI's DNS name."""
    vpc_id = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    subnet_ids = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.42.{i}.0/24", AvailabilityZone=f"{spec.region}{az}")["Subnet"][
            "SubnetId"
        ]
        for i, az in ((1, "a"), (2, "b"))
    ]
    security_group_id = ec2.create_security_group(
        GroupName=f"{spec.cluster}-tasks", Description="emulated service tasks", VpcId=vpc_id
    )["GroupId"]
    return vpc_id, subnet_ids, security_group_id


def _images(ecr: Any, spec: WorldSpec) -> tuple[str, dict[str, str]]:
    """(repository URI, tag -> digest): the repository and its pushed images."""
    repository_uri = ecr.create_repository(repositoryName=spec.repository)["repository"]["repositoryUri"]
    digests = {
        tag: put_image(
            ecr, spec.repository, tag, tag, spec.image_labels.get(tag), stored_as=spec.captured_digests.get(tag)
        )
        for tag in spec.image_tags
    }
    return str(repository_uri), digests


def _roles(iam: Any, spec: WorldSpec) -> dict[str, str]:
    """The tasks' roles and the stack's (functions, state machine), by what they are for."""
    return {
        "task": _role(iam, f"{spec.cluster}-task", "ecs-tasks.amazonaws.com"),
        "execution": _role(iam, f"{spec.cluster}-task-execution", "ecs-tasks.amazonaws.com"),
        "functions": _role(iam, f"{spec.stack_name}-functions", "lambda.amazonaws.com"),
        "states": _role(iam, f"{spec.stack_name}-states", "states.amazonaws.com"),
    }


def _database(rds: Any, secretsmanager: Any, spec: WorldSpec) -> tuple[str, str]:
    """(database ARN, secret ARN): the instance, or the Aurora cluster with its writer, and its secret;
    ("", "") for a service without a database."""
    if spec.db_kind is None:
        return "", ""
    if spec.db_kind == "instance":
        db_arn = rds.create_db_instance(
            DBInstanceIdentifier=spec.db_identifier,
            Engine="postgres",
            EngineVersion="16.4",
            DBInstanceClass="db.t4g.micro",
            AllocatedStorage=20,
            MasterUsername=spec.db_secret.username,
            MasterUserPassword="emulated-password",
            DBName=spec.db_secret.dbname,
            Port=spec.db_secret.port,
            BackupRetentionPeriod=spec.backup_retention_days,
        )["DBInstance"]["DBInstanceArn"]
    else:
        serverless = spec.aurora_writer_class == "db.serverless"
        capacity = {"MinCapacity": spec.aurora_capacity[0], "MaxCapacity": spec.aurora_capacity[1]}
        db_arn = rds.create_db_cluster(
            DBClusterIdentifier=spec.db_identifier,
            Engine="aurora-postgresql",
            EngineVersion="16.4",
            MasterUsername=spec.db_secret.username,
            MasterUserPassword="emulated-password",
            DatabaseName=spec.db_secret.dbname,
            BackupRetentionPeriod=spec.backup_retention_days,
            **({"ServerlessV2ScalingConfiguration": capacity} if serverless else {}),
        )["DBCluster"]["DBClusterArn"]
        # RestoreDBClusterFromSnapshot/CreateDBCluster make no instance (botocore's RDS model: "You must
        # invoke the CreateDBInstance operation to create DB instances"); a real cluster has its writer.
        rds.create_db_instance(
            DBInstanceIdentifier=spec.db_identifier[:56].rstrip("-") + "-writer",
            DBClusterIdentifier=spec.db_identifier,
            DBInstanceClass=spec.aurora_writer_class,
            Engine="aurora-postgresql",
        )
    secret_arn = secretsmanager.create_secret(
        Name=spec.secret_name, SecretString=spec.db_secret.as_json(rds_managed=spec.rds_managed_secret)
    )["ARN"]
    return str(db_arn), str(secret_arn)


def _services(
    ecs: Any, logs: Any, spec: WorldSpec, repository_uri: str, roles: Mapping[str, str], network: dict[str, Any]
) -> tuple[str, dict[str, str], dict[str, str]]:
    """(cluster ARN, service -> task definition ARN, service -> service ARN): the cluster, a task
    definition per service (image by tag, as users commonly have), services at steady state."""
    cluster_arn = ecs.create_cluster(clusterName=spec.cluster)["cluster"]["clusterArn"]
    task_definition_arns: dict[str, str] = {}
    service_arns: dict[str, str] = {}
    system_tags = {k: v for k, v in spec.task_definition_tags.items() if k.lower().startswith("aws:")}
    user_tags = {k: v for k, v in spec.task_definition_tags.items() if k not in system_tags}
    for service in spec.services:
        log_group = f"/ecs/{service}"
        logs.create_log_group(logGroupName=log_group)
        container: dict[str, Any] = {
            "name": spec.container_name,
            "image": f"{repository_uri}:{spec.initial_tag}",
            "memory": spec.container_memory,
            "essential": True,
            "environment": [{"name": k, "value": v} for k, v in spec.container_environment.items()],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {"awslogs-group": log_group, "awslogs-region": spec.region, "awslogs-stream-prefix": "ecs"},
            },
        }
        if spec.container_secrets:
            container["secrets"] = [{"name": k, "valueFrom": v} for k, v in spec.container_secrets.items()]
        task_definition_arns[service] = ecs.register_task_definition(
            family=service,
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu=spec.task_cpu,
            memory=spec.task_memory,
            taskRoleArn=roles["task"],
            executionRoleArn=roles["execution"],
            containerDefinitions=[container],
            **({"tags": [{"key": k, "value": v} for k, v in user_tags.items()]} if user_tags else {}),
            **spec.task_definition_fields,
        )["taskDefinition"]["taskDefinitionArn"]
        if system_tags:
            set_system_tags(spec.account, spec.region, task_definition_arns[service], system_tags)
        service_arns[service] = ecs.create_service(**_service_request(spec, service, task_definition_arns, network))[
            "service"
        ]["serviceArn"]
    settle_services(spec.account, spec.region, spec.cluster, list(spec.services))
    return str(cluster_arn), task_definition_arns, service_arns


def _service_request(
    spec: WorldSpec, service: str, task_definition_arns: Mapping[str, str], network: dict[str, Any]
) -> dict[str, Any]:
    """CreateService's arguments for one service of `spec`."""
    return {
        "cluster": spec.cluster,
        "serviceName": service,
        # CreateService's model doc: "A task definition must be specified if the service uses either the
        # ECS or CODE_DEPLOY deployment controllers" (an EXTERNAL service's belong to its task sets).
        **({} if spec.deployment_controller == "EXTERNAL" else {"taskDefinition": task_definition_arns[service]}),
        "desiredCount": spec.desired_count,
        "launchType": "FARGATE",
        "networkConfiguration": network,
        "deploymentController": {"type": spec.deployment_controller},
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": {"enable": True, "rollback": spec.circuit_breaker_rollback},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
        },
        **(
            {
                "loadBalancers": [
                    {"loadBalancerName": f"{service}-clb", "containerName": spec.container_name, "containerPort": 8080}
                ]
            }
            if spec.classic_load_balancer
            else {}
        ),
    }


def _stack_resources(client: Callable[[str], Any], spec: WorldSpec) -> dict[str, str]:
    """The stack's own resources: the deployments table, the outcome topic and rule, each with an SQS
    queue that captures what they deliver (topic_arn, notifications_queue_url, events_queue_url,
    event_rule_arn)."""
    dynamodb = client("dynamodb")
    dynamodb.create_table(
        TableName=spec.table_name,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=spec.table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )
    sns, sqs, events = client("sns"), client("sqs"), client("events")
    topic_arn = sns.create_topic(Name=spec.topic_name)["TopicArn"]
    notifications_queue_url, notifications_queue_arn = _queue(sqs, f"{spec.stack_name}-notifications")
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=notifications_queue_arn)
    events_queue_url, events_queue_arn = _queue(sqs, f"{spec.stack_name}-outcome-events")
    rule_name = f"{spec.stack_name}-outcomes"
    event_rule_arn = events.put_rule(
        Name=rule_name, EventBusName="default", EventPattern=json.dumps({"source": [spec.event_source]})
    )["RuleArn"]
    events.put_targets(Rule=rule_name, EventBusName="default", Targets=[{"Id": "capture", "Arn": events_queue_arn}])
    return {
        "topic_arn": topic_arn,
        "notifications_queue_url": notifications_queue_url,
        "events_queue_url": events_queue_url,
        "event_rule_arn": event_rule_arn,
    }


def _functions(
    lambda_client: Any,
    spec: WorldSpec,
    template: Mapping[str, Any] | None,
    declared: Mapping[str, dict[str, Any]],
    definition_text: str,
    roles: Mapping[str, str],
) -> tuple[dict[str, str | None], dict[str, str]]:
    """(logical id -> handler, logical id -> ARN): one function per template function (or per
    `spec.functions`, and per ASL placeholder), created before their environment is known."""
    handlers: dict[str, str | None] = {name: props.get("Handler") for name, props in declared.items()}
    for name in function_names_in(definition_text):
        handlers.setdefault(name, None)
    handlers.update(spec.functions)
    code = _dummy_zip()
    function_arns: dict[str, str] = {}
    scalars = _ScalarResolver(spec, template)
    for logical_id, handler in sorted(handlers.items()):
        props = declared.get(logical_id, {})
        function_arns[logical_id] = lambda_client.create_function(
            FunctionName=logical_id,
            Runtime=str(scalars.get(props.get("Runtime")) or spec.lambda_runtime),
            Role=roles["functions"],
            Handler=str(scalars.get(handler) or "unrouted.handler"),
            Code={"ZipFile": code},
            Timeout=int(scalars.get(props.get("Timeout")) or 30),
            MemorySize=int(scalars.get(props.get("MemorySize")) or 256),
        )["FunctionArn"]
    return handlers, function_arns


class _ScalarResolver:
    """Function properties given as intrinsics (`Timeout: !Ref FunctionTimeout`), resolved."""

    def __init__(self, spec: WorldSpec, template: Mapping[str, Any] | None) -> None:
        self.spec = spec
        self.template = template

    def get(self, value: Any) -> Any:
        if not isinstance(value, dict) or not self.template:
            return value
        values = WorldValues(env={}, refs={}, attrs={}, functions={})
        params = template_parameters(self.spec, self.template, values)
        return cfn.resolve(value, params, self.template.get("Conditions") or {})


def _function_environment(
    props: Mapping[str, Any], template: Mapping[str, Any] | None, spec: WorldSpec, values: WorldValues
) -> dict[str, str]:
    """A function's own Environment.Variables beyond Globals (resolved like the globals)."""
    if not template:
        return {}
    globals_vars = global_variables(template)
    own = ((props.get("Environment") or {}).get("Variables")) or {}
    extra = {k: v for k, v in own.items() if globals_vars.get(k) != v}
    return compute_environment(spec, template, values, variables=extra) if extra else {}


def _queue(sqs: Any, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return str(url), str(arn)
