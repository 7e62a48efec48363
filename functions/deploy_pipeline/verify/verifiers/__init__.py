"""One verifier per migration tool, by the name the stack's VerifyTool parameter uses."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from deploy_pipeline.verify.verifiers.alembic import AlembicVerifier
from deploy_pipeline.verify.verifiers.base import BookkeepingTable, Progress, Verdict, Verifier
from deploy_pipeline.verify.verifiers.django import DjangoVerifier
from deploy_pipeline.verify.verifiers.flyway import FlywayVerifier
from deploy_pipeline.verify.verifiers.golang_migrate import GolangMigrateVerifier
from deploy_pipeline.verify.verifiers.no_bookkeeping import NoBookkeepingVerifier
from deploy_pipeline.verify.verifiers.prisma import PrismaVerifier
from deploy_pipeline.verify.verifiers.rails import RailsVerifier

VERIFIERS: Mapping[str, Verifier] = MappingProxyType(
    {
        verifier.tool: verifier
        for verifier in (
            PrismaVerifier(),
            AlembicVerifier(),
            FlywayVerifier(),
            GolangMigrateVerifier(),
            DjangoVerifier(),
            RailsVerifier(),
            NoBookkeepingVerifier(),
        )
    }
)

__all__ = ["VERIFIERS", "BookkeepingTable", "Progress", "Verdict", "Verifier"]
