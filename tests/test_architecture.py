"""The house plan, asserted from the source: floors import only floors below them.

Floors, from the ground up (docs/architecture.md): the base `depinrev` (configuration,
catalogue, quarters, lake format), `chains` (chain access), `indexers` (readers), `warehouse`
(build, audit, reports), `pipelines` (Dagster wiring). On top, the CLI layer
(`depinrev/cli.py` and every package's `commands.py`) may import any floor, and nothing imports
it. The devnet simulator (`devnet/`) is a harness beside the product: it may use the base and
chain access, and no product floor imports it. Every import counts, lazy ones inside functions
too, except in the CLI layer, whose imports are lazy by design.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FLOORS = {"depinrev": 0, "chains": 1, "indexers": 2, "warehouse": 3, "pipelines": 4}
HARNESS = "devnet"
HARNESS_MAY_USE = {"depinrev", "chains"}


def _is_cli(path: Path) -> bool:
    rel = path.relative_to(REPO).as_posix()
    return rel == "depinrev/cli.py" or path.name == "commands.py"


def _module(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every project import in the file, top level or nested."""
    tree = ast.parse(path.read_text(), str(path))
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
    return [(line, m) for line, m in out if m.split(".")[0] in {*FLOORS, HARNESS}]


def _product_files() -> list[Path]:
    return sorted(p for top in [*FLOORS, HARNESS] for p in (REPO / top).rglob("*.py"))


def test_floors_import_only_floors_below_them() -> None:
    wrong: list[str] = []
    for path in _product_files():
        if _is_cli(path):
            continue
        top = path.relative_to(REPO).parts[0]
        for line, module in _imports(path):
            target = module.split(".")[0]
            where = f"{path.relative_to(REPO)}:{line} imports {module}"
            if module == "depinrev.cli" or module.endswith(".commands"):
                wrong.append(f"{where} (the CLI layer is imported by nothing)")
            elif top == HARNESS:
                if target not in HARNESS_MAY_USE | {HARNESS}:
                    wrong.append(f"{where} (the devnet harness uses only {HARNESS_MAY_USE})")
            elif target == HARNESS:
                wrong.append(f"{where} (the product never imports the devnet harness)")
            elif FLOORS[target] > FLOORS[top]:
                wrong.append(f"{where} (floor {top} is below {target})")
    assert not wrong, "imports against the house plan:\n" + "\n".join(wrong)


def test_no_import_cycles_between_modules() -> None:
    modules = {_module(p): p for p in _product_files()}
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        for _, module in _imports(path):
            # `from pkg import name` may name a submodule: count the longest known module
            parts = module.split(".")
            for i in range(len(parts), 0, -1):
                candidate = ".".join(parts[:i])
                if candidate in modules and candidate != name:
                    graph[name].add(candidate)
                    break
    # A package's __init__ re-exporting its modules is not a cycle of logic.
    for name in list(graph):
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".")}
    seen: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        seen[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if seen.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in seen:
                visit(nxt)
        stack.pop()
        seen[node] = 2

    for node in sorted(modules):
        if node not in seen:
            visit(node)
