"""The AWS account `sam local invoke` talks to here: a moto server on 127.0.0.1 holding the sample world.

The sample world is the one events/ were captured from (ecs_migrate_deploy.sample_events: the same names,
image digests and labels), built through the server's endpoint; its database secret names a real PostgreSQL
database. The server runs in this process, so the emulation seams act on it: a RunTask of the migration task
runs the examples/shop migrations for real against that database, rollouts complete.

`python -m tests.sam_local.emulated_aws` (from the repository root) runs it until Ctrl-C, with a scratch
database, writes the --env-vars file of this world, and prints the environment a `sam local invoke` needs
(docs/sam-local.md); the tests use the same pieces as fixtures.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from ecs_migrate_deploy.emulation.engine import Emulator
from ecs_migrate_deploy.local_migrations import LocalMigrationRunner
from ecs_migrate_deploy.sample_events import sample_spec
from tests.sam_local.harness import FAKE_CREDENTIALS
from tests.support.moto_server import running_moto_server
from tests.support.postgres import ScratchDatabase, scratch_database_named

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def sample_world(url: str, database: ScratchDatabase) -> Iterator[Emulator]:
    """The sample world on the server at `url`, its secret naming `database` (no TLS: DbSslMode=disable)."""
    secret = database.secret()
    with Emulator(
        replace(sample_spec(), db_secret=secret),
        task_runner=LocalMigrationRunner(workdir=ROOT / "examples" / "shop", database_url=database.url),
        parameters={"DbSslMode": "disable"},
        endpoint_url=url,
    ) as emulator:
        yield emulator


def write_env_vars(emulator: Emulator, path: Path) -> Path:
    """`sam local invoke --env-vars`: the stack's variables in this world (its table, topic, secret ARN, ...)."""
    path.write_text(json.dumps({"Parameters": emulator.world.env()}, indent=1, sort_keys=True) + "\n")
    return path


def main() -> None:
    env_vars = ROOT / ".aws-sam" / "sam-local" / "env.json"
    env_vars.parent.mkdir(parents=True, exist_ok=True)
    with (
        scratch_database_named("emd_samlocal") as database,
        running_moto_server() as server,
        sample_world(server.url, database) as emu,
    ):
        write_env_vars(emu, env_vars)
        print(f"moto server with the sample world: {server.url} (database {database.name}); --env-vars {env_vars}")
        print("the environment of `sam local invoke` (credentials and region go into the container):")
        for name, value in {**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": server.url}.items():
            print(f"  export {name}={value}")
        print("Ctrl-C stops the server and drops the database", flush=True)
        signal.sigwait({signal.SIGINT, signal.SIGTERM})


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    main()
