"""StartMigration / CheckMigration: one starts the migration, the other is polled by the ASL's Wait loop."""

from deploy_pipeline.handlers._runtime import pipeline_handler
from deploy_pipeline.logic import migration
from deploy_pipeline.models.state import MigrationResult, PipelineState
from deploy_pipeline.settings import get_settings


@pipeline_handler(PipelineState, obeys_stop=True)
def start(state: PipelineState) -> MigrationResult:
    return migration.start(state, get_settings())


@pipeline_handler(PipelineState, obeys_stop=True)
def check(state: PipelineState) -> MigrationResult:
    return migration.check(state, get_settings())
