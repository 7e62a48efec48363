"""`promote --from-stack DEV --to-stack PROD`: prod deploys, by digest, what dev last deployed successfully.

PROD is the emulated stack (`make_stack`), which really deploys. DEV is a second stand-in stack in
the same moto server (`OperatorStack.add_stack`): its own deployments table, the same repository;
its records are written with the Record function's own writer. `promote` reads nothing else of dev.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ecs_migrate_deploy.emulation.seams.ecs_tasks import TaskOutcome
from tests.support.operator_stack import CALLER, OPERATOR_MARKS, STACK_NAME, OperatorStack, StackFactory

pytestmark = OPERATOR_MARKS

DEV = "emd-operator-dev"
DEV_CLUSTER = "acme-dev"


def quick_migration(task_definition: dict[str, Any], overrides: list[dict[str, Any]], started_by: str) -> TaskOutcome:
    return TaskOutcome.exited(0, ["No pending migrations to apply."])


def dev_record(
    stack: OperatorStack, deployment_id: str, outcome: str, tag: str, started_at: str, **extra: Any
) -> dict[str, Any]:
    """A record as Record writes it (the fields `history` and `promote` read)."""
    digest = stack.world.digests.get(tag)
    return {
        "deployment_id": deployment_id,
        "outcome": outcome,
        "execution_arn": f"arn:aws:states:us-east-1:123456789012:execution:ecs-migrate-deploy-dev:{deployment_id}",
        "trigger": "ecr-push",
        "started_at": started_at,
        "finished_at": started_at.replace(":00+", ":42+"),
        "duration_seconds": 42.0,
        "image_tag": tag,
        "image_digest": digest if outcome != "Failed" else None,
        "services": [{"name": name} for name in stack.world.spec.services],
        "options": {},
        "cause": "",
        **extra,
    }


def test_promote_deploys_the_last_successful_dev_digest_to_prod(make_stack: StackFactory) -> None:
    prod = make_stack(task_runner=quick_migration, parameters={"VerifyTool": "none"})
    digests = prod.world.digests
    table = prod.add_stack(DEV, cluster=DEV_CLUSTER)
    for record in (
        dev_record(prod, "d1-v1-0-0", "Succeeded", "v1.0.0", "2026-03-01T10:00:00+00:00"),
        dev_record(prod, "d2-v1-1-0", "Succeeded", "v1.1.0", "2026-03-02T10:00:00+00:00"),
        dev_record(prod, "d3-dry-run", "DryRun", "v1.0.0", "2026-03-03T10:00:00+00:00"),
        dev_record(prod, "d4-broken", "Failed", "v9.9.9", "2026-03-04T10:00:00+00:00"),
    ):
        prod.put_record(table, DEV_CLUSTER, record)

    result = prod.cli("promote", "--from-stack", DEV, "--to-stack", STACK_NAME, "--watch", "--interval", "0.2",
                      "--region", "us-east-1", stack=False, env={"CI": "true"})  # fmt: skip

    assert result.code == 0, result.stdout + result.stderr
    (execution,) = prod.executions()
    assert re.fullmatch(r"promote-v1-1-0-\d{14}", execution["name"])
    assert json.loads(execution["input"]) == {"image_digest": digests["v1.1.0"], "started_by": CALLER}
    assert execution["status"] == "SUCCEEDED"
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        f"Promoting acme/app:v1.1.0 {digests['v1.1.0'][:19]} from {DEV} to {STACK_NAME}",
        f"  digest     {digests['v1.1.0']}",
        f"  deployed   2026-03-02 10:00:42 UTC in {DEV}, deployment d2-v1-1-0",
    ]
    assert lines[3] == f"Started {execution['name']}"
    assert "\nSucceeded  (SUCCEEDED)\n" in result.stdout
    assert "\x1b" not in result.stdout
    assert set(prod.images().values()) == {f"{prod.world.repository_uri}@{digests['v1.1.0']}"}
    (prod_record,) = prod.records()
    assert (prod_record["deployment_id"], prod_record["outcome"]) == (execution["name"], "Succeeded")

    # --json: one object on stdout, for a script
    as_json = prod.cli("promote", "--from-stack", DEV, "--to-stack", STACK_NAME, "--json", "--region", "us-east-1",
                       stack=False)  # fmt: skip
    assert as_json.code == 0, as_json.stderr
    data = as_json.json()
    assert {k: data[k] for k in ("from_stack", "to_stack", "repository", "image_tag", "image_digest")} == {
        "from_stack": DEV,
        "to_stack": STACK_NAME,
        "repository": "acme/app",
        "image_tag": "v1.1.0",
        "image_digest": digests["v1.1.0"],
    }
    assert data["deployment_id"] == "d2-v1-1-0" and data["deployed_at"] == "2026-03-02T10:00:42+00:00"
    assert data["execution"]["input"] == {"image_digest": digests["v1.1.0"], "started_by": CALLER}
    assert re.fullmatch(r"promote-v1-1-0-\d{14}", data["execution"]["name"])
    # That execution runs on: it ends here, not in the next test's world (which reuses the moto server,
    # the table's name and this process, where its Lambdas run).
    again = prod.emulator.wait(data["execution"]["arn"], timeout=60)
    assert again.status == "SUCCEEDED", (again.error, again.cause)
    assert [r["outcome"] for r in prod.records()] == ["NoOp", "Succeeded"]  # prod already runs it


def test_promote_refuses_when_dev_has_no_successful_deployment(make_stack: StackFactory) -> None:
    prod = make_stack(task_runner=quick_migration, parameters={"VerifyTool": "none"})
    table = prod.add_stack(DEV, cluster=DEV_CLUSTER)
    empty = prod.cli("promote", "--from-stack", DEV, "--to-stack", STACK_NAME, "--region", "us-east-1", stack=False)
    prod.put_record(table, DEV_CLUSTER, dev_record(prod, "d1-broken", "Failed", "v1.1.0", "2026-03-01T10:00:00+00:00"))
    prod.put_record(table, DEV_CLUSTER, dev_record(prod, "d2-dry", "DryRun", "v1.1.0", "2026-03-02T10:00:00+00:00"))
    none_succeeded = prod.cli("promote", "--from-stack", DEV, "--to-stack", STACK_NAME, "--region", "us-east-1",
                              stack=False)  # fmt: skip
    prod.add_stack("emd-operator-other", cluster="acme-other", repository="acme/other")
    other_repository = prod.cli("promote", "--from-stack", "emd-operator-other", "--to-stack", STACK_NAME,
                                "--region", "us-east-1", stack=False)  # fmt: skip

    for result in (empty, none_succeeded):
        assert result.code == 1, result.stdout + result.stderr
        assert result.stdout == ""
        assert result.stderr == (
            f"error: stack '{DEV}' has no successful deployment to promote "
            f"(see `ecs-migrate-deploy history --stack-name {DEV}`)\n"
        )
    assert other_repository.code == 2, other_repository.stdout + other_repository.stderr
    assert (
        "stack 'emd-operator-other' deploys repository 'acme/other', 'emd-operator-test' deploys 'acme/app'"
        in other_repository.stderr
    )
    assert prod.executions() == []
