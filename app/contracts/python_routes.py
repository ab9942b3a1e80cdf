"""FastAPI and Flask routes of one Python module: routers, decorators, include/register prefixes."""

from __future__ import annotations

import ast
from typing import Any

from .facts import FileFacts, MountDecl, RouteDecl, RouterDecl, RouterRef
from .flask_restful import resource_methods
from .python_index import Index
from .python_values import Context, ModuleScope, function_context
from .urls import Hole, Ref, Template

_ROOTS = {"FastAPI": "fastapi", "Flask": "flask", "Quart": "flask"}
_ROUTERS = {"APIRouter": "fastapi", "Blueprint": "flask"}
_METHOD_DECORATORS = ("get", "post", "put", "patch", "delete", "head", "options")


def _router_framework(kind: str) -> str:
    """Framework of a router class; subclasses are named for their base in real code
    (`PrefectRouter`, `AirflowRouter`, cadwyn's `VersionedAPIRouter`, `ApiBlueprint`)."""
    if kind in _ROUTERS:
        return _ROUTERS[kind]
    if kind.endswith("Router"):
        return "fastapi"
    return "flask" if kind.endswith("Blueprint") else ""


def _callee_name(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _kwarg(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _methods(node: ast.expr | None, default: str) -> list[str]:
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        found = [
            e.value.upper()
            for e in node.elts
            if isinstance(e, ast.Constant) and isinstance(e.value, str)
        ]
        return found or ["*"]
    return [default] if node is None else ["*"]


def extract_routes(tree: ast.Module, scope: ModuleScope, facts: FileFacts, idx: Index) -> None:
    routers: dict[str, str] = {}  # local name -> framework
    for node in idx.assigns:
        if isinstance(node.value, ast.Call):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            name = scope.symbol(target) if isinstance(target, ast.Name | ast.Attribute) else None
            kind = _callee_name(node.value.func)
            framework = _ROOTS.get(kind) or _router_framework(kind)
            if isinstance(name, str) and framework:
                routers[name] = framework
                pre = _kwarg(node.value, "url_prefix" if framework == "flask" else "prefix")
                facts.routers.append(
                    RouterDecl(
                        name,
                        kind in _ROOTS,
                        _path(scope, pre) if pre else (),
                        node.lineno,
                        routers[name],
                    )
                )
    _restful_apis(idx, scope, routers, facts)
    resources = resource_methods(tree)  # Flask-RESTful/MethodView classes: their methods
    framework = next(iter(routers.values()), "")
    if not framework:
        framework = "flask" if "flask" in str(scope.modules.values()) else "fastapi"
    for name in routers:
        facts.exports[name] = RouterRef(name)
    for name, methods in resources.items():  # for modules that add_resource() it
        if methods != ["*"]:
            facts.exports[f"{name}#methods"] = tuple(methods)
    for name in scope.functions:  # blueprint factories: `def create_blueprint(): ... return bp`
        returned = _factory_router(scope, name, routers)
        if returned is not None:
            facts.exports[name] = RouterRef(returned)

    decorators = {id(d) for func in idx.funcs for d in func.decorator_list}
    for func in idx.funcs:
        for deco in func.decorator_list:
            _decorator(deco, scope, routers, framework, facts)
    contexts: dict[int, Context] = {}
    for call, within in idx.calls:
        if id(call) in decorators:
            continue
        ctx = None
        if within is not None:  # `route = '/api/x'` in the function, reassigned as it goes
            if id(within) not in contexts:
                contexts[id(within)] = function_context(within, idx.assigns_in[id(within)])
            ctx = contexts[id(within)]
            ctx.at = call.lineno
        if isinstance(call.func, ast.Attribute):
            owner = _param_router(call.func.value, within, routers, framework, facts)
            _call(call, scope, routers, framework, facts, resources, ctx, owner)
        _passes_router(call, scope, routers, facts)


def _param_router(
    node: ast.expr, within: Any, routers: dict[str, str], framework: str, facts: FileFacts
) -> str | None:
    """`def create_routes(api): api.add_resource(..)`: the router is the caller's, named for the
    function and the argument's position (`create_routes#0`) until a call passes one in."""
    if within is None or not isinstance(node, ast.Name) or node.id in routers:
        return None
    names = [a.arg for a in (*within.args.posonlyargs, *within.args.args)]
    if node.id not in names:
        return None
    name = f"{within.name}#{names.index(node.id)}"
    if name not in routers:
        routers[name] = framework
        facts.routers.append(RouterDecl(name, False, (), within.lineno, framework))
        facts.exports[name] = RouterRef(name)
    return name


def _passes_router(
    call: ast.Call, scope: ModuleScope, routers: dict[str, str], facts: FileFacts
) -> None:
    """`create_routes(api)`: the routes that function adds to its argument are `api`'s."""
    target = scope.symbol(call.func)
    for index, arg in enumerate(call.args):
        if not (isinstance(arg, ast.Name) and arg.id in routers and "#" not in arg.id):
            continue
        if isinstance(target, str) and target in scope.functions:
            facts.mounts.append(MountDecl(arg.id, (), f"{target}#{index}", call.lineno))
        elif isinstance(target, Ref) and target.name:
            child = Ref(target.module, f"{target.name}#{index}")
            facts.mounts.append(MountDecl(arg.id, (), child, call.lineno))


def _factory_router(scope: ModuleScope, name: str, routers: dict[str, str]) -> str | None:
    """The router a module function of this file makes and returns."""
    returned = scope.returned(name, None, 0) if name in scope.functions else None
    if isinstance(returned, ast.Name) and returned.id in routers:
        return returned.id
    return None


def _owner(node: ast.expr, scope: ModuleScope, routers: dict[str, str]) -> str | Ref | None:
    sym = scope.symbol(node)
    if isinstance(sym, str) and sym in routers:
        return sym
    return sym if isinstance(sym, Ref) else None


def _path(scope: ModuleScope, node: ast.expr | None, ctx: Context | None = None) -> Template:
    return scope.value(node, ctx) or (Hole("path"),)


def _decorator(
    deco: ast.expr, scope: ModuleScope, routers: dict[str, str], framework: str, facts: FileFacts
) -> None:
    if not isinstance(deco, ast.Call) or not isinstance(deco.func, ast.Attribute):
        return
    verb = deco.func.attr
    owner = _owner(deco.func.value, scope, routers)
    if owner is None or not (deco.args or _kwarg(deco, "path") or _kwarg(deco, "rule")):
        return
    path_node = deco.args[0] if deco.args else _kwarg(deco, "path") or _kwarg(deco, "rule")
    source = routers.get(owner, framework) if isinstance(owner, str) else framework
    if verb in _METHOD_DECORATORS:
        methods = [verb.upper()]
    elif verb == "api_route" or verb == "route":
        methods = _methods(_kwarg(deco, "methods"), "GET")
    else:
        return
    for method in methods:
        facts.routes.append(RouteDecl(owner, method, _path(scope, path_node), deco.lineno, source))


def _call(
    node: ast.Call,
    scope: ModuleScope,
    routers: dict[str, str],
    framework: str,
    facts: FileFacts,
    resources: dict[str, list[str]],
    ctx: Context | None = None,
    param_owner: str | None = None,
) -> None:
    attr = node.func.attr  # type: ignore[attr-defined]
    owner = param_owner or _owner(node.func.value, scope, routers)  # type: ignore[attr-defined]
    if owner is None:  # a router of this module, or one imported
        return
    if attr in ("include_router", "register_blueprint", "mount") and node.args:
        child_node = node.args[1] if attr == "mount" and len(node.args) > 1 else node.args[0]
        if attr == "mount":
            pre: ast.expr | None = node.args[0] if len(node.args) > 1 else _kwarg(node, "path")
        else:
            pre = _kwarg(node, "prefix" if attr == "include_router" else "url_prefix")
        child = scope.symbol(child_node)
        if isinstance(child_node, ast.Call):  # `register_blueprint(create_blueprint())`
            factory = scope.symbol(child_node.func)
            child = (
                _factory_router(scope, factory, routers) if isinstance(factory, str) else factory
            )
        if child is None:
            return
        facts.mounts.append(
            MountDecl(
                owner,
                _path(scope, pre, ctx) if pre else (),
                child,
                node.lineno,
                replaces_prefix=attr == "register_blueprint" and pre is not None,
            )
        )
    elif attr == "add_resource" and len(node.args) >= 2:  # Flask-RESTful: methods of the class
        resource = node.args[0].id if isinstance(node.args[0], ast.Name) else ""
        imported = scope.symbol(node.args[0]) if resource not in resources else None
        for path_arg in node.args[1:]:
            path = _path(scope, path_arg, ctx)
            if isinstance(imported, Ref):  # its methods are known where the class is
                where = Ref(imported.module, f"{imported.name}#methods")
                facts.routes.append(RouteDecl(owner, "*", path, node.lineno, "flask", where))
                continue
            for method in resources.get(resource, ["*"]):
                facts.routes.append(RouteDecl(owner, method, path, node.lineno, "flask"))
    elif attr in ("add_url_rule", "add_api_route") and (node.args or _kwarg(node, "rule")):
        path_node = node.args[0] if node.args else _kwarg(node, "rule")
        for method in _methods(_kwarg(node, "methods"), "GET"):
            facts.routes.append(
                RouteDecl(
                    owner,
                    method,
                    _path(scope, path_node, ctx),
                    node.lineno,
                    routers.get(owner, framework) if isinstance(owner, str) else framework,
                )
            )


def _restful_apis(
    idx: Index, scope: ModuleScope, routers: dict[str, str], facts: FileFacts
) -> None:
    """`api = Api(app, prefix='/v1')` (Flask-RESTful): a router mounted on the app/blueprint."""
    for node in idx.assigns:
        if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
            continue
        target = scope.symbol(node.targets[0]) if len(node.targets) == 1 else None
        if _callee_name(node.value.func) != "Api" or not isinstance(target, str):
            continue
        routers[target] = "flask"
        pre = _kwarg(node.value, "prefix")
        facts.routers.append(
            RouterDecl(target, False, _path(scope, pre) if pre else (), node.lineno, "flask")
        )
        parent = scope.symbol(node.value.args[0]) if node.value.args else None
        if parent is not None:
            facts.mounts.append(MountDecl(parent, (), target, node.lineno))
