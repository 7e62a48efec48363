"""The Lambda functions of ecs-migrate-deploy: one package, sixteen handlers, one name per phase.

From the state machine to AWS (tests/static/test_phase_map.py keeps this table true to
template.yaml, statemachine/deploy.asl.json and the imports):

| phase | ASL states | functions | handlers | logic | adapters |
|---|---|---|---|---|---|
| resolve | Resolve | ResolveFunction | resolve.resolve | resolve | aws.ecr, aws.ecs, aws.rds, aws.table |
| lock | AcquireLock, ReleaseLock | AcquireLockFunction, ReleaseLockFunction | lock.acquire, lock.release | lock | aws.ecs, aws.table |
| snapshot | StartSnapshot, CheckSnapshot | StartSnapshotFunction, CheckSnapshotFunction | snapshot.start, snapshot.check | snapshot | aws.rds |
| verify | CaptureBaseline, Verify | CaptureBaselineFunction, VerifyFunction | verify.capture_baseline, verify.verify | verify | aws.ecr, aws.secrets, aws.table, verify |
| migration | StartMigration, CheckMigration | StartMigrationFunction, CheckMigrationFunction | migration.start, migration.check | migration | aws.ecs, aws.task_logs |
| rollout | StartRollout, CheckRollout | StartRolloutFunction, CheckRolloutFunction | rollout.start, rollout.check | rollout | aws.ecs |
| rollback | StartRollback, CheckRollback | StartRollbackFunction, CheckRollbackFunction | rollback.start, rollback.check | rollback | aws.ecs, aws.rds |
| record | RecordOutcome | RecordOutcomeFunction | record.record_outcome | record | aws.ecs, aws.notify, aws.rds, aws.table, aws.task_logs |
| wakeups | WaitForLock, WaitForSnapshot, WaitForMigration, WaitForRollout, WaitForRollback | AwaitEventFunction, NoticeFunction | wakeups.await_event, wakeups.notice | wakeups | aws.wakeups |

(NoticeFunction is no state's: the stack's EventBridge rules invoke it with AWS's events.) Handlers
are `deploy_pipeline.handlers.<module>.<function>`, logic `deploy_pipeline.logic.<module>`. Shared
by several phases: logic.polling (waits and time), logic.identifiers, logic.migration_tasks, and
logic.stops, which every handler that starts or checks work runs first (`ecs-migrate-deploy stop`).

Layers, each importing only from its own layer or the ones below it (the same test checks it, and
that the imports have no cycle):
1. handlers: parse the state with its model, call one logic function, return a model;
2. logic: the phase's decisions;
3. aws (boto3 calls, clients created once per container) and verify (the database, over psycopg2;
   imported lazily, so only the two verification functions pay for it at cold start);
4. models (pydantic: the state, the inputs, the image labels' format) and settings;
5. errors and observability.
"""
