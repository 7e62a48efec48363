"""`ecs-migrate-deploy rehearse` end to end, as a user runs it: a subprocess, its exit code, its JSON,
and what it left in the database."""

from __future__ import annotations

import json
import re

import pytest

from tests.e2e.rehearsal import ROOT, database_exists, live_view, query, rehearse


def test_success_deploys_and_migrates(kept: list[str]) -> None:
    code, payload, stderr = rehearse("--migrations", "examples/shop", "--json", "--keep-database")
    assert payload is not None, stderr
    kept.append(payload["database"]["name"])
    assert code == 0, payload
    assert (payload["status"], payload["outcome"]) == ("SUCCEEDED", "Succeeded")
    names = [s["name"] for s in payload["states"]]
    assert (
        names.index("StartSnapshot")
        < names.index("StartMigration")
        < names.index("Verify")
        < names.index("StartRollout")
    )
    assert payload["deployment"]["verification"]["latest_applied"] == "20250310083000_order_status"
    assert "real `prisma migrate deploy`" in payload["migration_command_chosen"]
    assert payload["migration_command"].endswith("node_modules/.bin/prisma migrate deploy")
    assert payload["tool"] == "prisma"
    # The whole command's wall time: the setup before the first state (interpreter, moto, the emulated
    # account: seconds, never less on a loaded machine) as well as the states.
    assert 0 < payload["first_state_seconds"] < payload["wall_seconds"]
    assert payload["wall_seconds"] > sum(s["seconds"] for s in payload["states"]) + 0.5
    rows = query(payload["database"]["name"], 'SELECT count(*) FROM "_prisma_migrations" WHERE finished_at IS NOT NULL')
    assert rows == [(3,)]


def test_an_ecr_event_is_started_as_the_stacks_rule_starts_it() -> None:
    """Through the trigger rule's pattern, with the execution named by "EventBridge" (event id + UUID):
    every identifier derived from that 73-character name must hold."""
    code, payload, stderr = rehearse("--migrations", "examples/shop", "--event", "events/ecr-push.json", "--json")
    assert payload is not None, stderr
    assert code == 0, payload
    event = json.loads((ROOT / "events" / "ecr-push.json").read_text())
    assert re.fullmatch(re.escape(event["id"]) + r"_[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", payload["execution"])
    assert payload["deployment"]["execution_arn"].endswith(payload["execution"])
    assert payload["outcome"] == "Succeeded"


def test_an_aurora_cluster_is_rehearsed_from_a_push_with_identifiers_rds_accepts() -> None:
    """`-p DbClusterIdentifier=` with the instance parameter empty: the cluster snapshot's identifier,
    derived from the 73-character execution name EventBridge gives, fits CreateDBClusterSnapshot's 63."""
    code, payload, stderr = rehearse(
        "--migrations",
        "examples/shop",
        "--event",
        "events/ecr-push.json",
        "-p",
        "DbClusterIdentifier=acme-aurora",
        "-p",
        "DbInstanceIdentifier=",
        "--json",
    )
    assert payload is not None, stderr
    assert code == 0, payload
    assert payload["outcome"] == "Succeeded"
    assert payload["deployment"]["database"] == {"kind": "cluster", "identifier": "acme-aurora"}
    snapshot = payload["snapshot"]
    assert re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", snapshot) and len(snapshot) <= 63, snapshot


def test_failing_migration_exits_1_and_leaves_the_failed_row(kept: list[str]) -> None:
    code, payload, stderr = rehearse("--migrations", "examples/broken", "--json", "--keep-database")
    assert payload is not None, stderr
    kept.append(payload["database"]["name"])
    assert code == 1
    assert (payload["status"], payload["outcome"], payload["error"]) == ("FAILED", "Failed", "MigrationFailed")
    assert "StartRollout" not in [s["name"] for s in payload["states"]]
    assert query(
        payload["database"]["name"],
        'SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NULL AND rolled_back_at IS NULL',
    ) == [("20250320100000_add_not_null_sku",)]
    migration = payload["deployment"]["migration"]
    assert migration["exit_code"] == 1
    assert 'column "sku" of relation "Product" contains null values' in migration["database_error"]
    assert any("20250320100000_add_not_null_sku" in line for line in migration["log_tail"])
    assert 'Database error: ERROR:  column "sku"' in payload["cause"]


def test_rollout_failure_rolls_back_and_drops_the_scratch_database() -> None:
    code, payload, stderr = rehearse("--migrations", "examples/shop", "--scenario", "rollout-fails", "--json")
    assert payload is not None, stderr
    assert code == 1
    assert (payload["outcome"], payload["error"]) == ("RolledBack", "RolloutFailed")
    assert "CheckRollback" in [s["name"] for s in payload["states"]] or payload["deployment"]["rollback"]["done"]
    assert payload["database"]["kept"] is False
    assert not database_exists(payload["database"]["name"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tag", "bad tag!"], "invalid input"),
        (["--parameter", "NoSuchParameter=1"], "unknown parameter"),
        (["--parameter", "DbRollbackPolicy=explode"], "is not one of"),
        (["--scenario", "meteor"], "unknown scenario"),
        (["--migrations", "no/such/dir"], "is not a directory"),
        (["--migrations", "."], "no migrations found in .: looked for alembic.ini"),
        (["--migrate-command", "sh -c 'exit 3"], "cannot be split like a shell would"),
        (["--base-ref", "no-such-ref-anywhere"], "no-such-ref-anywhere is not a commit of this repository"),
    ],
)
def test_bad_usage_exits_2_with_one_line_and_creates_nothing(args: list[str], message: str) -> None:
    # The server given cannot be reached: had rehearse tried to create its database before
    # validating, it would report that instead of the usage problem.
    code, _payload, stderr = rehearse(*args, database_url="postgresql://postgres@127.0.0.1:1/postgres")
    assert code == 2
    assert message in stderr and len(stderr.strip().splitlines()) == 1
    assert "no PostgreSQL" not in stderr


def test_unreachable_database_is_a_usage_error() -> None:
    code, _payload, stderr = rehearse(database_url="postgresql://postgres@127.0.0.1:1/postgres")
    assert code == 2
    assert "no PostgreSQL at 127.0.0.1:1" in stderr


def test_live_view_shows_states_and_migration_output() -> None:
    done = live_view()
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "✓ Resolve" in out and "✓ Verify" in out and "✓ CheckRollout" in out
    assert "│ 3 migrations found in prisma/migrations" in out and "└─ 20250101090000_init/" in out
    assert "Succeeded" in out and "migrator" in out
