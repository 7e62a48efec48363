"""template.yaml: valid for SAM and cfn-lint, consistent with the ASL, the code and least privilege."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from deploy_pipeline.aws import stop_requests, table, wakeups
from deploy_pipeline.settings import Settings
from static_support import (
    ASL_PATHS,
    REQUIRED_PARAMETER_VALUES,
    ROOT,
    TEMPLATE_PATH,
    environment,
    functions,
    global_function,
    parameter_values,
    resources,
    run,
    template,
    tool,
)

from ecs_migrate_deploy.template import NO_VALUE, resolve
from tests.iam_policies import (
    Conditions,
    allow_statements,
    as_list,
    branches,
    document_statements,
    function_actions,
    is_granted,
    leading_key_matches,
    leading_key_tests,
    sam_policy_templates,
    statement_grants,
    statements_of,
)

# Logical id -> Handler: the module paths are part of the contract with functions/.
EXPECTED_HANDLERS = {
    "ResolveFunction": "deploy_pipeline.handlers.resolve.resolve",
    "AcquireLockFunction": "deploy_pipeline.handlers.lock.acquire",
    "ReleaseLockFunction": "deploy_pipeline.handlers.lock.release",
    "StartSnapshotFunction": "deploy_pipeline.handlers.snapshot.start",
    "CheckSnapshotFunction": "deploy_pipeline.handlers.snapshot.check",
    "CaptureBaselineFunction": "deploy_pipeline.handlers.verify.capture_baseline",
    "StartMigrationFunction": "deploy_pipeline.handlers.migration.start",
    "CheckMigrationFunction": "deploy_pipeline.handlers.migration.check",
    "VerifyFunction": "deploy_pipeline.handlers.verify.verify",
    "StartRolloutFunction": "deploy_pipeline.handlers.rollout.start",
    "CheckRolloutFunction": "deploy_pipeline.handlers.rollout.check",
    "StartRollbackFunction": "deploy_pipeline.handlers.rollback.start",
    "CheckRollbackFunction": "deploy_pipeline.handlers.rollback.check",
    "RecordOutcomeFunction": "deploy_pipeline.handlers.record.record_outcome",
    "AwaitEventFunction": "deploy_pipeline.handlers.wakeups.await_event",
    "NoticeFunction": "deploy_pipeline.handlers.wakeups.notice",
}
VPC_FUNCTIONS = {"CaptureBaselineFunction", "VerifyFunction"}

# Parameter -> Default (None: required, no Default). AllowedValues are checked separately.
EXPECTED_PARAMETERS: dict[str, str | None] = {
    "RepositoryName": None,
    "TagPrefix": "",
    "ClusterName": None,
    "ServiceNames": None,
    "MigrationContainerName": "app",
    "MigrationCommand": "npx prisma migrate deploy",
    "DbInstanceIdentifier": "",
    "DbClusterIdentifier": "",
    "DbSecretArn": "",
    "DbSslMode": "verify-full",
    "VerifyTool": "prisma",
    "VerifyAssertions": "",
    "VerifySubnetIds": "",
    "VerifySecurityGroupIds": "",
    "SnapshotTimeoutSeconds": "3600",
    "MigrationTimeoutSeconds": "1800",
    "RolloutTimeoutSeconds": "1800",
    "AllowSkipSnapshot": "false",
    "DbRollbackPolicy": "keep",
    "SnapshotRetention": "5",
    "OnLockHeld": "wait",
    "LockWaitSeconds": "1800",
    "LockTtlSeconds": "14400",
    "PassRoleArns": None,
    "LogRetentionDays": "30",
}
EXPECTED_ALLOWED_VALUES = {
    "DbSslMode": {"verify-full", "verify-ca", "require"},
    "VerifyTool": {"prisma", "alembic", "flyway", "golang-migrate", "django", "rails", "none"},
    "AllowSkipSnapshot": {"true", "false"},
    "DbRollbackPolicy": {"keep", "restore"},
    "OnLockHeld": {"wait", "fail"},
}

# IAM actions that may be granted on Resource "*", and why. Nothing else may be.
WILDCARD_RESOURCE_ACTIONS = {
    "ecs:DescribeTaskDefinition": "no resource-level permissions",
    "ecs:RegisterTaskDefinition": "no resource-level permissions",
    "ecs:ListTasks": "resource type is container-instance only; scoped by the ecs:cluster condition instead",
    "logs:CreateLogDelivery": "Step Functions log delivery: no resource-level permissions",
    "logs:GetLogDelivery": "Step Functions log delivery: no resource-level permissions",
    "logs:UpdateLogDelivery": "Step Functions log delivery: no resource-level permissions",
    "logs:DeleteLogDelivery": "Step Functions log delivery: no resource-level permissions",
    "logs:ListLogDeliveries": "Step Functions log delivery: no resource-level permissions",
    "logs:PutResourcePolicy": "Step Functions log delivery: no resource-level permissions",
    "logs:DescribeResourcePolicies": "Step Functions log delivery: no resource-level permissions",
    "logs:DescribeLogGroups": "Step Functions log delivery: no resource-level permissions",
    "ec2:CreateNetworkInterface": "SAM VPCAccessPolicy: the ENIs of a VPC function are created by Lambda at run time",
    "ec2:DescribeNetworkInterfaces": "SAM VPCAccessPolicy: no resource-level permissions",
    "ec2:DeleteNetworkInterface": "SAM VPCAccessPolicy: the ENIs of a VPC function are created by Lambda at run time",
    "ec2:DetachNetworkInterface": "SAM VPCAccessPolicy: the ENIs of a VPC function are created by Lambda at run time",
}
# Of those, the ones that are only acceptable with a Condition narrowing them.
WILDCARD_NEEDS_CONDITION = {"ecs:ListTasks"}

_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")
_WILDCARD_LINE = re.compile(r"""^\s*(?:-\s*)?Resource:\s*(["'])\*\1\s*(?:#.*)?$""")


# --------------------------------------------------------------------------------------------------
# The tools
# --------------------------------------------------------------------------------------------------


def test_sam_validate_lint_passes() -> None:
    result = run([tool("sam"), "validate", "--lint", "--template-file", str(TEMPLATE_PATH)])
    assert result.returncode == 0, f"sam validate --lint failed:\n{result.stdout}\n{result.stderr}"


def test_cfn_lint_passes() -> None:
    result = run([tool("cfn-lint"), "--format", "parseable", "--", str(TEMPLATE_PATH)])
    assert result.returncode == 0, f"cfn-lint failed:\n{result.stdout}\n{result.stderr}"


# --------------------------------------------------------------------------------------------------
# Parameters, rules
# --------------------------------------------------------------------------------------------------


def test_parameters_have_the_agreed_names_and_defaults() -> None:
    declared = template()["Parameters"]
    missing = sorted(set(EXPECTED_PARAMETERS) - set(declared))
    assert not missing, f"parameters missing from template.yaml: {missing}"
    defaults = {name: None if "Default" not in spec else str(spec["Default"]) for name, spec in declared.items()}
    assert {name: defaults[name] for name in EXPECTED_PARAMETERS} == EXPECTED_PARAMETERS
    for name, allowed in EXPECTED_ALLOWED_VALUES.items():
        assert {str(v) for v in declared[name].get("AllowedValues", [])} == allowed, name


def test_required_parameters_are_constrained() -> None:
    for name, spec in template()["Parameters"].items():
        if "Default" in spec or str(spec["Type"]).startswith("List<AWS::"):
            continue  # AWS-specific list types are validated by CloudFormation itself
        assert spec.get("AllowedPattern") or spec.get("AllowedValues"), f"{name} accepts anything"
        assert spec.get("ConstraintDescription"), f"{name}: say what is expected in ConstraintDescription"


def test_allowed_patterns_accept_the_sample_and_default_values() -> None:
    values = parameter_values()
    for name, spec in template()["Parameters"].items():
        pattern = spec.get("AllowedPattern")
        if not pattern:
            continue
        items = str(values[name]).split(",") if spec["Type"] == "CommaDelimitedList" else [str(values[name])]
        for item in items:
            assert re.fullmatch(pattern, item), f"{name}: {item!r} does not match {pattern}"


def _rules_hold(params: dict[str, Any]) -> bool:
    """CloudFormation's Rules: each rule whose RuleCondition holds (or that has none) must have every
    assertion hold, or the stack is refused before anything is created."""
    return all(
        resolve(assertion["Assert"], params)
        for rule in template()["Rules"].values()
        if resolve(rule.get("RuleCondition", True), params)
        for assertion in rule["Assertions"]
    )


SECRET = REQUIRED_PARAMETER_VALUES["DbSecretArn"]
COMMAND = "npx prisma migrate deploy"


@pytest.mark.parametrize(
    ("instance", "cluster", "command", "secret", "valid"),
    [
        ("app-db", "", COMMAND, SECRET, True),
        ("", "app-aurora", COMMAND, SECRET, True),
        ("", "", "", "", True),  # a service without a database
        ("app-db", "app-aurora", COMMAND, SECRET, False),
        ("", "", COMMAND, SECRET, False),  # a migration with no database to back up or verify
        ("app-db", "", "", SECRET, False),  # a database nothing migrates
        ("app-db", "", COMMAND, "", False),  # a database the verification cannot read
    ],
)
def test_the_rules_allow_one_database_with_its_migration_or_none_without(
    instance: str, cluster: str, command: str, secret: str, valid: bool
) -> None:
    params = parameter_values(
        DbInstanceIdentifier=instance, DbClusterIdentifier=cluster, MigrationCommand=command, DbSecretArn=secret
    )
    assert _rules_hold(params) is valid
    # What the Rules let through, the functions' settings accept, and the other way round.
    given = {"DbInstanceIdentifier": instance, "DbClusterIdentifier": cluster, "MigrationCommand": command}
    if valid:
        _settings_from_template(**given, DbSecretArn=secret)
    else:
        with pytest.raises(ValueError):
            _settings_from_template(**given, DbSecretArn=secret)


# --------------------------------------------------------------------------------------------------
# Functions and their environment
# --------------------------------------------------------------------------------------------------


def test_functions_are_the_agreed_ones() -> None:
    assert {name: props.get("Handler") for name, props in functions().items()} == EXPECTED_HANDLERS


@pytest.mark.parametrize("logical_id", sorted(EXPECTED_HANDLERS))
def test_handler_module_exists_and_defines_the_handler(logical_id: str) -> None:
    props = {**global_function(), **functions().get(logical_id, {})}
    handler = props.get("Handler")
    assert handler, f"{logical_id} has no Handler"
    module, _, attribute = str(handler).rpartition(".")
    path = ROOT / str(props["CodeUri"]) / Path(*module.split("."))
    source = path.with_suffix(".py")
    assert source.is_file(), f"{logical_id}: {handler} needs {source.relative_to(ROOT)}"
    names = set()
    for node in ast.parse(source.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ImportFrom):
            names.update(alias.asname or alias.name for alias in node.names)
    assert attribute in names, f"{logical_id}: {source.relative_to(ROOT)} defines no {attribute!r}"


def test_environment_values_are_simple_enough_for_the_local_harness() -> None:
    # Pseudo parameters the harness resolves from the world (emulation/world.py, `_world_values`).
    pseudo = {"AWS::StackName", "AWS::Region", "AWS::AccountId", "AWS::Partition"}
    declared = set(template()["Parameters"]) | set(resources()) | pseudo
    for name, value in environment().items():
        if isinstance(value, str):
            continue
        ref = value.get("Ref") if isinstance(value, dict) else None
        join = value.get("Fn::Join") if isinstance(value, dict) else None
        if ref is None and isinstance(join, list) and len(join) == 2 and join[0] == "," and isinstance(join[1], dict):
            ref = join[1].get("Ref")
        assert isinstance(ref, str), f"{name}: use !Ref X, !Join [',', !Ref X] or a literal, got {value!r}"
        assert ref in declared, f"{name}: !Ref {ref} is neither a parameter nor a resource"


def test_every_environment_variable_is_a_setting_and_every_required_setting_is_set() -> None:
    fields = Settings.model_fields
    names = set(environment())
    unknown = sorted(n for n in names if n.lower() not in fields and not n.startswith("POWERTOOLS_"))
    assert not unknown, f"environment variables that deploy_pipeline.settings.Settings does not read: {unknown}"
    unset = sorted(f.upper() for f, info in fields.items() if info.is_required() and f.upper() not in names)
    assert not unset, f"required settings without an environment variable in Globals: {unset}"


def _settings_from_template(**overrides: str) -> Settings:
    params = {
        **parameter_values(**{"DbInstanceIdentifier": "app-db", **overrides}),
        "DeploymentsTable": "ecs-migrate-deploy-DeploymentsTable-1",
        "OutcomeTopic": "arn:aws:sns:us-east-1:123456789012:ecs-migrate-deploy-OutcomeTopic-1",
    }
    env = {name: resolve(value, params) for name, value in environment().items()}
    return Settings.model_validate({k.lower(): v for k, v in env.items() if k.lower() in Settings.model_fields})


def test_the_default_configuration_is_valid_settings() -> None:
    settings = _settings_from_template()
    assert settings.service_names == ["api", "worker"]
    assert settings.migration_command == ["npx", "prisma", "migrate", "deploy"]


def test_every_allowed_parameter_value_is_valid_settings() -> None:
    declared = template()["Parameters"]
    checked = []
    for value in environment().values():
        param = value.get("Ref") if isinstance(value, dict) else None
        if not isinstance(param, str) or "AllowedValues" not in declared.get(param, {}):
            continue
        for allowed in declared[param]["AllowedValues"]:
            _settings_from_template(**{param: str(allowed)})  # raises if Settings rejects it
        checked.append(param)
    assert set(EXPECTED_ALLOWED_VALUES) <= set(checked)


@pytest.mark.parametrize("logical_id", sorted(EXPECTED_HANDLERS))
def test_each_function_logs_to_its_own_log_group_with_a_retention(logical_id: str) -> None:
    props = functions()[logical_id]
    group = ((props.get("LoggingConfig") or {}).get("LogGroup")) or {}
    assert isinstance(group, dict) and "Ref" in group, f"{logical_id}: LoggingConfig.LogGroup must be a !Ref"
    log_group = resources().get(group["Ref"], {})
    assert log_group.get("Type") == "AWS::Logs::LogGroup", f"{logical_id}: {group['Ref']} is not a log group"
    assert "RetentionInDays" in log_group.get("Properties", {}), f"{group['Ref']} keeps logs forever"
    owners = [n for n, p in functions().items() if (p.get("LoggingConfig") or {}).get("LogGroup") == group]
    assert owners == [logical_id], f"{group['Ref']} is shared by {owners}"


def test_only_the_database_functions_run_in_the_vpc_when_subnets_are_given() -> None:
    in_vpc = {name for name, props in functions().items() if props.get("VpcConfig")}
    assert in_vpc == VPC_FUNCTIONS
    conditions = template()["Conditions"]
    for name in VPC_FUNCTIONS:
        vpc = functions()[name]["VpcConfig"]
        with_subnets = resolve(vpc, parameter_values(), conditions)
        assert with_subnets == {
            "SubnetIds": REQUIRED_PARAMETER_VALUES["VerifySubnetIds"],
            "SecurityGroupIds": REQUIRED_PARAMETER_VALUES["VerifySecurityGroupIds"],
        }
        assert resolve(vpc, parameter_values(VerifySubnetIds="", VerifySecurityGroupIds=""), conditions) is NO_VALUE


DATABASE_ACTIONS = ("rds:", "secretsmanager:", "ecs:RunTask", "logs:GetLogEvents", "logs:FilterLogEvents")


def _conditions(**parameters: str) -> Conditions:
    params, declared = parameter_values(**parameters), template()["Conditions"]
    return tuple(sorted((name, bool(resolve({"Condition": name}, params, declared))) for name in declared))


def test_a_stack_without_a_database_grants_nothing_on_databases_secrets_or_migration_tasks() -> None:
    without = _conditions(MigrationCommand="", DbSecretArn="", VerifySubnetIds="", VerifySecurityGroupIds="")
    with_one = _conditions(DbInstanceIdentifier="app-db")
    assert dict(without)["HasDatabase"] is False and dict(with_one)["HasDatabase"] is True

    def database_actions(conditions: Conditions) -> dict[str, list[str]]:
        return {
            name: sorted(a for a in function_actions(name, conditions) if a.startswith(DATABASE_ACTIONS))
            for name in EXPECTED_HANDLERS
        }

    assert {name: found for name, found in database_actions(without).items() if found} == {}
    granted = {name for name, found in database_actions(with_one).items() if found}
    assert {"StartSnapshotFunction", "CaptureBaselineFunction", "StartMigrationFunction", "VerifyFunction"} <= granted


def test_the_table_has_the_keys_and_ttl_the_code_uses() -> None:
    (deployments,) = resources("AWS::DynamoDB::Table").values()
    props = deployments["Properties"]
    assert {k["AttributeName"]: k["KeyType"] for k in props["KeySchema"]} == {"pk": "HASH", "sk": "RANGE"}
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


# --------------------------------------------------------------------------------------------------
# The state machine
# --------------------------------------------------------------------------------------------------


def _state_machines() -> dict[str, dict[str, Any]]:
    return {name: res["Properties"] for name, res in resources("AWS::Serverless::StateMachine").items()}


def test_every_asl_file_belongs_to_a_state_machine() -> None:
    used = {(ROOT / str(props.get("DefinitionUri"))).resolve() for props in _state_machines().values()}
    assert ASL_PATHS, "no statemachine/*.asl.json"
    for path in ASL_PATHS:
        assert path.resolve() in used, f"{path.relative_to(ROOT)} is not the DefinitionUri of any state machine"


@pytest.mark.parametrize("asl_path", ASL_PATHS, ids=lambda p: p.name)
def test_definition_substitutions_match_the_placeholders(asl_path: Path) -> None:
    machines = [p for p in _state_machines().values() if (ROOT / str(p["DefinitionUri"])).resolve() == asl_path]
    assert machines, f"no state machine uses {asl_path.name}"
    placeholders = set(_PLACEHOLDER.findall(asl_path.read_text(encoding="utf-8")))
    for props in machines:
        substitutions = set(props.get("DefinitionSubstitutions") or {})
        assert not placeholders - substitutions, f"placeholders without a substitution: {placeholders - substitutions}"
        assert not substitutions - placeholders, f"substitutions the ASL never uses: {substitutions - placeholders}"


def test_function_substitutions_point_at_functions_the_machine_may_invoke() -> None:
    for name, props in _state_machines().items():
        invocable = {
            json.dumps(r, sort_keys=True)
            for s in statements_of(props.get("Policies"))
            if "lambda:InvokeFunction" in as_list(s.get("Action"))
            for r in as_list(s.get("Resource"))
        }
        for key, value in (props.get("DefinitionSubstitutions") or {}).items():
            if not key.endswith("FunctionArn"):
                continue
            assert value == {"Fn::GetAtt": [key.removesuffix("Arn"), "Arn"]}, f"{name}: {key} = {value!r}"
            assert key.removesuffix("Arn") in functions(), f"{name}: {key} names no function"
            assert json.dumps(value, sort_keys=True) in invocable, f"{name} may not invoke {key.removesuffix('Arn')}"


def test_execution_data_stays_out_of_the_logs() -> None:
    for name, props in _state_machines().items():
        logging = props.get("Logging") or {}
        assert logging.get("IncludeExecutionData") is False, name
        assert logging.get("Level") == "ALL", name
        assert (props.get("Tracing") or {}).get("Enabled") is True, name


# --------------------------------------------------------------------------------------------------
# IAM: no Resource "*" except for the actions that leave no choice
# --------------------------------------------------------------------------------------------------


def _all_statements() -> Iterator[tuple[str, dict[str, Any]]]:
    for name, res in resources().items():
        props = res.get("Properties") or {}
        kind = res.get("Type")
        if kind in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine"):
            for statement in statements_of(props.get("Policies")):
                yield name, statement
        elif kind == "AWS::IAM::Role":
            for policy in props.get("Policies") or []:
                for statement in document_statements(policy["PolicyDocument"]):
                    yield name, statement
        elif kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for statement in document_statements(props["PolicyDocument"]):
                yield name, statement


def _key_policy_statements() -> Iterator[tuple[str, dict[str, Any]]]:
    """Statements of the KMS key policies, where `Resource: "*"` means the key itself."""
    for name, res in resources("AWS::KMS::Key").items():
        for statement in document_statements(res["Properties"]["KeyPolicy"]):
            yield name, statement


def _wildcard(statement: Mapping[str, Any]) -> bool:
    return any(r == "*" for raw in as_list(statement.get("Resource")) for r in branches(raw))


def test_iam_statements_exist() -> None:
    statements = list(_all_statements())
    owners = {name for name, _ in statements}
    assert set(EXPECTED_HANDLERS) <= owners, f"functions without policies: {set(EXPECTED_HANDLERS) - owners}"


def test_no_wildcard_actions() -> None:
    for owner, statement in _all_statements():
        for action in as_list(statement.get("Action")):
            assert isinstance(action, str) and "*" not in action, f"{owner}: wildcard action {action!r}"
        assert "NotAction" not in statement and "NotResource" not in statement, f"{owner}: {statement}"


def test_resource_star_only_for_actions_without_resource_level_permissions() -> None:
    for owner, statement in _all_statements():
        if not _wildcard(statement):
            continue
        actions = [str(a) for a in as_list(statement.get("Action"))]
        unexpected = sorted(a for a in actions if a not in WILDCARD_RESOURCE_ACTIONS)
        assert not unexpected, (
            f"{owner}: {unexpected} granted on Resource '*': scope them to ARNs, or add them to "
            "WILDCARD_RESOURCE_ACTIONS with the reason they cannot be scoped"
        )
        for action in WILDCARD_NEEDS_CONDITION.intersection(actions):
            assert statement.get("Condition"), f"{owner}: {action} on '*' must be narrowed by a Condition"


def test_every_resource_star_line_is_explained_by_a_comment_above_it() -> None:
    lines = TEMPLATE_PATH.read_text(encoding="utf-8").splitlines()
    wildcard_lines = [i for i, line in enumerate(lines) if _WILDCARD_LINE.match(line)]
    for i in wildcard_lines:
        assert i > 0 and lines[i - 1].strip().startswith("#"), (
            f'template.yaml:{i + 1}: put a comment right above `Resource: "*"` saying which API lacks '
            "resource-level permissions"
        )
    # Every wildcard in the parsed template is written in that greppable form.
    # A statement reused through a YAML alias (`- *find_the_migration_tasks`) is one written line.
    written = {
        id(statement): statement
        for _, statement in _all_statements()
        if _wildcard(statement) and not _from_policy_template(statement)
    }
    inline = len(written) + sum(1 for _, statement in _key_policy_statements() if _wildcard(statement))
    assert inline == len(wildcard_lines), 'write every wildcard resource as its own `Resource: "*"` line'


def _from_policy_template(statement: Mapping[str, Any]) -> bool:
    return any(statement in as_list(t["Definition"].get("Statement")) for t in sam_policy_templates().values())


def test_key_policies_name_their_principals() -> None:
    """The account (delegating to IAM) or a named AWS service held to this account: never anyone."""
    statements = list(_key_policy_statements())
    assert statements, "no KMS key policy"
    for owner, statement in statements:
        principal = statement.get("Principal")
        assert isinstance(principal, dict) and "NotPrincipal" not in statement, f"{owner}: {statement}"
        if "Service" in principal:
            condition = statement.get("Condition") or {}
            assert (condition.get("StringEquals") or {}).get("aws:SourceAccount") == {"Ref": "AWS::AccountId"}, (
                f"{owner}: {principal['Service']} must be held to this account (aws:SourceAccount)"
            )
        else:
            assert principal == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}, owner


# --------------------------------------------------------------------------------------------------
# IAM: dynamodb:LeadingKeys conditions, as the workflow tests evaluate each call (tests/iam_policies.py)
# --------------------------------------------------------------------------------------------------


# One partition key of each kind of item in the deployments table, built by the code that builds them
# (aws/table.py's docstring lists the kinds; a test below keeps this map complete). WAKE#LOCK: the wake-up
# item of a deployment waiting for a lock (its key is the lock's, logic/lock._announce_release).
ITEM_KEYS = {
    "LOCK": table.lock_key("acme", "web"),
    "DEPLOYMENTS": table.deployments_key("acme"),
    "SERVICE": table.current_key("acme", "web"),
    "BASELINE": table.baseline_key("deploy-1"),
    "SUCCEEDED": table.succeeded_key("sha256:" + "a" * 64),
    "WAKE": wakeups._key("arn:aws:ecs:us-east-1:123456789012:task/acme/1")["pk"]["S"],
    "WAKE#LOCK": wakeups._key(table.lock_key("acme", "web"))["pk"]["S"],
    "STOP": stop_requests.stop_key("deploy-1")["pk"]["S"],
}
DYNAMODB_ITEM_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:Query",
)
# Function -> action -> the kinds of item (ITEM_KEYS) it needs, and nothing else; from the code paths.
NEEDED_ITEMS: dict[str, dict[str, set[str]]] = {
    # logic/resolve.require_promoted -> table.succeeded_deployment: a Query on SUCCEEDED#<digest>, in the
    # RequireSucceededIn stack's table (HasRequireSucceededIn), not this stack's.
    "ResolveFunction": {"dynamodb:Query": {"SUCCEEDED"}},
    # logic/lock.acquire: try_acquire_locks (TransactWriteItems of Puts), lock_holder (GetItem) when held;
    # _decide_once_held -> current_requests (GetItem SERVICE#, superseded?); stops.obey (GetItem STOP#)
    # when another deployment holds the lock.
    "AcquireLockFunction": {"dynamodb:PutItem": {"LOCK"}, "dynamodb:GetItem": {"LOCK", "SERVICE", "STOP"}},
    # logic/lock.release -> table.release_lock: a DeleteItem conditional on the owner; then
    # _announce_release -> wakeups.announce (mark_seen, consume: UpdateItem WAKE#<lock key>).
    "ReleaseLockFunction": {"dynamodb:DeleteItem": {"LOCK"}, "dynamodb:UpdateItem": {"WAKE#LOCK"}},
    # logic/snapshot.start obeys a stop itself; the others through pipeline_handler(obeys_stop=True).
    "StartSnapshotFunction": {"dynamodb:GetItem": {"STOP"}},
    "CheckSnapshotFunction": {"dynamodb:GetItem": {"STOP"}},
    "StartMigrationFunction": {"dynamodb:GetItem": {"STOP"}},
    "CheckMigrationFunction": {"dynamodb:GetItem": {"STOP"}},
    "StartRolloutFunction": {"dynamodb:GetItem": {"STOP"}},
    "CheckRolloutFunction": {"dynamodb:GetItem": {"STOP"}},
    # logic/verify.capture_baseline -> table.put_baseline; logic/verify.verify_schema -> table.get_baseline.
    "CaptureBaselineFunction": {"dynamodb:PutItem": {"BASELINE"}},
    "VerifyFunction": {"dynamodb:GetItem": {"BASELINE"}},
    # The rollback never obeys a stop and keeps nothing in the table.
    "StartRollbackFunction": {},
    "CheckRollbackFunction": {},
    # logic/record.record_outcome -> table.put_record (the record; Succeeded: the SUCCEEDED# marker;
    # Succeeded or NoOp: each service's CURRENT item), record_steps_done (GetItem), mark_record_step (UpdateItem).
    "RecordOutcomeFunction": {
        "dynamodb:PutItem": {"DEPLOYMENTS", "SUCCEEDED", "SERVICE"},
        "dynamodb:GetItem": {"DEPLOYMENTS"},
        "dynamodb:UpdateItem": {"DEPLOYMENTS"},
    },
    # logic/wakeups.await_event -> wakeups.register (WaitForLock: under the lock keys); logic/wakeups.notice
    # -> announce (mark_seen, consume). Both on WAKE#*: an event's resource id has no fixed form to narrow
    # Notice's grant by (a task ARN, an ECS deployment id, a snapshot id), so it includes the lock waits'.
    "AwaitEventFunction": {"dynamodb:UpdateItem": {"WAKE", "WAKE#LOCK"}},
    "NoticeFunction": {"dynamodb:UpdateItem": {"WAKE", "WAKE#LOCK"}},
}
# (function, DynamoDB action) granted without a dynamodb:LeadingKeys condition, and why: none. A Scan or
# DescribeTable would have to be listed here (LeadingKeys cannot narrow them; on AWS, ForAllValues with no
# key in the request allows it, while the workflow tests' check refuses it).
UNRESTRICTED_DYNAMODB_GRANTS: dict[tuple[str, str], str] = {}


def test_the_item_keys_cover_every_kind_of_item_in_the_table() -> None:
    documented = set(re.findall(r"^- `([A-Z]+)#", table.__doc__ or "", re.MULTILINE))
    assert documented == {kind.split("#")[0] for kind in ITEM_KEYS}, (
        "aws/table.py's docstring and ITEM_KEYS name different kinds of item"
    )
    assert all(key.startswith(f"{kind}#") for kind, key in ITEM_KEYS.items())
    assert set(NEEDED_ITEMS) == set(EXPECTED_HANDLERS)


def test_every_dynamodb_grant_is_restricted_to_named_items() -> None:
    """Every DynamoDB action a function's role holds is an item action held to partition-key prefixes by
    `ForAllValues:StringLike` on `dynamodb:LeadingKeys`, unless UNRESTRICTED_DYNAMODB_GRANTS says why not."""
    found = []
    for function in EXPECTED_HANDLERS:
        for statement in allow_statements(function):
            actions = [str(a) for a in as_list(statement.get("Action")) if str(a).startswith("dynamodb:")]
            restricted = [a for a in actions if (function, a) not in UNRESTRICTED_DYNAMODB_GRANTS]
            if not restricted:
                continue
            found.append(function)
            where = f"{function} ({statement.get('Sid')})"
            assert set(restricted) <= set(DYNAMODB_ITEM_ACTIONS), (
                f"{where}: {sorted(set(restricted) - set(DYNAMODB_ITEM_ACTIONS))} cannot be narrowed by "
                "dynamodb:LeadingKeys: list it in UNRESTRICTED_DYNAMODB_GRANTS with the reason it is needed"
            )
            tests = leading_key_tests(statement)
            assert [operator for operator, _ in tests] == ["ForAllValues:StringLike"], f"{where}: {tests}"
            (patterns,) = [p for _, p in tests]
            assert patterns and all(re.fullmatch(r"(?:[A-Z]+#)+\*", p) for p in patterns), (
                f"{where}: {patterns}: name each kind of item by its prefix (`LOCK#*`)"
            )
    assert set(found) == {f for f, needed in NEEDED_ITEMS.items() if needed}


@pytest.mark.parametrize("function", sorted(NEEDED_ITEMS))
def test_each_function_may_touch_exactly_the_items_its_code_uses(function: str) -> None:
    """As the workflow tests evaluate each recorded call (`is_granted`), also on the paths they rarely
    take: each function reaches the kinds of item its code reads or writes, with those actions only, and
    nothing when the emulator could not read the key (None)."""
    granted = {
        action: {kind for kind, key in ITEM_KEYS.items() if is_granted(function, action, key)}
        for action in DYNAMODB_ITEM_ACTIONS
    }
    assert {action: kinds for action, kinds in granted.items() if kinds} == NEEDED_ITEMS[function]
    for action in DYNAMODB_ITEM_ACTIONS:
        assert not is_granted(function, action, None), f"{function}: {action} on an unknown key"


def test_leading_keys_conditions_grant_only_the_items_they_name() -> None:
    """A few denials spelled out: the stop-request readers, the wake-up writers, the lock takers and the
    record writer reach their own items only."""
    assert is_granted("CheckSnapshotFunction", "dynamodb:GetItem", "STOP#deploy-1")
    assert not is_granted("CheckSnapshotFunction", "dynamodb:GetItem", "LOCK#acme/web")
    assert not is_granted("CheckSnapshotFunction", "dynamodb:GetItem", None)
    assert not is_granted("CheckRolloutFunction", "dynamodb:UpdateItem", "LOCK#acme/web")
    assert not is_granted("CheckRolloutFunction", "dynamodb:PutItem", "STOP#deploy-1")  # read only
    for function in ("AwaitEventFunction", "NoticeFunction"):
        assert is_granted(function, "dynamodb:UpdateItem", "WAKE#arn:aws:ecs:us-east-1:123456789012:task/acme/1")
        assert not is_granted(function, "dynamodb:UpdateItem", "LOCK#acme/web"), function
        assert not is_granted(function, "dynamodb:UpdateItem", "STOP#deploy-1"), function
        assert not is_granted(function, "dynamodb:UpdateItem", None), function
    assert is_granted("AcquireLockFunction", "dynamodb:PutItem", "LOCK#acme/web")
    assert not is_granted("AcquireLockFunction", "dynamodb:PutItem", "DEPLOYMENTS#acme")  # a record
    assert not is_granted("AcquireLockFunction", "dynamodb:PutItem", "SERVICE#acme/web")  # read only
    assert not is_granted("AcquireLockFunction", "dynamodb:PutItem", "STOP#deploy-1")
    assert not is_granted("ReleaseLockFunction", "dynamodb:DeleteItem", "DEPLOYMENTS#acme")
    assert is_granted("ReleaseLockFunction", "dynamodb:UpdateItem", "WAKE#LOCK#acme/web")
    assert not is_granted("ReleaseLockFunction", "dynamodb:UpdateItem", "WAKE#arn:aws:ecs:us-east-1:1:task/acme/1")
    assert not is_granted("ReleaseLockFunction", "dynamodb:UpdateItem", "LOCK#acme/web")
    assert is_granted("RecordOutcomeFunction", "dynamodb:UpdateItem", "DEPLOYMENTS#acme")
    assert not is_granted("RecordOutcomeFunction", "dynamodb:UpdateItem", "SERVICE#acme/web")
    assert not is_granted("RecordOutcomeFunction", "dynamodb:PutItem", "LOCK#acme/web")
    assert not is_granted("VerifyFunction", "dynamodb:PutItem", "BASELINE#deploy-1")  # read only
    # Other services' calls carry no key: their statements have no LeadingKeys condition.
    assert is_granted("NoticeFunction", "states:SendTaskSuccess", None)
    # A statement without the condition grants its actions on any key, or none known.
    unconditioned = {"Effect": "Allow", "Action": "dynamodb:GetItem"}
    assert statement_grants(unconditioned, "dynamodb:GetItem", None)
    assert statement_grants(unconditioned, "dynamodb:GetItem", "LOCK#acme/web")


@pytest.mark.parametrize(
    ("operator", "pattern", "key", "matches"),
    [
        ("ForAllValues:StringLike", "STOP#*", "STOP#deploy-1", True),
        ("ForAllValues:StringLike", "STOP#*", "stop#deploy-1", False),  # case-sensitive
        ("ForAllValues:StringLike", "STOP#*", "XSTOP#deploy-1", False),  # the whole key
        ("ForAllValues:StringLike", "WAKE#?", "WAKE#a", True),
        ("ForAllValues:StringLike", "WAKE#?", "WAKE#ab", False),
        ("ForAllValues:StringLike", "STOP#[ab]", "STOP#a", False),  # no character classes in IAM
        ("ForAllValues:StringLike", "STOP#[ab]", "STOP#[ab]", True),
        ("ForAllValues:StringLike", "WAKE#*", "WAKE#two\nlines", True),
        ("StringEquals", "STOP#*", "STOP#deploy-1", False),
        ("ForAllValues:StringEquals", "STOP#*", "STOP#*", True),
    ],
)
def test_leading_keys_are_matched_as_iam_matches_strings(operator: str, pattern: str, key: str, matches: bool) -> None:
    assert leading_key_matches(operator, pattern, key) is matches


def test_a_leading_keys_condition_the_check_cannot_evaluate_fails_it() -> None:
    statement = {
        "Effect": "Allow",
        "Action": "dynamodb:GetItem",
        "Condition": {"ForAnyValue:StringNotLike": {"dynamodb:LeadingKeys": ["LOCK#*"]}},
    }
    with pytest.raises(AssertionError, match="not evaluated"):
        statement_grants(statement, "dynamodb:GetItem", "STOP#deploy-1")
