"""FastAPI and Flask routes of one Python module: routers, decorators, include/register prefixes."""

from __future__ import annotations

import ast

from .facts import FileFacts, MountDecl, RouteDecl, RouterDecl, RouterRef
from .python_values import ModuleScope
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


def extract_routes(tree: ast.Module, scope: ModuleScope, facts: FileFacts) -> None:
    routers: dict[str, str] = {}  # local name -> framework
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Call):
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
    _restful_apis(tree, scope, routers, facts)
    # Flask-RESTful/MethodView classes: the HTTP methods they define
    resources = {
        cls.name: [
            f.name.upper()
            for f in cls.body
            if isinstance(f, ast.FunctionDef) and f.name in _METHOD_DECORATORS
        ]
        or ["*"]
        for cls in tree.body
        if isinstance(cls, ast.ClassDef)
    }
    framework = next(iter(routers.values()), "")
    if not framework:
        framework = "flask" if "flask" in str(scope.modules.values()) else "fastapi"
    for name in routers:
        facts.exports[name] = RouterRef(name)

    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for deco in node.decorator_list:
                _decorator(deco, scope, routers, framework, facts)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            _call(node, scope, routers, framework, facts, resources)


def _owner(node: ast.expr, scope: ModuleScope, routers: dict[str, str]) -> str | Ref | None:
    sym = scope.symbol(node)
    if isinstance(sym, str) and sym in routers:
        return sym
    return sym if isinstance(sym, Ref) else None


def _path(scope: ModuleScope, node: ast.expr | None) -> Template:
    return scope.value(node) or (Hole("path"),)


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
) -> None:
    attr = node.func.attr  # type: ignore[attr-defined]
    owner = _owner(node.func.value, scope, routers)  # type: ignore[attr-defined]
    if not isinstance(owner, str):
        return
    if attr in ("include_router", "register_blueprint", "mount") and node.args:
        child_node = node.args[1] if attr == "mount" and len(node.args) > 1 else node.args[0]
        if attr == "mount":
            pre: ast.expr | None = node.args[0] if len(node.args) > 1 else _kwarg(node, "path")
        else:
            pre = _kwarg(node, "prefix" if attr == "include_router" else "url_prefix")
        child = scope.symbol(child_node)
        if child is None:
            return
        facts.mounts.append(
            MountDecl(
                owner,
                _path(scope, pre) if pre else (),
                child,
                node.lineno,
                replaces_prefix=attr == "register_blueprint" and pre is not None,
            )
        )
    elif attr == "add_resource" and len(node.args) >= 2:  # Flask-RESTful: methods of the class
        resource = node.args[0].id if isinstance(node.args[0], ast.Name) else ""
        for path_arg in node.args[1:]:
            for method in resources.get(resource, ["*"]):
                facts.routes.append(
                    RouteDecl(owner, method, _path(scope, path_arg), node.lineno, "flask")
                )
    elif attr in ("add_url_rule", "add_api_route") and (node.args or _kwarg(node, "rule")):
        path_node = node.args[0] if node.args else _kwarg(node, "rule")
        for method in _methods(_kwarg(node, "methods"), "GET"):
            facts.routes.append(
                RouteDecl(
                    owner,
                    method,
                    _path(scope, path_node),
                    node.lineno,
                    routers.get(owner, framework),
                )
            )


def _restful_apis(
    tree: ast.Module, scope: ModuleScope, routers: dict[str, str], facts: FileFacts
) -> None:
    """`api = Api(app, prefix='/v1')` (Flask-RESTful): a router mounted on the app/blueprint."""
    for node in ast.walk(tree):
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
