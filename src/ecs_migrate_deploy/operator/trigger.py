"""`pause` / `resume`: disable and enable the stack's trigger rule (output `TriggerRuleName`), the
EventBridge rule that starts an execution on each matching ECR push.

While it is disabled, pushes start nothing (EventBridge does not queue them for later: a push made
while paused is not deployed on `resume`; `start --tag` deploys it). Manual starts, rollbacks and
promotions still run: pausing stops the automatic path only, unlike `lock`, which holds a service
against every deployment.
"""

from __future__ import annotations

from typing import Literal

from botocore.exceptions import ClientError

from ecs_migrate_deploy.operator import OperatorError
from ecs_migrate_deploy.operator.stack import Operator

TriggerState = Literal["enabled", "paused"]


def rule_name(operator: Operator) -> str:
    name = operator.stack.trigger_rule_name
    if not name:
        raise OperatorError(
            f"stack {operator.stack.name!r} has no output TriggerRuleName: deploy this version of the template"
        )
    return name


def trigger_state(operator: Operator) -> TriggerState:
    """What the rule's State says (EventBridge: ENABLED, DISABLED)."""
    state = operator.client("events").describe_rule(Name=rule_name(operator))["State"]
    return "enabled" if state == "ENABLED" else "paused"


def shown_state(operator: Operator) -> str:
    """For `status`: the state, or why it is not known, without failing the rest of the status (an
    older stack has no output; a policy may not grant events:DescribeRule)."""
    if not operator.stack.trigger_rule_name:
        return "unknown (no TriggerRuleName output)"
    try:
        return trigger_state(operator)
    except ClientError as exc:
        return f"unknown ({exc.response.get('Error', {}).get('Code', 'error')})"


def set_trigger(operator: Operator, state: TriggerState) -> bool:
    """Put the rule in `state`; False when it already was (so running it twice is harmless)."""
    if trigger_state(operator) == state:
        return False
    events = operator.client("events")
    if state == "paused":
        events.disable_rule(Name=rule_name(operator))
    else:
        events.enable_rule(Name=rule_name(operator))
    return True
