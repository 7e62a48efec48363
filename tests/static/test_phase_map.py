"""The map in deploy_pipeline's docstring is true: each phase's ASL states use its functions, each
function's Handler is the phase's handler, each handler calls the phase's logic module, and that
module reaches AWS through the adapters listed. And the layers it describes hold: no module imports
one from a layer above it, and the imports have no cycle."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path

import deploy_pipeline
from static_support import functions

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "functions" / "deploy_pipeline"
ASL = json.loads((ROOT / "statemachine" / "deploy.asl.json").read_text(encoding="utf-8"))
# Lower is deeper: a module may import from its own layer or a deeper one (the docstring's list).
LAYERS = {"handlers": 1, "logic": 2, "aws": 3, "verify": 3, "models": 4, "settings": 4, "errors": 5, "observability": 5}


def rows() -> list[dict[str, list[str]]]:
    lines = [line for line in (deploy_pipeline.__doc__ or "").splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    table = []
    for line in lines[1:]:
        if set(line) <= set("|- "):  # the header's rule
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        table.append({name: [v.strip() for v in cell.split(",")] for name, cell in zip(header, cells, strict=True)})
    return table


def imported(module: str) -> set[str]:
    """The deploy_pipeline modules `module` (dotted, without the package) imports, anywhere in it."""
    path = PACKAGE.joinpath(*module.split("."))
    source = (path / "__init__.py") if path.is_dir() else path.with_suffix(".py")
    found = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("deploy_pipeline"):
            base = node.module.removeprefix("deploy_pipeline").lstrip(".")
            for alias in node.names:
                candidate = f"{base}.{alias.name}" if base else alias.name
                as_module = PACKAGE.joinpath(*candidate.split("."))
                is_module = as_module.with_suffix(".py").is_file() or (as_module / "__init__.py").is_file()
                found.add(candidate if is_module else base)
        elif isinstance(node, ast.Import):
            found |= {
                a.name.removeprefix("deploy_pipeline.") for a in node.names if a.name.startswith("deploy_pipeline.")
            }
    return found


def modules() -> Iterator[str]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts != ("__init__",):
            yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_every_function_is_in_exactly_one_phase_with_its_handler() -> None:
    listed = [
        (function, handler)
        for row in rows()
        for function, handler in zip(row["functions"], row["handlers"], strict=True)
    ]
    handlers = {name: props["Handler"] for name, props in functions().items()}
    assert sorted(function for function, _ in listed) == sorted(handlers)
    for function, handler in listed:
        assert handlers[function] == f"deploy_pipeline.handlers.{handler}", function


def test_every_state_that_runs_a_function_is_in_its_phase() -> None:
    uses = {}
    for name, state in ASL["States"].items():
        found = re.search(r"\$\{(\w+)Arn\}", json.dumps(state.get("Parameters", {})) + state.get("Resource", ""))
        if found:
            uses[name] = found.group(1)
    mapped = {state: row for row in rows() for state in row["ASL states"]}
    assert sorted(mapped) == sorted(uses)
    for state, function in uses.items():
        assert function in mapped[state]["functions"], (state, function)


def test_each_handler_calls_its_phase_s_logic_which_reaches_aws_through_the_listed_adapters() -> None:
    for row in rows():
        (phase,) = row["phase"]
        (logic,) = row["logic"]
        for handler in row["handlers"]:
            module = "handlers." + handler.rsplit(".", 1)[0]
            assert f"logic.{logic}" in imported(module), (phase, module)
        adapters = {m for m in imported(f"logic.{logic}") if m.split(".")[0] in ("aws", "verify")}
        assert {a if a.startswith("aws.") else a.split(".")[0] for a in adapters} == set(row["adapters"]), phase


def test_no_module_imports_from_a_layer_above_it_and_there_is_no_cycle() -> None:
    graph = {module: imported(module) for module in modules()}
    upward = [
        f"{module} -> {target}"
        for module, targets in graph.items()
        for target in targets
        if LAYERS[target.split(".")[0]] < LAYERS[module.split(".")[0]]
    ]
    assert not upward, upward
    # Depth-first search for a cycle (a package's __init__ re-exporting its own modules is not one).
    state: dict[str, int] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in graph.get(module, ()):
            if target.startswith(module + "."):
                continue
            assert state.get(target) != 1, f"import cycle: {' -> '.join([*path, module, target])}"
            if target not in state:
                visit(target, [*path, module])
        state[module] = 2

    for module in graph:
        if module not in state:
            visit(module, [])
