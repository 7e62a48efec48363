"""Nothing from an execution's input can become a shell command or SQL text (a code review, as tests).

- No Lambda module runs a process or a shell: the migration command goes to ECS as an argv list
  (settings.py splits the stack parameter with shlex, test_identifiers.py checks what ECS receives).
- Every query the verifier sends is a module-level constant, values bound as parameters. The one
  deliberate exception is the operator's own assertions (the VerifyAssertions stack parameter), run
  verbatim, one statement each, in a read-only transaction (verify/assertions.py).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from deploy_pipeline.settings import Settings

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions" / "deploy_pipeline"
SOURCES = sorted(FUNCTIONS.rglob("*.py"))

PROCESS_MODULES = {"subprocess", "pty", "pexpect", "sh", "commands", "multiprocessing"}
PROCESS_CALLS = {"system", "popen", "spawnl", "spawnv", "execv", "execvp", "execl", "execlp", "startfile"}
QUERY_METHODS = {"execute", "executemany", "fetch", "fetch_one", "mogrify"}
# (module, function) whose query argument is passed through from a caller checked here.
PASS_THROUGH = {("read_only.py", "fetch"), ("read_only.py", "fetch_one")}
# (module, function) that runs SQL the stack's operator wrote (not the execution's input).
OPERATOR_SQL = {("assertions.py", "run_assertion")}


def parsed() -> Iterator[tuple[Path, ast.Module]]:
    for path in SOURCES:
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def module_constants(tree: ast.Module) -> set[str]:
    """Module-level names bound to a string literal, or a dict/tuple of string literals."""

    def literal(node: ast.expr) -> bool:
        if isinstance(node, ast.Constant):
            return isinstance(node.value, str)
        if isinstance(node, ast.Dict):
            return all(v is not None and literal(v) for v in node.values)
        return isinstance(node, ast.Tuple) and all(literal(e) for e in node.elts)

    names = set()
    for node in tree.body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        value = getattr(node, "value", None)
        if value is not None and literal(value):
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def enclosing_functions(tree: ast.Module) -> dict[ast.AST, ast.FunctionDef]:
    """Each node -> the innermost function around it (ast.walk meets outer functions first)."""
    owners: dict[ast.AST, ast.FunctionDef] = {}
    for function in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
        for node in ast.walk(function):
            if node is not function:
                owners[node] = function
    return owners


def test_no_lambda_module_starts_a_process_or_a_shell() -> None:
    offences = []
    for path, tree in parsed():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                offences += [f"{path.name}: imports {n}" for n in names if n.split(".")[0] in PROCESS_MODULES]
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in PROCESS_CALLS
                and isinstance(node.func.value, ast.Name)
            ):
                offences.append(f"{path.name}:{node.lineno}: {node.func.value.id}.{node.func.attr}()")
            if isinstance(node, ast.keyword) and node.arg == "shell":
                offences.append(f"{path.name}: shell= keyword")
    assert not offences, offences


def test_every_query_is_a_constant_with_bound_parameters() -> None:
    checked, offences = 0, []
    for path, tree in parsed():
        constants = module_constants(tree)
        owners = enclosing_functions(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr not in QUERY_METHODS or not node.args:
                continue
            checked += 1
            query, owner = node.args[0], owners.get(node)
            where = (path.name, owner.name if owner else "<module>")
            if isinstance(query, ast.Subscript):
                query = query.value  # a constant chosen by key, e.g. _START[isolation]
            if isinstance(query, ast.Name) and query.id in constants:
                continue
            parameters = {a.arg for a in owner.args.args} if owner is not None else set()
            if where in PASS_THROUGH and isinstance(query, ast.Name) and query.id in parameters:
                continue
            if where in OPERATOR_SQL:
                continue
            offences.append(f"{path.name}:{node.lineno}: {ast.unparse(node.args[0])}")
    assert checked >= 20, "the scan found almost no queries: has the verifier's API changed?"
    assert not offences, f"SQL built at run time (bind values as parameters instead): {offences}"


@pytest.mark.parametrize(
    ("parameter", "argv"),
    [
        ("npx prisma migrate deploy", ["npx", "prisma", "migrate", "deploy"]),
        ("sh -c 'alembic upgrade head && echo done'", ["sh", "-c", "alembic upgrade head && echo done"]),
        ("migrate ; rm -rf / $(id)", ["migrate", ";", "rm", "-rf", "/", "$(id)"]),
    ],
)
def test_the_migration_command_is_the_stack_parameter_split_into_argv(parameter: str, argv: list[str]) -> None:
    settings = Settings.model_validate(
        {
            "stack_name": "s",
            "cluster_name": "c",
            "service_names": "web",
            "repository_name": "acme/app",
            "migration_container": "app",
            "migration_command": parameter,
            "db_instance_identifier": "db",
            "db_secret_arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
            "verify_subnet_ids": "subnet-0123456789abcdef0",
            "verify_security_group_ids": "sg-0123456789abcdef0",
            "table_name": "t",
            "topic_arn": "arn:aws:sns:us-east-1:123456789012:t",
        }
    )
    assert settings.migration_command == argv
