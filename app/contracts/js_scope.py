"""Scopes and values of the JS/TS reader: lazy bindings, imports, functions, classes.

Bindings are evaluated lazily (declarations are hoisted and may come after their use); imports
of known packages become client values, imports of repository modules become Refs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tree_sitter import Node

from .facts import Client, Forward, Obj, RouterRef, TemplateFn, Wrapper
from .urls import Arg, Ref, choice

if TYPE_CHECKING:
    from .js_values import Evaluator

_PACKAGES: dict[str, dict[str, Client]] = {
    "axios": {"default": Client("axios"), "*": Client("axios")},
    "ky": {"default": Client("ky")},
    "ky-universal": {"default": Client("ky")},
    "superagent": {"default": Client("superagent"), "*": Client("superagent")},
    "express": {
        "default": Client("express"),
        "*": Client("express"),
        "Router": Client("express.Router"),
    },
    "node-fetch": {"default": Client("fetch")},
    "cross-fetch": {"default": Client("fetch"), "fetch": Client("fetch")},
    "isomorphic-fetch": {"default": Client("fetch")},
    "undici": {"fetch": Client("fetch")},
    "ofetch": {"ofetch": Client("fetch"), "$fetch": Client("fetch")},
    "@angular/common/http": {"HttpClient": Client("angular")},
    "redaxios": {"default": Client("axios")},
    "umi-request": {"default": Client("fetch"), "request": Client("fetch")},
    "umi": {"request": Client("fetch")},
    "@umijs/max": {"request": Client("fetch")},
}
GLOBAL_FETCH = ("fetch", "$fetch", "ofetch", "useFetch", "useLazyFetch")


def is_local_spec(spec: str) -> bool:
    return spec.startswith((".", "/", "@/", "~/", "~~/", "$lib", "#/", "src/", "@@/"))


def import_value(spec: str, name: str) -> Any:
    package = _PACKAGES.get(spec)
    if package is not None:
        return package.get(name)
    return Ref(spec, name) if is_local_spec(spec) else None


@dataclass(frozen=True, slots=True)
class NewRouter:
    root: bool


@dataclass(frozen=True, slots=True)
class RouteChain:
    router: str
    path: tuple[Any, ...]


@dataclass(eq=False)
class Func:
    node: Node
    scope: Scope
    this: Any = None  # ClassBox for methods


@dataclass(eq=False)
class ClassBox:
    members: dict[str, Any]
    given: dict[str, int] = field(default_factory=dict)  # member -> constructor argument
    parent: Any = None  # Ref to a base class imported from another module

    def obj(self) -> Obj:
        return Obj(tuple(self.members.items()))


class Scope:
    """Lexical bindings, evaluated lazily (declarations are hoisted and may come later)."""

    def __init__(self, parent: Scope | None, evaluator: Evaluator) -> None:
        self.parent = parent
        self.ev = evaluator
        self.lazy: dict[str, tuple[Node | None, str, Any]] = {}  # name -> (node, member, value)
        self.done: dict[str, Any] = {}
        self.busy: set[str] = set()
        self.assigned: dict[str, list[Node]] = {}  # `url = ...` in branches after the declaration

    def bind(self, name: str, value: Any) -> None:
        self.done[name] = value

    def bind_node(self, name: str, node: Node, member: str = "") -> None:
        self.lazy[name] = (node, member, None)
        self.done.pop(name, None)

    def lookup(self, name: str, depth: int) -> tuple[bool, Any]:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.done:
                return True, scope.done[name]
            if name in scope.lazy:
                return True, scope.resolve(name, depth)
            scope = scope.parent
        return False, None

    def resolve(self, name: str, depth: int) -> Any:
        if name in self.busy:
            return None
        node, member, _ = self.lazy[name]
        self.busy.add(name)
        try:
            value = self.ev.eval(node, self, depth + 1) if node is not None else None
            if member:
                value = self.ev.member(value, member)
        finally:
            self.busy.discard(name)
        if isinstance(value, NewRouter):
            value = self.ev.new_router(name, value, node)
        if name in self.assigned and not isinstance(value, Client | Obj | ClassBox | Func):
            value = self._alternatives(name, value, depth)
        self.done[name] = value
        return value

    def _alternatives(self, name: str, first: Any, depth: int) -> Any:
        """A variable given other values in branches is each of them (a URL is a set)."""
        self.busy.add(name)
        try:
            values = [first] if first is not None else []
            values += [self.ev.eval(n, self, depth + 1) for n in self.assigned[name][:8]]
        finally:
            self.busy.discard(name)
        if not any(isinstance(v, tuple | Arg | Ref) for v in values):
            return first
        return choice([self.ev.as_template(v, None) for v in values])


_BRANCHES = {
    "if_statement",
    "else_clause",
    "statement_block",
    "switch_statement",
    "switch_body",
    "switch_case",
    "switch_default",
    "try_statement",
    "catch_clause",
    "finally_clause",
}


def _assignments(node: Node, scope: Scope, ev: Evaluator, depth: int = 0) -> None:
    """`url = '/a'` in the branches of a body, for the variables this body declares."""
    for stmt in node.named_children:
        kind = stmt.type
        if kind == "expression_statement" and stmt.named_children:
            expr = stmt.named_children[0]
            left = (
                expr.child_by_field_name("left") if expr.type == "assignment_expression" else None
            )
            right = expr.child_by_field_name("right")
            if left is not None and left.type == "identifier" and right is not None:
                name = ev.text(left)
                if name in scope.lazy:
                    scope.assigned.setdefault(name, []).append(right)
        elif kind in _BRANCHES and depth < 8:
            _assignments(stmt, scope, ev, depth + 1)


def freeze(value: Any, depth: int = 0, analyze: Any = None) -> Any:
    """A value safe to cache and share between files: functions become Wrappers or vanish."""
    if depth > 6:
        return None
    if isinstance(value, Func):
        wrapper = analyze(value) if analyze else None
        made = wrapper or value.scope.ev.client_factory(value)
        if made is None and (formula := value.scope.ev.formula(value)) is not None:
            return TemplateFn(formula)
        return made
    if isinstance(value, ClassBox):
        value = value.obj()
    if isinstance(value, Obj):
        members = tuple(
            (k, v)
            for k, v in ((k, freeze(v, depth + 1, analyze)) for k, v in value.members)
            if v is not None
        )
        return Obj(members) if members else None
    if isinstance(value, tuple | Client | Wrapper | Forward | RouterRef | Ref | TemplateFn):
        return value
    return None


def declared_names(decl: Node, ev: Evaluator) -> list[str]:
    if decl.type in ("lexical_declaration", "variable_declaration"):
        names = []
        for d in decl.named_children:
            name = d.child_by_field_name("name") if d.type == "variable_declarator" else None
            if name is not None and name.type == "identifier":
                names.append(ev.text(name))
        return names
    name = decl.child_by_field_name("name")
    return [ev.text(name)] if name is not None else []


def declare(body: Node, scope: Scope, ev: Evaluator) -> None:
    """Hoist the declarations of a module or function body (direct statements only)."""
    for stmt in body.named_children:
        if stmt.type == "export_statement":
            decl = stmt.child_by_field_name("declaration")
            if decl is None:
                continue
            stmt = decl
        kind = stmt.type
        if kind == "import_statement":
            bind_import(stmt, scope, ev)
        elif kind in ("lexical_declaration", "variable_declaration"):
            for declarator in stmt.named_children:
                if declarator.type == "variable_declarator":
                    bind_declarator(declarator, scope, ev)
        elif kind in ("function_declaration", "generator_function_declaration"):
            name = stmt.child_by_field_name("name")
            if name is not None:
                scope.bind(ev.text(name), Func(stmt, scope))
        elif kind in ("class_declaration", "abstract_class_declaration"):
            name = stmt.child_by_field_name("name")
            if name is not None:
                scope.bind_node(ev.text(name), stmt)
    _assignments(body, scope, ev)


def bind_import(stmt: Node, scope: Scope, ev: Evaluator) -> None:
    source = stmt.child_by_field_name("source")
    if source is None:
        return
    spec = ev.string(source)
    for clause in (c for c in stmt.named_children if c.type == "import_clause"):
        for item in clause.named_children:
            if item.type == "identifier":
                scope.bind(ev.text(item), import_value(spec, "default"))
            elif item.type == "namespace_import" and item.named_children:
                scope.bind(ev.text(item.named_children[0]), import_value(spec, "*"))
            elif item.type == "named_imports":
                for spec_node in item.named_children:
                    name, alias = (
                        spec_node.child_by_field_name("name"),
                        spec_node.child_by_field_name("alias"),
                    )
                    if name is not None:
                        scope.bind(ev.text(alias or name), import_value(spec, ev.text(name)))


def bind_declarator(node: Node, scope: Scope, ev: Evaluator) -> None:
    name = node.child_by_field_name("name")
    value = node.child_by_field_name("value")
    if name is not None and value is None and name.type == "identifier":
        scope.lazy.setdefault(ev.text(name), (None, "", None))  # `let url;`, set in branches
        return
    if name is None or value is None:
        return
    if name.type == "identifier":
        if ev.text(name) not in scope.lazy and ev.text(name) not in scope.done:
            scope.bind_node(ev.text(name), value)
    elif name.type == "object_pattern":
        for item in name.named_children:
            if item.type == "shorthand_property_identifier_pattern":
                scope.bind_node(ev.text(item), value, member=ev.text(item))
            elif item.type == "pair_pattern":
                key, target = item.child_by_field_name("key"), item.child_by_field_name("value")
                if key is not None and target is not None and target.type == "identifier":
                    scope.bind_node(ev.text(target), value, member=ev.text(key))


_EXPRESS_TYPES = ("Express", "Application", "Router", "IRouter")


def bind_params(func: Node, scope: Scope, ev: Evaluator) -> None:
    single = func.child_by_field_name("parameter")
    if single is not None:
        scope.bind(ev.text(single), Arg(0, name=ev.text(single)))
        return
    params = func.child_by_field_name("parameters")
    for index, param in enumerate(params.named_children if params is not None else ()):
        pattern = param.child_by_field_name("pattern") or param
        if pattern.type == "assignment_pattern":
            pattern = pattern.child_by_field_name("left") or pattern
        annotation = param.child_by_field_name("type")
        kind = ev.text(annotation).lstrip(": ").removeprefix("express.") if annotation else ""
        if pattern.type == "identifier" and kind in _EXPRESS_TYPES:
            # `function routes(app: Express) { app.get(...) }`: the app is passed in
            name = f"{ev.text(pattern)}@{pattern.start_point[0] + 1}"
            scope.bind(ev.text(pattern), ev.new_router(name, NewRouter(kind != "Router"), pattern))
        elif pattern.type == "identifier":
            scope.bind(ev.text(pattern), Arg(index, name=ev.text(pattern)))
        elif pattern.type == "object_pattern":
            for item in pattern.named_children:
                if item.type == "object_assignment_pattern":
                    item = item.child_by_field_name("left") or item
                if item.type == "shorthand_property_identifier_pattern":
                    scope.bind(ev.text(item), Arg(index, ev.text(item), name=ev.text(item)))
                elif item.type == "pair_pattern":
                    key, target = item.child_by_field_name("key"), item.child_by_field_name("value")
                    if key is not None and target is not None and target.type == "identifier":
                        scope.bind(ev.text(target), Arg(index, ev.text(key), name=ev.text(target)))
