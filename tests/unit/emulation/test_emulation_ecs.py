"""RunTask ends as a TaskRunner says (exit code, logs, failed start); UpdateService rolls out per a policy."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ecs_migrate_deploy.emulation import Emulator, TaskOutcome
from ecs_migrate_deploy.emulation.seams.ecs_rollouts import CIRCUIT_BREAKER_REASON, RolloutState
from tests.support.emulation import small_spec


class ScriptedRunner:
    """Returns the outcome it is given and keeps what RunTask handed it."""

    def __init__(self, outcome: TaskOutcome | None) -> None:
        self.outcome = outcome
        self.calls: list[tuple[dict[str, Any], list[dict[str, Any]], str]] = []

    def __call__(
        self, task_definition: dict[str, Any], container_overrides: list[dict[str, Any]], started_by: str
    ) -> TaskOutcome | None:
        self.calls.append((task_definition, container_overrides, started_by))
        return self.outcome


@pytest.fixture
def runner() -> ScriptedRunner:
    return ScriptedRunner(TaskOutcome.exited(0))


@pytest.fixture
def emu(runner: ScriptedRunner) -> Iterator[Emulator]:
    with Emulator(small_spec(), task_runner=runner) as emulator:
        yield emulator


def run_migration(emu: Emulator, *, started_by: str = "deploy-1") -> str:
    world = emu.world
    response = emu.client("ecs").run_task(
        cluster=world.cluster_name,
        taskDefinition=world.task_definition_arns["web"],
        launchType="FARGATE",
        networkConfiguration=world.network_configuration,
        startedBy=started_by,
        overrides={"containerOverrides": [{"name": "app", "command": ["npx", "prisma", "migrate", "deploy"]}]},
    )
    assert response["failures"] == []
    task = response["tasks"][0]
    assert task["lastStatus"] == "PROVISIONING"
    return str(task["taskArn"])


def describe(emu: Emulator, task_arn: str) -> dict[str, Any]:
    tasks = emu.client("ecs").describe_tasks(cluster=emu.world.cluster_name, tasks=[task_arn])["tasks"]
    return dict(tasks[0])


def app_container(task: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in task["containers"] if c["name"] == "app")


def test_a_task_stops_with_the_runners_exit_code_and_its_output_in_the_log_stream(
    emu: Emulator, runner: ScriptedRunner
) -> None:
    runner.outcome = TaskOutcome.exited(3, ["Applying migration `20250101_init`", "Error: P3018 relation exists"])

    task_arn = run_migration(emu)
    task = describe(emu, task_arn)

    assert task["lastStatus"] == "STOPPED"
    assert task["desiredStatus"] == "STOPPED"
    assert task["stopCode"] == "EssentialContainerExited"
    assert task["stoppedReason"] == "Essential container in task exited"
    assert "stoppedAt" in task
    assert app_container(task)["exitCode"] == 3
    assert app_container(task)["lastStatus"] == "STOPPED"

    task_id = task_arn.rsplit("/", 1)[-1]
    events = emu.client("logs").get_log_events(logGroupName="/ecs/web", logStreamName=f"ecs/app/{task_id}")["events"]
    assert [e["message"] for e in events] == [
        "Applying migration `20250101_init`",
        "Error: P3018 relation exists",
    ]

    task_definition, overrides, started_by = runner.calls[0]
    assert task_definition["taskDefinitionArn"] == emu.world.task_definition_arns["web"]
    assert task_definition["containerDefinitions"][0]["name"] == "app"
    assert overrides == [{"name": "app", "command": ["npx", "prisma", "migrate", "deploy"]}]
    assert started_by == "deploy-1"


def test_exit_zero_is_reported_and_the_task_is_found_by_started_by(emu: Emulator) -> None:
    task_arn = run_migration(emu, started_by="deploy-ok")
    ecs = emu.client("ecs")
    cluster = emu.world.cluster_name

    assert app_container(describe(emu, task_arn))["exitCode"] == 0
    assert ecs.list_tasks(cluster=cluster, startedBy="deploy-ok", desiredStatus="STOPPED")["taskArns"] == [task_arn]
    assert ecs.list_tasks(cluster=cluster, startedBy="deploy-ok", desiredStatus="RUNNING")["taskArns"] == []


def test_running_polls_report_running_before_stopped(emu: Emulator, runner: ScriptedRunner) -> None:
    runner.outcome = TaskOutcome.exited(0, running_polls=2)
    task_arn = run_migration(emu)

    statuses = [describe(emu, task_arn)["lastStatus"] for _ in range(4)]

    assert statuses == ["RUNNING", "RUNNING", "STOPPED", "STOPPED"]


def test_still_running_keeps_the_task_running_until_it_says_no(emu: Emulator, runner: ScriptedRunner) -> None:
    finished = {"yet": False}
    runner.outcome = TaskOutcome(exit_code=0, still_running=lambda: not finished["yet"])
    task_arn = run_migration(emu)
    assert [describe(emu, task_arn)["lastStatus"] for _ in range(3)] == ["RUNNING"] * 3
    finished["yet"] = True
    stopped = describe(emu, task_arn)
    assert (stopped["lastStatus"], stopped["containers"][0]["exitCode"]) == ("STOPPED", 0)


def test_a_task_that_failed_to_start_has_no_exit_code(emu: Emulator, runner: ScriptedRunner) -> None:
    reason = "CannotPullContainerError: pull image manifest has been retried 5 time(s): not found"
    runner.outcome = TaskOutcome.failed_to_start(reason)

    task = describe(emu, run_migration(emu))

    assert task["lastStatus"] == "STOPPED"
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"] == reason
    assert "exitCode" not in app_container(task)
    assert app_container(task)["reason"] == reason


def test_a_task_that_keeps_running_stops_only_when_asked(emu: Emulator, runner: ScriptedRunner) -> None:
    runner.outcome = None
    task_arn = run_migration(emu)

    assert [describe(emu, task_arn)["lastStatus"] for _ in range(6)] == ["RUNNING"] * 6
    assert "exitCode" not in app_container(describe(emu, task_arn))

    stopping = emu.client("ecs").stop_task(
        cluster=emu.world.cluster_name, task=task_arn, reason="migration timed out after 1800s"
    )["task"]
    # StopTask is not instant (SIGTERM, then SIGKILL after the stop timeout): one look shows it stopping.
    assert (stopping["lastStatus"], stopping["desiredStatus"]) == ("DEACTIVATING", "STOPPED")
    assert describe(emu, task_arn)["lastStatus"] == "DEACTIVATING"
    task = describe(emu, task_arn)

    assert task["lastStatus"] == "STOPPED"
    assert task["stopCode"] == "UserInitiated"
    assert task["stoppedReason"] == "migration timed out after 1800s"
    assert app_container(task)["exitCode"] == 143


def test_every_container_definition_becomes_a_container_and_the_override_target_gets_the_exit_code(
    emu: Emulator, runner: ScriptedRunner
) -> None:
    ecs = emu.client("ecs")
    world = emu.world
    source = ecs.describe_task_definition(taskDefinition=world.task_definition_arns["web"])["taskDefinition"]
    sidecar = {"name": "datadog-agent", "image": "public.ecr.aws/datadog/agent:7", "memory": 128, "essential": False}
    arn = ecs.register_task_definition(
        family="web",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[sidecar, *source["containerDefinitions"]],
    )["taskDefinition"]["taskDefinitionArn"]
    runner.outcome = TaskOutcome.exited(1, ["boom"])

    task_arn = ecs.run_task(
        cluster=world.cluster_name,
        taskDefinition=arn,
        launchType="FARGATE",
        networkConfiguration=world.network_configuration,
        startedBy="sidecar",
        overrides={"containerOverrides": [{"name": "app", "command": ["migrate"]}]},
    )["tasks"][0]["taskArn"]
    task = describe(emu, task_arn)

    assert [c["name"] for c in task["containers"]] == ["datadog-agent", "app"]
    assert app_container(task)["exitCode"] == 1
    assert app_container(task)["image"] == source["containerDefinitions"][0]["image"]


# ---- rollouts ------------------------------------------------------------------------------------


def new_revision(emu: Emulator, service: str, tag: str) -> str:
    ecs = emu.client("ecs")
    source = ecs.describe_task_definition(taskDefinition=emu.world.task_definition_arns[service])["taskDefinition"]
    container = {**source["containerDefinitions"][0], "image": f"{emu.world.repository_uri}@{emu.world.digests[tag]}"}
    return str(
        ecs.register_task_definition(
            family=source["family"],
            networkMode=source["networkMode"],
            requiresCompatibilities=source["requiresCompatibilities"],
            cpu=source["cpu"],
            memory=source["memory"],
            containerDefinitions=[container],
        )["taskDefinition"]["taskDefinitionArn"]
    )


def primary(service: dict[str, Any]) -> dict[str, Any]:
    return next(d for d in service["deployments"] if d["status"] == "PRIMARY")


def test_services_start_steady(emu: Emulator) -> None:
    service = emu.world.service("web")

    assert len(service["deployments"]) == 1
    assert primary(service)["rolloutState"] == "COMPLETED"
    assert primary(service)["runningCount"] == service["desiredCount"] == 2
    assert service["runningCount"] == 2


def test_update_service_starts_a_deployment_the_policy_completes() -> None:
    answers: list[RolloutState] = ["IN_PROGRESS", "COMPLETED"]
    asked: list[tuple[str, str]] = []

    def policy(service_name: str, task_definition_arn: str) -> RolloutState:
        asked.append((service_name, task_definition_arn))
        return answers.pop(0)

    with Emulator(small_spec(), rollout_policy=policy) as emu:
        old = emu.world.task_definition_arns["web"]
        new = new_revision(emu, "web", "v2")
        updated = emu.client("ecs").update_service(cluster=emu.world.cluster_name, service="web", taskDefinition=new)[
            "service"
        ]

        assert [(d["status"], d["taskDefinition"], d["rolloutState"]) for d in updated["deployments"]] == [
            ("PRIMARY", new, "IN_PROGRESS"),
            ("ACTIVE", old, "COMPLETED"),
        ]
        deployment_id = primary(updated)["id"]
        assert deployment_id.startswith("ecs-svc/")
        assert primary(updated)["runningCount"] == 0

        still = emu.world.service("web")
        assert primary(still)["rolloutState"] == "IN_PROGRESS"
        assert len(still["deployments"]) == 2

        done = emu.world.service("web")

    assert asked == [("web", new), ("web", new)]
    assert done["taskDefinition"] == new
    assert [(d["id"], d["rolloutState"], d["runningCount"]) for d in done["deployments"]] == [
        (deployment_id, "COMPLETED", 2)
    ]
    assert "has reached a steady state" in done["events"][0]["message"]


def test_a_failed_rollout_keeps_the_new_task_definition_and_a_rollback_completes() -> None:
    def policy(service_name: str, task_definition_arn: str) -> RolloutState:
        return "FAILED" if task_definition_arn.endswith(":2") else "COMPLETED"

    with Emulator(small_spec(), rollout_policy=policy) as emu:
        ecs, cluster = emu.client("ecs"), emu.world.cluster_name
        old = emu.world.task_definition_arns["web"]
        new = new_revision(emu, "web", "v2")
        ecs.update_service(cluster=cluster, service="web", taskDefinition=new)

        failed = emu.world.service("web")
        assert failed["taskDefinition"] == new
        assert primary(failed)["rolloutState"] == "FAILED"
        assert primary(failed)["rolloutStateReason"] == CIRCUIT_BREAKER_REASON
        assert primary(failed)["failedTasks"] > 0
        assert [d["taskDefinition"] for d in failed["deployments"] if d["status"] == "ACTIVE"] == [old]
        assert emu.world.service("web")["deployments"] == failed["deployments"]  # FAILED is final

        ecs.update_service(cluster=cluster, service="web", taskDefinition=old)
        rolled_back = emu.world.service("web")

    assert rolled_back["taskDefinition"] == old
    assert [(d["taskDefinition"], d["rolloutState"]) for d in rolled_back["deployments"]] == [(old, "COMPLETED")]


def test_an_update_without_a_new_task_definition_starts_no_deployment(emu: Emulator) -> None:
    before = primary(emu.world.service("web"))["id"]

    emu.client("ecs").update_service(cluster=emu.world.cluster_name, service="web", desiredCount=3)
    after = emu.world.service("web")

    assert primary(after)["id"] == before
    assert len(after["deployments"]) == 1
