"""template.yaml's alarms and dashboard read the metrics the code really emits, and can notify."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

from deploy_pipeline.logic.record import phase_seconds
from deploy_pipeline.models.state import Outcome, RecordInput
from static_support import environment, functions, parameter_values, resources, template

from ecs_migrate_deploy.template import resolve
from tests.iam_policies import as_list, statements_of

UNSUCCESSFUL = {"Failed", "RolledBack", "RollbackFailed"}
TOPIC = "arn:aws:sns:us-east-1:123456789012:ecs-migrate-deploy-OutcomeTopic-1"


def _params(**overrides: str) -> dict[str, Any]:
    """Parameter values plus what the Ref/GetAtt of this stack's own resources would give."""
    own = {"OutcomeTopic": TOPIC, "DeployStateMachine": "arn:aws:states:us-east-1:123456789012:stateMachine:deploy"}
    own |= {f"{name}.Arn": f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}" for name in _alarms()}
    own |= {"OutcomeTopicKey.Arn": "arn:aws:kms:us-east-1:123456789012:key/1234"}
    return {**parameter_values(**overrides), **own}


def _alarms() -> dict[str, dict[str, Any]]:
    return {name: res["Properties"] for name, res in resources("AWS::CloudWatch::Alarm").items()}


def _emf() -> tuple[str, str]:
    """(namespace, service) Powertools uses: the functions' environment."""
    return str(environment()["POWERTOOLS_METRICS_NAMESPACE"]), str(environment()["POWERTOOLS_SERVICE_NAME"])


def test_the_unsuccessful_outcomes_are_every_outcome_but_the_successes() -> None:
    assert set(get_args(Outcome)) - {"Succeeded", "NoOp", "DryRun", "Superseded"} == UNSUCCESSFUL


def test_the_failed_deployments_alarm_reads_the_record_functions_metric() -> None:
    namespace, service = _emf()
    alarm = _alarms()["DeploymentsFailedAlarm"]
    stats = [m["MetricStat"] for m in alarm["Metrics"] if "MetricStat" in m]
    outcomes = set()
    for stat in stats:
        metric = stat["Metric"]
        assert (metric["Namespace"], metric["MetricName"], stat["Stat"]) == (namespace, "Deployments", "Sum")
        dimensions = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
        assert set(dimensions) == {"service", "outcome"}  # what Powertools emits: service + our dimension
        assert dimensions["service"] == service
        outcomes.add(dimensions["outcome"])
    assert outcomes == UNSUCCESSFUL
    (expression,) = [m for m in alarm["Metrics"] if m.get("ReturnData")]
    assert all(f"FILL({m['Id']}, 0)" in expression["Expression"] for m in alarm["Metrics"] if "MetricStat" in m)


def test_every_alarm_notifies_the_alarm_topic_or_else_the_outcome_topic() -> None:
    pager = "arn:aws:sns:us-east-1:123456789012:pager"
    for name, alarm in _alarms().items():
        assert "AlarmName" not in alarm, (
            f"{name}: the key policy trusts alarms named <stack>-*, as CloudFormation names them"
        )
        conditions = template()["Conditions"]
        assert resolve(alarm["AlarmActions"], _params(), conditions) == [TOPIC], name
        assert resolve(alarm["AlarmActions"], _params(AlarmTopicArn=pager), conditions) == [pager], name


def test_cloudwatch_may_publish_to_the_encrypted_outcome_topic() -> None:
    (topic,) = resources("AWS::SNS::Topic").values()
    key_id = topic["Properties"]["KmsMasterKeyId"]
    assert key_id == {"Fn::GetAtt": ["OutcomeTopicKey", "Arn"]}
    key = resources("AWS::KMS::Key")["OutcomeTopicKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    (grant,) = [s for s in key["KeyPolicy"]["Statement"] if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert set(grant["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert resolve(grant["Condition"]["ArnLike"]["aws:SourceArn"], _params()) == (
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ecs-migrate-deploy-*"
    )
    # and the Record function, which publishes the outcome message, may use the key
    statements = statements_of(functions()["RecordOutcomeFunction"]["Policies"])
    (kms,) = [s for s in statements if any(str(a).startswith("kms:") for a in as_list(s["Action"]))]
    assert (set(kms["Action"]), kms["Resource"]) == ({"kms:GenerateDataKey", "kms:Decrypt"}, key_id)


def _dashboard() -> dict[str, Any]:
    (dashboard,) = resources("AWS::CloudWatch::Dashboard").values()
    body: dict[str, Any] = json.loads(resolve(dashboard["Properties"]["DashboardBody"], _params()))
    return body


def _expanded(metrics: list[list[Any]]) -> list[list[str]]:
    """CloudWatch's shorthand: "..." repeats the previous row's leading fields, "." one field."""
    rows: list[list[str]] = []
    for raw in metrics:
        row = [v for v in raw if not isinstance(v, dict)]
        if row and row[0] == "...":
            previous = rows[-1]
            row = previous[: len(previous) - len(row) + 1] + row[1:]
        row = [rows[-1][i] if v == "." else v for i, v in enumerate(row)]
        rows.append(row)
    return rows


def test_the_dashboard_shows_outcomes_phase_durations_executions_and_alarms() -> None:
    namespace, service = _emf()
    widgets = {w["properties"]["title"]: w["properties"] for w in _dashboard()["widgets"]}
    outcomes = _expanded(widgets["Deployments by outcome"]["metrics"])
    assert {tuple(row) for row in outcomes} == {
        (namespace, "Deployments", "service", service, "outcome", outcome) for outcome in get_args(Outcome)
    }
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    every_phase = RecordInput.model_validate(
        {
            "execution": {"name": "d", "arn": "a", "started_at": t0},
            "snapshot": {"started_at": t0, "snapshot_id": "s"},
            "migration": {"started_at": t0 + timedelta(1), "task_arn": "t", "task_definition_arn": "td"},
            "rollout": {"started_at": t0 + timedelta(2), "services": []},
            "rollback": {"started_at": t0 + timedelta(3)},
        }
    )
    phases = _expanded(widgets["Phase durations (seconds, average)"]["metrics"])
    assert {tuple(row) for row in phases} == {
        (namespace, "PhaseDuration", "service", service, "phase", phase)
        for phase in phase_seconds(every_phase, t0 + timedelta(4))
    }
    executions = _expanded(widgets["Executions"]["metrics"])
    assert {row[1] for row in executions} >= {"ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsAborted"}
    assert {(row[0], row[2], row[3]) for row in executions} == {
        ("AWS/States", "StateMachineArn", _params()["DeployStateMachine"])
    }
    assert set(widgets["Alarms"]["alarms"]) == {
        f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{n}" for n in _alarms()
    }
