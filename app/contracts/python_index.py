"""One pass over a Python module's syntax tree: every node the readers need, grouped by kind
and by the functions that enclose it. Everything else reads these lists, never the tree again."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

Func = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass
class Index:
    imports: list[ast.Import | ast.ImportFrom] = field(default_factory=list)  # nested ones too
    assigns: list[ast.Assign | ast.AnnAssign] = field(default_factory=list)
    withs: list[ast.With | ast.AsyncWith] = field(default_factory=list)
    funcs: list[Func] = field(default_factory=list)
    calls: list[tuple[ast.Call, Func | None]] = field(default_factory=list)  # innermost function
    # per function (by id): the calls and assignments anywhere inside it, nested ones included
    calls_in: dict[int, list[ast.Call]] = field(default_factory=dict)
    assigns_in: dict[int, list[ast.Assign | ast.AnnAssign]] = field(default_factory=dict)


def index(tree: ast.Module) -> Index:
    out = Index()
    stack: list[tuple[ast.AST, tuple[Func, ...]]] = [(tree, ())]
    while stack:
        node, funcs = stack.pop()
        if isinstance(node, ast.Call):
            out.calls.append((node, funcs[-1] if funcs else None))
            for func in funcs:
                out.calls_in[id(func)].append(node)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            out.assigns.append(node)
            for func in funcs:
                out.assigns_in[id(func)].append(node)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            out.funcs.append(node)
            out.calls_in[id(node)] = []
            out.assigns_in[id(node)] = []
            funcs = (*funcs, node)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            out.imports.append(node)
        elif isinstance(node, ast.With | ast.AsyncWith):
            out.withs.append(node)
        children = list(ast.iter_child_nodes(node))
        stack.extend((child, funcs) for child in reversed(children))
    return out
