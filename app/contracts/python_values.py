"""Python source: module scope (imports, constants) and URL values of expressions, via `ast`."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from .facts import Obj
from .urls import Arg, Hole, Ref, Template, choice, concat

_MAX_DEPTH = 24
# Calls that read configuration with a default: the default is the value we can know.
_ENV_READERS = ("os.environ.get", "os.getenv", "environ.get", "getenv", "os.environ.setdefault")
_FIELD_FACTORIES = ("Field", "field")  # pydantic / dataclasses: `Field(default="/api")`


def import_spec(level: int, module: str | None) -> str:
    return "." * level + (module or "")


@dataclass
class Context:
    """Names visible inside one function: its parameters (as Args) and local assignments."""

    params: dict[str, Arg] = field(default_factory=dict)
    local: dict[str, list[ast.expr]] = field(default_factory=dict)  # every value assigned
    active: set[str] = field(default_factory=set)  # names being evaluated: no self-loops
    where: dict[int, tuple[int, bool]] = field(default_factory=dict)  # value -> (line, top level)
    at: int = 0  # the line being read: a value assigned again later does not reach it

    def reaching(self, name: str) -> list[ast.expr]:
        """The values of `name` that reach line `at`: the last one assigned at the function's top
        level before it, and those assigned in branches since; all of them when none is before."""
        values = self.local[name]
        before = [v for v in values if 0 < self.where.get(id(v), (0, False))[0] < self.at]
        tops = [i for i, v in enumerate(before) if self.where[id(v)][1]]
        return before[tops[-1] :] if tops else values

    def lookup(self, scope: ModuleScope, name: str, depth: int) -> Template | None:
        if name in self.active:
            return None
        self.active.add(name)
        try:
            values = [scope.value(v, self, depth + 1) for v in self.reaching(name)[:8]]
            if len(values) == 1 or all(v is None for v in values):
                return values[0]
            return choice([v if v is not None else (Hole(""),) for v in values])
        finally:
            self.active.discard(name)


class ModuleScope:
    def __init__(self, tree: ast.Module, nested_imports: list[ast.Import | ast.ImportFrom]) -> None:
        self.imports: dict[str, Ref] = {}
        self.modules: dict[str, str] = {}  # local name -> library ("requests", "httpx.Client")
        self.consts: dict[str, ast.expr] = {}
        self.classes: dict[str, ast.ClassDef] = {}
        self.functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self._class_objs: dict[str, Obj | None] = {}
        for node in tree.body:
            self._top(node)
        top = {id(node) for node in tree.body}
        for inner in nested_imports:  # imports inside functions (Flask app factories)
            if id(inner) not in top:
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
        elif isinstance(node, ast.ClassDef):
            self.classes[node.name] = node
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            self.functions[node.name] = node

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
        if isinstance(node, ast.IfExp):  # one call per alternative
            options = [self.value(n, ctx, depth + 1) for n in (node.body, node.orelse)]
            if all(o is None for o in options):
                return None
            return choice([o if o is not None else (Hole(""),) for o in options])
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
            return _member(self.obj(node.value, ctx, depth + 1), node.attr)
        return None

    # -- objects: settings instances, classes, what functions return ---------------------------

    def class_obj(self, name: str) -> Obj | None:
        """Attributes of a class whose defaults are known (`api_prefix: str = "/api"`)."""
        if name not in self._class_objs:
            self._class_objs[name] = None  # recursion guard
            members = []
            for stmt in self.classes[name].body:
                target = (
                    stmt.targets[0]
                    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                    else (stmt.target if isinstance(stmt, ast.AnnAssign) else None)
                )
                if isinstance(target, ast.Name) and isinstance(stmt, ast.Assign | ast.AnnAssign):
                    value = self.value(stmt.value)
                    if value:
                        members.append((target.id, value))
            self._class_objs[name] = Obj(tuple(members)) if members else None
        return self._class_objs[name]

    def returned(self, name: str, ctx: Context | None, depth: int) -> ast.expr | None:
        """The expression a module function returns (its first top-level `return`)."""
        func = self.functions.get(name)
        for stmt in func.body if func is not None else ():
            if isinstance(stmt, ast.Return):
                return stmt.value
        return None

    def obj(self, node: ast.expr | None, ctx: Context | None = None, depth: int = 0) -> Any:
        """What an expression is as an object: an Obj (a class or settings instance), a Ref to
        something imported, or None."""
        if node is None or depth > _MAX_DEPTH:
            return None
        ctx = ctx or Context()
        if isinstance(node, ast.Name):
            name = node.id
            if name in ctx.params:
                return None
            if name in ctx.local and name not in ctx.active:
                ctx.active.add(name)
                try:
                    return self.obj(ctx.local[name][-1], ctx, depth + 1)
                finally:
                    ctx.active.discard(name)
            if name in self.consts:
                return self.obj(self.consts[name], Context(), depth + 1)
            if name in self.classes:
                return self.class_obj(name)
            if name in self.imports:
                ref = self.imports[name]
                return Ref(ref.module, ref.name or name)
            return None
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in self.classes:
                return self.class_obj(func.id)
            if isinstance(func, ast.Name) and func.id in self.functions:
                return self.obj(self.returned(func.id, ctx, depth), Context(), depth + 1)
            target = self.symbol(func)
            if isinstance(target, Ref) and target.name:
                return Ref(target.module, target.name + "()")
            return None
        if isinstance(node, ast.Attribute):
            base = self.obj(node.value, ctx, depth + 1)
            found = _member(base, node.attr)
            if isinstance(base, Obj):
                return base.get(node.attr)
            return found[0] if found else None
        return None

    def _call_value(self, node: ast.Call, ctx: Context, depth: int) -> Template | None:
        func = node.func
        dotted = ast.unparse(func) if isinstance(func, ast.Attribute | ast.Name) else ""
        factory = dotted.rpartition(".")[2] in _FIELD_FACTORIES
        if dotted in _ENV_READERS or factory:
            default = node.args[1] if dotted in _ENV_READERS and len(node.args) > 1 else None
            if factory:
                default = node.args[0] if node.args else None
            default = default or _keyword(node, "default")
            return self.value(default, ctx, depth + 1) if default is not None else None
        if isinstance(func, ast.Name) and func.id in self.functions and not node.args:
            return self.value(self.returned(func.id, ctx, depth), Context(), depth + 1)
        if isinstance(func, ast.Name | ast.Attribute) and not node.args:
            target = self.symbol(func)
            if isinstance(target, Ref) and target.name:  # an imported function's constant
                return (Ref(target.module, target.name + "()"),)
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
            inner = (
                node.args[0]
                if isinstance(func, ast.Name) and node.args
                else getattr(func, "value", None)
            )
            return self.value(inner, ctx, depth + 1)
        return None


def _member(base: Any, attr: str) -> Template | None:
    if isinstance(base, Obj):
        value = base.get(attr)
        return value if isinstance(value, tuple) else None
    if isinstance(base, Ref):
        return (Ref(base.module, f"{base.name}.{attr}" if base.name else attr),)
    return None


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


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


def function_context(
    func: ast.FunctionDef | ast.AsyncFunctionDef, assigns: list[ast.Assign | ast.AnnAssign]
) -> Context:
    """Parameters as Args, and the values assigned anywhere inside (`assigns`, from the index)."""
    names = [a.arg for a in (*func.args.posonlyargs, *func.args.args)]
    if names and names[0] in ("self", "cls"):
        names = names[1:]
    params = {name: Arg(i, name=name) for i, name in enumerate(names)}
    params.update({a.arg: Arg(-1, a.arg, name=a.arg) for a in func.args.kwonlyargs})
    local: dict[str, list[ast.expr]] = {}
    where: dict[int, tuple[int, bool]] = {}
    top = {id(stmt) for stmt in func.body}
    for node in sorted(assigns, key=lambda n: n.lineno):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id not in params:
                local.setdefault(target.id, []).append(node.value)
                where[id(node.value)] = (node.lineno, id(node) in top)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            local.setdefault(node.target.id, []).append(node.value)
            where[id(node.value)] = (node.lineno, id(node) in top)
    return Context(params, local, where=where)
