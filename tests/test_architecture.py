"""The layout's rules, checked on the import graph (issue #8).

- `app.service` imports no feature (`app.tickets`, `app.checks`, `app.contracts`, `app.mcp`);
- no import cycle between modules of `app`;
- imports stand at the top of a module (no lazy imports hiding a dependency), except under
  `if TYPE_CHECKING:`.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app"
FEATURES = ("app.tickets", "app.checks", "app.contracts", "app.mcp")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.Module, name: str, is_package: bool) -> list[tuple[str, int, bool]]:
    """(imported module, line, at top level) for every `app` import in the module."""
    top = set(map(id, tree.body))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".") if is_package else name.split(".")[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join([*package, base] if base else package)
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for target in targets:
            if target == "app" or target.startswith("app."):
                found.append((target, node.lineno, id(node) in top))
    return found


def _graph() -> tuple[dict[str, set[str]], list[str]]:
    modules = {_module_name(p): p for p in APP.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    lazy: list[str] = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        type_checking = {
            id(n)
            for node in tree.body
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for n in ast.walk(node)
        }
        for target, line, at_top in _imports(tree, name, path.name == "__init__.py"):
            if target not in modules:
                continue
            if not at_top:
                if not any(  # an import under `if TYPE_CHECKING:` is not a runtime edge
                    isinstance(n, ast.ImportFrom | ast.Import) and n.lineno == line and id(n)
                    in type_checking for n in ast.walk(tree)
                ):
                    lazy.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
                continue
            if target != name:
                graph[name].add(target)
    return graph, lazy


def test_the_service_imports_no_feature() -> None:
    graph, _ = _graph()
    wrong = [
        f"{m} -> {t}"
        for m, targets in graph.items()
        if m.startswith("app.service")
        for t in targets
        if t.startswith(FEATURES)
    ]
    assert wrong == []


def test_no_lazy_imports() -> None:
    _, lazy = _graph()
    assert lazy == []


def test_no_import_cycles() -> None:
    graph, _ = _graph()
    # A package's __init__ importing its own modules is not a cycle through them.
    edges = {
        m: {t for t in ts if not (m == t.rsplit(".", 1)[0] and m in graph)}
        for m, ts in graph.items()
    }
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert cycles == []


def test_the_checks_are_real() -> None:
    """The checks above can fail: a known edge and a known lazy import are seen."""
    tree = ast.parse("def f():\n    from app.tickets import model\n")
    assert _imports(tree, "app.service.x", False) == [
        ("app.tickets", 2, False),
        ("app.tickets.model", 2, False),
    ]
    graph, _ = _graph()
    assert "app.tickets.model" in graph["app.checks.gate"]
