"""Inputs shared by the input-validation tests: one stack's settings and the ECR event envelope."""

from __future__ import annotations

from typing import Any

from deploy_pipeline.settings import Settings

REPOSITORY = "acme/app"
DIGEST = "sha256:" + "ab" * 32

# An `ECR Image Action` event as EventBridge delivers it, without its `detail`.
ECR_ENVELOPE: dict[str, Any] = {
    "version": "0",
    "id": "13cde686-328b-6117-af20-0e5566167482",
    "detail-type": "ECR Image Action",
    "source": "aws.ecr",
    "account": "123456789012",
    "time": "2026-11-25T07:00:00Z",
    "region": "us-east-1",
    "resources": [],
}


def stack_settings(**overrides: Any) -> Settings:
    """The settings of a stack deploying REPOSITORY to web and worker, with `overrides`."""
    return Settings.model_validate(
        {
            "stack_name": "acme-deploy",
            "cluster_name": "acme-prod",
            "service_names": "web,worker",
            "repository_name": REPOSITORY,
            "migration_container": "app",
            "migration_command": "npx prisma migrate deploy",
            "db_instance_identifier": "acme-db",
            "db_secret_arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:acme/db",
            "verify_subnet_ids": "subnet-0123456789abcdef0",
            "verify_security_group_ids": "sg-0123456789abcdef0",
            "table_name": "deployments",
            "topic_arn": "arn:aws:sns:us-east-1:123456789012:outcomes",
            **overrides,
        }
    )
