"""The world is what a real account would have, read back through the AWS APIs."""

from __future__ import annotations

import hashlib
import json
import re

import boto3
import pytest
from moto import mock_aws

from ecs_migrate_deploy.emulation import DbSecret, Emulator, WorldSpec, build_world
from ecs_migrate_deploy.emulation.engine import MOTO_CONFIG
from ecs_migrate_deploy.emulation.world import MANIFEST_MEDIA_TYPE
from tests.support.emulation import FUNCTIONS, small_spec


def test_services_run_the_initial_tag_of_the_repository(emulator: Emulator) -> None:
    world = emulator.world
    ecs = emulator.client("ecs")

    services = ecs.describe_services(cluster=world.cluster_name, services=["web", "worker"])["services"]
    assert [s["serviceArn"] for s in services] == [world.service_arns["web"], world.service_arns["worker"]]
    for service in services:
        assert service["launchType"] == "FARGATE"
        assert service["desiredCount"] == 2
        vpc = service["networkConfiguration"]["awsvpcConfiguration"]
        assert vpc["subnets"] == world.subnet_ids
        assert vpc["securityGroups"] == [world.security_group_id]
        assert vpc["assignPublicIp"] == "DISABLED"
        definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
        assert definition["family"] == service["serviceName"]
        assert definition["networkMode"] == "awsvpc"
        assert definition["requiresCompatibilities"] == ["FARGATE"]
        assert definition["taskRoleArn"] == world.task_role_arn
        assert definition["executionRoleArn"] == world.execution_role_arn
        (container,) = definition["containerDefinitions"]
        assert container["name"] == "app"
        assert container["image"] == f"{world.repository_uri}:v1"
        assert container["logConfiguration"]["options"]["awslogs-group"] == f"/ecs/{service['serviceName']}"

    assert world.repository_uri == "123456789012.dkr.ecr.us-east-1.amazonaws.com/acme/app"
    vpc_attr = emulator.client("ec2").describe_vpc_attribute(VpcId=world.vpc_id, Attribute="enableDnsHostnames")
    assert vpc_attr["EnableDnsHostnames"]["Value"] is True


def test_each_tag_is_an_image_with_a_distinct_digest_of_its_manifest(emulator: Emulator) -> None:
    world = emulator.world
    ecr = emulator.client("ecr")

    details = ecr.describe_images(repositoryName=world.repository_name)["imageDetails"]
    by_tag = {tag: d["imageDigest"] for d in details for tag in d["imageTags"]}
    assert by_tag == world.digests
    assert len(set(by_tag.values())) == 2
    for tag, digest in by_tag.items():
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest)
        image = ecr.batch_get_image(repositoryName=world.repository_name, imageIds=[{"imageTag": tag}])["images"][0]
        manifest = image["imageManifest"]
        assert digest == "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
        parsed = json.loads(manifest)
        assert parsed["schemaVersion"] == 2
        assert parsed["mediaType"] == MANIFEST_MEDIA_TYPE

    pushed = world.push_image("v3")
    v3 = ecr.describe_images(repositoryName=world.repository_name, imageIds=[{"imageTag": "v3"}])["imageDetails"]
    assert v3[0]["imageDigest"] == pushed
    event = world.ecr_push_event("v3")
    assert event["detail"]["image-digest"] == pushed
    assert event["detail"]["repository-name"] == "acme/app"


def test_the_db_secret_points_at_the_local_postgresql(emulator: Emulator) -> None:
    world = emulator.world

    value = emulator.client("secretsmanager").get_secret_value(SecretId=world.secret_arn)["SecretString"]
    assert json.loads(value) == {
        "username": "postgres",
        "password": "postgres",
        "host": "127.0.0.1",
        "port": 5432,
        "dbname": "postgres",
        "engine": "postgres",
    }
    db = emulator.client("rds").describe_db_instances(DBInstanceIdentifier=world.db_identifier)["DBInstances"][0]
    assert db["Engine"] == "postgres"
    assert db["DBInstanceArn"] == world.db_arn


def test_the_topic_reaches_the_notifications_queue_and_our_events_reach_the_events_queue(
    emulator: Emulator,
) -> None:
    world = emulator.world

    emulator.client("sns").publish(TopicArn=world.topic_arn, Subject="Deployed", Message="web is on v2")
    emulator.client("events").put_events(
        Entries=[
            {"Source": "ecs-migrate-deploy", "DetailType": "Deployment Succeeded", "Detail": '{"tag": "v2"}'},
            {"Source": "someone.else", "DetailType": "Noise", "Detail": "{}"},
        ]
    )

    notifications = world.notifications()
    assert [(n["Subject"], n["Message"]) for n in notifications] == [("Deployed", "web is on v2")]
    assert notifications[0]["TopicArn"] == world.topic_arn
    events = world.outcome_events()
    assert [(e["source"], e["detail-type"], e["detail"]) for e in events] == [
        ("ecs-migrate-deploy", "Deployment Succeeded", {"tag": "v2"})
    ]
    assert world.notifications() == []


def test_the_table_has_the_lock_keys_and_a_ttl(emulator: Emulator) -> None:
    dynamodb = emulator.client("dynamodb")
    table = dynamodb.describe_table(TableName=emulator.world.table_name)["Table"]

    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {"pk": "HASH", "sk": "RANGE"}
    ttl = dynamodb.describe_time_to_live(TableName=emulator.world.table_name)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_the_state_machine_calls_the_created_functions(emulator: Emulator) -> None:
    world = emulator.world
    described = emulator.client("stepfunctions").describe_state_machine(stateMachineArn=world.state_machine_arn)
    definition = json.loads(described["definition"])

    assert "${" not in described["definition"]
    assert definition["States"]["Greet"]["Resource"] == world.function_arns["GreetFunction"]
    functions = emulator.client("lambda").list_functions()["Functions"]
    assert {f["FunctionName"]: f["Handler"] for f in functions} == FUNCTIONS
    configured = emulator.client("lambda").get_function_configuration(FunctionName="GreetFunction")
    assert configured["Environment"]["Variables"] == world.env()


def test_env_holds_the_worlds_names_and_takes_overrides(emulator: Emulator) -> None:
    world = emulator.world

    env = world.env()
    assert env["CLUSTER_NAME"] == "acme"
    assert env["SERVICE_NAMES"] == "web,worker"
    assert env["REPOSITORY_NAME"] == "acme/app"
    assert env["DB_INSTANCE_IDENTIFIER"] == world.db_identifier
    assert env["DB_CLUSTER_IDENTIFIER"] == ""
    assert env["DB_SECRET_ARN"] == world.secret_arn
    assert env["TABLE_NAME"] == world.table_name
    assert env["TOPIC_ARN"] == world.topic_arn
    assert world.env({"DB_SSLMODE": "require"})["DB_SSLMODE"] == "require"


def test_an_aurora_world_has_a_cluster() -> None:
    spec = small_spec(db_kind="cluster", db_identifier="acme-aurora", db_secret=DbSecret(dbname="app"))
    with Emulator(spec) as emu:
        cluster = emu.client("rds").describe_db_clusters(DBClusterIdentifier="acme-aurora")["DBClusters"][0]
        env = emu.world.env()

    assert cluster["Engine"] == "aurora-postgresql"
    assert cluster["DBClusterArn"].endswith(":cluster:acme-aurora")
    assert env["DB_CLUSTER_IDENTIFIER"] == "acme-aurora"
    assert env["DB_INSTANCE_IDENTIFIER"] == ""


def test_a_world_can_be_built_inside_a_callers_own_mock() -> None:
    with mock_aws(config=MOTO_CONFIG):
        world = build_world(small_spec(services=("api",)))
        names = boto3.client("ecs", region_name="us-east-1").list_services(cluster=world.cluster_name)["serviceArns"]

    assert names == [world.service_arns["api"]]


def test_an_initial_tag_that_is_not_pushed_is_refused() -> None:
    with mock_aws(config=MOTO_CONFIG), pytest.raises(ValueError, match="initial_tag"):
        build_world(small_spec(initial_tag="v9"))


def test_an_asl_placeholder_without_a_function_is_refused() -> None:
    asl = {"StartAt": "X", "States": {"X": {"Type": "Task", "Resource": "${MissingThingArn}", "End": True}}}
    with mock_aws(config=MOTO_CONFIG), pytest.raises(ValueError, match="MissingThingArn"):
        build_world(WorldSpec(template_path=None, asl=asl))
