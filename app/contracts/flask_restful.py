"""Flask-RESTful routes of one Python module: `Api(app_or_blueprint, prefix=)`,
`api.add_resource(Resource, '/path', ...)` with the methods the Resource class defines.

Real apps declare these in three shapes: next to `Api(bp)`; on an `Api` imported from another
module (`from app.user import user_api`); inside a function that takes the `Api` as a parameter
(`def create_routes(api): route = '/api/auth'; api.add_resource(MeAPI, '{}/me'.format(route))`,
`route` reassigned per group). The Resource class may live in another module: its methods are
exported as a member of the class (`ResourceMethods`) and read when files are linked.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from .facts import FileFacts, MountDecl, Obj, RouteDecl, RouterDecl, RouterRef
from .python_index import Index
from .python_values import Context, ModuleScope, function_context
from .urls import Hole, Ref, Template, choice

HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options")
METHODS_MEMBER = "__http_methods__"  # the Obj member of an exported class holding its methods
_RESTFUL_CALLS = ("add_resource", "init_app")
_MAX_STATEMENTS = 5_000  # statements visited per function body when tracking assignments


@dataclass(frozen=True, slots=True)
class ResourceMethods:
    """The HTTP methods a Resource/MethodView class answers (upper case)."""

    methods: tuple[str, ...]


def resource_methods(tree: ast.Module) -> dict[str, tuple[str, ...]]:
    """Module-level classes that define HTTP verb methods, with those of local base classes
    (`class UserAPI(BaseAPI)`)."""
    classes = {c.name: c for c in tree.body if isinstance(c, ast.ClassDef)}
    out: dict[str, tuple[str, ...]] = {}

    def methods(name: str, seen: frozenset[str]) -> list[str]:
        cls = classes[name]
        found = [
            f.name.upper()
            for f in cls.body
            if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef) and f.name in HTTP_VERBS
        ]
        for base in cls.bases:
            if isinstance(base, ast.Name) and base.id in classes and base.id not in seen:
                found += [m for m in methods(base.id, seen | {base.id}) if m not in found]
        return found

    for name in classes:
        found = methods(name, frozenset({name}))
        if found:
            out[name] = tuple(found)
    return out


def export_resources(resources: dict[str, tuple[str, ...]], facts: FileFacts) -> None:
    """Each Resource class's methods as a member of its export, for `add_resource` elsewhere."""
    for name, methods in resources.items():
        current = facts.exports.get(name)
        members = current.members if isinstance(current, Obj) else ()
        if current is None or isinstance(current, Obj):
            facts.exports[name] = Obj((*members, (METHODS_MEMBER, ResourceMethods(methods))))


def declare_apis(idx: Index, scope: ModuleScope, routers: dict[str, str], facts: FileFacts) -> None:
    """`api = Api(app_or_bp, prefix='/v1')`: a router mounted on the app or blueprint."""
    for node in idx.assigns:
        if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
            continue
        target = scope.symbol(node.targets[0]) if len(node.targets) == 1 else None
        func = node.value.func
        kind = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if kind != "Api" or not isinstance(target, str):
            continue
        routers[target] = "flask"
        pre = _kwarg(node.value, "prefix")
        prefix = (scope.value(pre) or (Hole("prefix"),)) if pre is not None else ()
        facts.routers.append(RouterDecl(target, False, prefix, node.lineno, "flask"))
        parent = node.value.args[0] if node.value.args else _kwarg(node.value, "app")
        parent_sym = scope.symbol(parent) if parent is not None else None
        if parent_sym is not None:
            facts.mounts.append(MountDecl(parent_sym, (), target, node.lineno))


def add_resources(
    tree: ast.Module,
    idx: Index,
    scope: ModuleScope,
    routers: dict[str, str],
    facts: FileFacts,
    resources: dict[str, tuple[str, ...]],
) -> None:
    """Every `add_resource` call and `api.init_app(app)` / `create_routes(api)` binding."""
    apis = any(r.source == "flask" and r.name in routers for r in facts.routers)

    def relevant(calls: list[ast.Call]) -> bool:
        return apis or any(
            isinstance(c.func, ast.Attribute) and c.func.attr in _RESTFUL_CALLS for c in calls
        )

    if not relevant([call for call, _ in idx.calls]):
        return
    _Walker(scope, routers, facts, resources, None).block(tree.body, {})
    for func in idx.funcs:
        if relevant(idx.calls_in.get(id(func), [])):
            _Walker(scope, routers, facts, resources, func).block(func.body, {})


class _Walker:
    """Statements of one body in order, so that `route = '/a'; add_resource(R, route)` sees the
    assignment that reaches the call, not every value `route` takes in the function."""

    def __init__(
        self,
        scope: ModuleScope,
        routers: dict[str, str],
        facts: FileFacts,
        resources: dict[str, tuple[str, ...]],
        func: ast.FunctionDef | ast.AsyncFunctionDef | None,
    ) -> None:
        self.scope = scope
        self.routers = routers
        self.facts = facts
        self.resources = resources
        self.func = func
        self.params = function_context(func, []).params if func is not None else {}
        self.budget = _MAX_STATEMENTS

    def block(self, body: list[ast.stmt], env: dict[str, list[ast.expr]]) -> None:
        for stmt in body:
            self.budget -= 1
            if self.budget < 0:
                return
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue  # their own walk
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target = stmt.targets[0]
                if isinstance(target, ast.Name):
                    env[target.id] = [stmt.value]
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                self.call(stmt.value, env)
            nested = [
                getattr(stmt, name)
                for name in ("body", "orelse", "finalbody")
                if isinstance(getattr(stmt, name, None), list)
            ]
            nested += [h.body for h in getattr(stmt, "handlers", ())]
            for child in nested:
                inner = {k: list(v) for k, v in env.items()}
                self.block(child, inner)
                for name, values in inner.items():  # a branch may or may not have run
                    if values != env.get(name):
                        env[name] = list(dict.fromkeys([*env.get(name, []), *values]))[:8]

    def call(self, node: ast.Call, env: dict[str, list[ast.expr]]) -> None:
        func = node.func
        if not isinstance(func, ast.Attribute | ast.Name):
            return
        if isinstance(func, ast.Attribute) and func.attr == "add_resource":
            self.add_resource(node, func, env)
        elif isinstance(func, ast.Attribute) and func.attr == "init_app" and node.args:
            owner = self.scope.symbol(func.value)
            parent = self.scope.symbol(node.args[0])
            is_api = isinstance(owner, str) and self.routers.get(owner) == "flask"
            if is_api and parent and owner not in self.params:
                self.facts.mounts.append(MountDecl(parent, (), owner, node.lineno))
        else:
            self.pass_api(node, func)

    def add_resource(
        self, node: ast.Call, func: ast.Attribute, env: dict[str, list[ast.expr]]
    ) -> None:
        if len(node.args) < 2 or not isinstance(node.args[0], ast.Name | ast.Attribute):
            return  # aiohttp's `router.add_resource('/path')` takes no class
        owner = self.owner(func.value)
        if owner is None:
            return
        cls = self.scope.symbol(node.args[0])
        local = self.resources.get(cls) if isinstance(cls, str) else None
        ctx = Context(dict(self.params), {k: list(v) for k, v in env.items()})
        for path_node in node.args[1:]:
            path = self.path(path_node, ctx)
            if local is not None:
                for method in local:
                    self.facts.routes.append(RouteDecl(owner, method, path, node.lineno, "flask"))
            else:
                resource = (
                    Ref(cls.module, f"{cls.name}.{METHODS_MEMBER}")
                    if isinstance(cls, Ref)
                    else None
                )
                self.facts.routes.append(
                    RouteDecl(owner, "*", path, node.lineno, "flask", resource)
                )

    def path(self, node: ast.expr, ctx: Context) -> Template:
        values = ctx.local.get(node.id) if isinstance(node, ast.Name) else None
        if values is not None and len(values) > 1:
            return choice([self.scope.value(v, ctx) or (Hole(""),) for v in values])
        return self.scope.value(node, ctx) or (Hole("path"),)

    def owner(self, node: ast.expr) -> str | Ref | None:
        """The Api the resource is added to: local, imported, or this function's parameter."""
        if isinstance(node, ast.Name) and node.id in self.params and self.func is not None:
            index = self.params[node.id].index
            name = _param_router(self.func.name, index)
            if name not in self.routers:
                self.routers[name] = "flask"
                self.facts.routers.append(RouterDecl(name, False, (), self.func.lineno, "flask"))
                exported = self.facts.exports.get(self.func.name)
                if exported is None or isinstance(exported, Obj):
                    members = exported.members if isinstance(exported, Obj) else ()
                    self.facts.exports[self.func.name] = Obj(
                        (*members, (f"arg{index}", RouterRef(name)))
                    )
            return name
        sym = self.scope.symbol(node)
        if isinstance(sym, str):
            return sym if sym in self.routers else None
        return sym

    def pass_api(self, node: ast.Call, func: ast.Attribute | ast.Name) -> None:
        """`create_routes(api)`: the function's routes hang under that Api."""
        for index, arg in enumerate(node.args):
            sym = self.scope.symbol(arg)
            if not (isinstance(sym, str) and self.routers.get(sym) == "flask"):
                continue
            callee = self.scope.symbol(func)
            if isinstance(callee, str) and callee in self.scope.functions:
                child: str | Ref = _param_router(callee, index)
            elif isinstance(callee, Ref) and callee.name:
                child = Ref(callee.module, f"{callee.name}.arg{index}")
            else:
                continue
            self.facts.mounts.append(MountDecl(sym, (), child, node.lineno))


def _param_router(func: str, index: int) -> str:
    return f"{func}.arg{index}"


def _kwarg(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)
