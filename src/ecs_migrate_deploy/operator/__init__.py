"""The operator commands (`start`, `watch`, `status`, `history`, `rollback`, `promote`, `logs`, `lock`,
`pause`, `resume`) against a deployed stack.

Real AWS APIs through boto3 (standard credential chain, `--region` / `--profile`); the stack's outputs
say where its state machine, table and topic are. Never imported by a Lambda.
"""


class OperatorError(Exception):
    """Something the person can fix (a missing stack, an invalid option): printed, exit code 2."""
