"""Python source: module scope (imports, constants) and URL values of expressions, via `ast`."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .urls import Arg, Hole, Ref, Template, concat

_MAX_DEPTH = 24


def import_spec(level: int, module: str | None) -> str:
    return "." * level + (module or "")


@dataclass
class Context:
    """Names visible inside one function: its parameters (as Args) and local assignments."""

    params: dict[str, Arg] = field(default_factory=dict)
    local: dict[str, ast.expr] = field(default_factory=dict)
    active: set[str] = field(default_factory=set)  # names being evaluated: no self-loops

    def lookup(self, scope: ModuleScope, name: str, depth: int) -> Template | None:
        if name in self.active:
            return None
        self.active.add(name)
        try:
            return scope.value(self.local[name], self, depth + 1)
        finally:
            self.active.discard(name)


class ModuleScope:
    def __init__(self, tree: ast.Module) -> None:
        self.imports: dict[str, Ref] = {}
        self.modules: dict[str, str] = {}  # local name -> library ("requests", "httpx.Client")
        self.consts: dict[str, ast.expr] = {}
        for node in tree.body:
            self._top(node)
        for inner in ast.walk(tree):  # imports inside functions (Flask app factories)
            if isinstance(inner, ast.Import | ast.ImportFrom) and inner not in tree.body:
                before = dict(self.imports)
                self._top(inner)
                self.imports.update(before)

    def _top(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                self.modules[local] = alias.name if alias.asname else alias.name.split(".")[0]
                self.imports[local] = Ref(alias.name if alias.asname else local, "")
        elif isinstance(node, ast.ImportFrom):
            spec = import_spec(node.level, node.module)
            for alias in node.names:
                local = alias.asname or alias.name
                self.imports[local] = Ref(spec, alias.name)
                if node.level == 0 and node.module:
                    self.modules[local] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            if isinstance(node.targets[0], ast.Name):
                self.consts[node.targets[0].id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            self.consts[node.target.id] = node.value
        elif isinstance(node, ast.If | ast.Try):
            for child in node.body:
                self._top(child)

    def library(self, node: ast.expr) -> str:
        """`requests.get` -> "requests.get"; `httpx.AsyncClient` -> "httpx.AsyncClient"."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name) or node.id not in self.modules:
            return ""
        return ".".join([self.modules[node.id], *reversed(parts)])

    def symbol(self, node: ast.expr) -> str | Ref | None:
        """A name or dotted attribute: a local name (str) or something imported (Ref)."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        attrs = list(reversed(parts))
        if node.id in self.imports:
            ref = self.imports[node.id]
            name = ".".join(p for p in [ref.name, *attrs] if p)
            return Ref(ref.module, name)
        return ".".join([node.id, *attrs])

    def value(
        self, node: ast.expr | None, ctx: Context | None = None, depth: int = 0
    ) -> Template | None:
        """The expression as a URL template, or None when nothing of it is known."""
        if node is None or depth > _MAX_DEPTH:
            return None
        ctx = ctx or Context()
        if isinstance(node, ast.Constant):
            return (node.value,) if isinstance(node.value, str) else None
        if isinstance(node, ast.JoinedStr):
            parts: list[Template] = []
            for item in node.values:
                if isinstance(item, ast.FormattedValue):
                    parts.append(
                        self.value(item.value, ctx, depth + 1) or (Hole(_name(item.value)),)
                    )
                else:
                    parts.append(self.value(item, ctx, depth + 1) or ())
            return concat(*parts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left = self.value(node.left, ctx, depth + 1)
            right = self.value(node.right, ctx, depth + 1)
            if left is None and right is None:
                return None
            return concat(left or (Hole(_name(node.left)),), right or (Hole(_name(node.right)),))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
            left = self.value(node.left, ctx, depth + 1)
            if left and len(left) == 1 and isinstance(left[0], str):
                chunks = left[0].replace("%%", "%").split("%")
                out: list[Template] = [(chunks[0],)]
                for chunk in chunks[1:]:
                    out.append((Hole(""), chunk[1:]))
                return concat(*out)
            return left
        if isinstance(node, ast.Call):
            return self._call_value(node, ctx, depth)
        if isinstance(node, ast.Name):
            if node.id in ctx.params:
                return (ctx.params[node.id],)
            if node.id in ctx.local:
                return ctx.lookup(self, node.id, depth)
            if node.id in self.consts:
                return self.value(self.consts[node.id], Context(), depth + 1)
            if node.id in self.imports:
                ref = self.imports[node.id]
                return (Ref(ref.module, ref.name or node.id),)
            return None
        if isinstance(node, ast.Attribute):
            sym = self.symbol(node)
            if isinstance(sym, Ref) and sym.name:
                return (sym,)
            if isinstance(sym, str) and sym in ctx.local:
                return ctx.lookup(self, sym, depth)
        return None

    def _call_value(self, node: ast.Call, ctx: Context, depth: int) -> Template | None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "format":
            template = self.value(func.value, ctx, depth + 1)
            if template and len(template) == 1 and isinstance(template[0], str):
                return _format(template[0], [self.value(a, ctx, depth + 1) for a in node.args])
            return None
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name == "urljoin" and len(node.args) == 2:
            base = self.value(node.args[0], ctx, depth + 1) or (Hole("base"),)
            path = self.value(node.args[1], ctx, depth + 1) or (Hole(_name(node.args[1])),)
            return concat(base, path)
        if name in ("str", "rstrip", "strip") and isinstance(func, ast.Name | ast.Attribute):
            target = (
                node.args[0]
                if isinstance(func, ast.Name) and node.args
                else getattr(func, "value", None)
            )
            return self.value(target, ctx, depth + 1)
        return None


def _format(text: str, args: list[Template | None]) -> Template:
    out: list[Template] = []
    index = 0
    rest = text
    while "{" in rest and "}" in rest:
        before, _, after = rest.partition("{")
        inner, _, rest = after.partition("}")
        out.append((before,))
        arg = args[index] if not inner and index < len(args) else None
        index += 0 if inner else 1
        out.append(arg or (Hole(inner),))
    out.append((rest,))
    return concat(*out)


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def function_context(func: ast.FunctionDef | ast.AsyncFunctionDef) -> Context:
    names = [a.arg for a in (*func.args.posonlyargs, *func.args.args)]
    if names and names[0] in ("self", "cls"):
        names = names[1:]
    params = {name: Arg(i, name=name) for i, name in enumerate(names)}
    params.update({a.arg: Arg(-1, a.arg, name=a.arg) for a in func.args.kwonlyargs})
    local: dict[str, ast.expr] = {}
    for node in ast.walk(func):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id not in params:
                local[target.id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            local[node.target.id] = node.value
    return Context(params, local)
