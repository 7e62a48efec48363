"""`promote`: deploy with one stack (prod) the image another (dev) last deployed successfully.

Like `heroku pipelines:promote`: nothing is rebuilt, the very image dev tested goes on, by digest.
What dev "last deployed successfully" is its newest record with outcome Succeeded (a rollback in
dev counts: it is what dev runs since); Failed, RolledBack, DryRun, NoOp and Superseded records are
passed over. The target stack gets a manual start `{"image_digest": ...}`, validated and run like any
other (Resolve, lock, snapshot, migration, verification, rollout).

A digest names an image within one repository, so both stacks must deploy the same repository
(their `RepositoryName` parameters; both are read through the same credentials and region, so
the same account).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ecs_migrate_deploy.operator import OperatorError
from ecs_migrate_deploy.operator.records import SUCCESS, Deployment, deployments
from ecs_migrate_deploy.operator.stack import Operator


class NothingToPromote(OperatorError):
    """The source stack has no successful deployment: nothing is started, exit code 1."""


@dataclass(frozen=True)
class Promotion:
    from_stack: str
    to_stack: str
    repository: str
    deployment: Deployment

    @property
    def digest(self) -> str:
        return str(self.deployment.image_digest)

    def as_json(self) -> dict[str, Any]:
        deployed = self.deployment.finished_at or self.deployment.started_at
        return {
            "from_stack": self.from_stack,
            "to_stack": self.to_stack,
            "repository": self.repository,
            "image_tag": self.deployment.image_tag,
            "image_digest": self.digest,
            "deployment_id": self.deployment.deployment_id,
            "deployed_at": deployed.isoformat(),
            "rollback": self.deployment.rollback,
        }


def last_success(records: Iterable[Deployment]) -> Deployment | None:
    """The newest record (records come newest first) that deployed an image successfully."""
    return next((r for r in records if r.outcome == SUCCESS and r.image_digest), None)


def promotion(source: Operator, target: Operator) -> Promotion:
    src, dst = source.stack, target.stack
    if src.name == dst.name:
        raise OperatorError(f"--from-stack and --to-stack are both {src.name!r}: promote from one stack to another")
    if src.repository != dst.repository:
        raise OperatorError(
            f"stack {src.name!r} deploys repository {src.repository!r}, {dst.name!r} deploys {dst.repository!r}: "
            f"a digest names an image in one repository, so there is nothing to promote between them "
            f"(push the image to {dst.repository!r} and use `start --digest`)"
        )
    record = last_success(deployments(source.client("dynamodb"), src.table_name, src.cluster))
    if record is None:
        raise NothingToPromote(
            f"stack {src.name!r} has no successful deployment to promote "
            f"(see `ecs-migrate-deploy history --stack-name {src.name}`)"
        )
    return Promotion(from_stack=src.name, to_stack=dst.name, repository=dst.repository, deployment=record)
