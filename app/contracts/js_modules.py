"""What a JS/TS module offers others: ESM and CommonJS exports, and Express routes and mounts."""

from __future__ import annotations

from typing import Any

from tree_sitter import Node

from .facts import HTTP_METHODS, FileFacts, MountDecl, Obj, RouteDecl, RouterRef
from .js_scope import RouteChain, Scope, declared_names, freeze, import_value
from .js_values import Evaluator
from .urls import Ref, Template

_ROUTE_VERBS = (*HTTP_METHODS, "all")


def collect_exports(
    root: Node, scope: Scope, ev: Evaluator, analyze: Any, facts: FileFacts
) -> None:
    """`export const/function/class`, `export default`, `export {a as b} from`, `export *`,
    `module.exports = ...`, `exports.x = ...`; values frozen (functions become Wrappers)."""
    exports = facts.exports
    stars: list[str] = []
    lines: dict[str, int] = {}

    def value_of(name: str) -> Any:
        return freeze(scope.lookup(name, 0)[1], analyze=analyze)

    for stmt in root.named_children:
        before = set(exports)
        _exports_of(stmt, scope, ev, analyze, exports, stars, value_of)
        for name in set(exports) - before:
            lines[name] = stmt.start_point[0] + 1
    facts.export_names = tuple(lines.items())
    facts.exports = {k: v for k, v in exports.items() if v is not None}
    facts.star_exports = tuple(stars)


def _exports_of(
    stmt: Node,
    scope: Scope,
    ev: Evaluator,
    analyze: Any,
    exports: dict[str, Any],
    stars: list[str],
    value_of: Any,
) -> None:
    if stmt.type == "expression_statement" and stmt.named_children:
        expr = stmt.named_children[0]
        if expr.type != "assignment_expression":
            return
        left = ev.text(expr.child_by_field_name("left"))
        if left != "module.exports" and not left.startswith(("module.exports.", "exports.")):
            return
        value = freeze(ev.eval(expr.child_by_field_name("right"), scope), analyze=analyze)
        if left == "module.exports":
            exports["default"] = value
            if isinstance(value, Obj):
                exports.update(dict(value.members))
        else:
            exports[left.rsplit(".", 1)[1]] = value
        return
    if stmt.type != "export_statement":
        return
    source = stmt.child_by_field_name("source")
    spec = ev.string(source) if source is not None else None
    decl = stmt.child_by_field_name("declaration")
    value = stmt.child_by_field_name("value")
    clauses = [c for c in stmt.named_children if c.type == "export_clause"]
    if decl is not None:
        for name in declared_names(decl, ev):
            exports[name] = value_of(name)
            if any(c.type == "default" for c in stmt.children):
                exports["default"] = exports[name]
    elif value is not None:
        exports["default"] = freeze(ev.eval(value, scope), analyze=analyze)
    elif spec is not None and not clauses:
        stars.append(spec)
    for item in (i for clause in clauses for i in clause.named_children):
        name_node = item.child_by_field_name("name")
        alias = item.child_by_field_name("alias")
        if name_node is not None:
            name = ev.text(name_node)
            public = ev.text(alias) if alias is not None else name
            exports[public] = import_value(spec, name) if spec else value_of(name)


def express_call(
    node: Node, callee: Node, scope: Scope, ev: Evaluator, facts: FileFacts, line: int
) -> None:
    """`router.get('/x', h)`, `router.route('/x').get(h).post(h)`, `app.use('/api', router)`."""
    owner = ev.eval(callee.child_by_field_name("object"), scope)
    verb = ev.text(callee.child_by_field_name("property"))
    args_node = node.child_by_field_name("arguments")
    args = [a for a in args_node.named_children if a.type != "comment"] if args_node else []
    if isinstance(owner, RouteChain) and verb in _ROUTE_VERBS:
        method = "*" if verb == "all" else verb.upper()
        facts.routes.append(RouteDecl(owner.router, method, owner.path, line, "express"))
        return
    if not isinstance(owner, RouterRef | Ref):
        return
    router: Any = owner.name if isinstance(owner, RouterRef) else owner
    if verb in _ROUTE_VERBS and len(args) >= 2:  # one argument: `app.get('env')`, a setting
        # `router.get(['/', '/:id'], h)`: one route per path of the array
        paths = args[0].named_children if args[0].type == "array" else [args[0]]
        for path_node in paths:
            path = ev.eval(path_node, scope)
            literal = isinstance(path, tuple) and path and isinstance(path[0], str)
            if literal and (path[0].startswith("/") or path == ("*",)):  # `*`: every path
                method = "*" if verb == "all" else verb.upper()
                facts.routes.append(RouteDecl(router, method, path, line, "express"))
    elif verb == "use" and args and isinstance(owner, RouterRef):
        first = ev.eval(args[0], scope)
        prefix: Template = first if isinstance(first, tuple) else ()
        for arg in args[1:] if prefix else args:
            child = ev.eval(arg, scope)
            if isinstance(child, RouterRef):
                child = child.name
            if isinstance(child, str | Ref):
                facts.mounts.append(MountDecl(owner.name, prefix, child, line))
