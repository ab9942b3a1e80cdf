"""Facts of one JS/TS file: HTTP calls, wrappers, Express routes and mounts, exports."""

from __future__ import annotations

from typing import Any

from tree_sitter import Node

from .facts import (
    CallDecl,
    Client,
    FileFacts,
    Forward,
    Notice,
    PendingCall,
    RouterDecl,
    Wrapper,
)
from .js_calls import HttpCalls, passes_path
from .js_modules import collect_exports, express_call
from .js_parse import ParseError, Script, parse, scripts
from .js_scope import ClassBox, Func, Scope, bind_declarator, bind_params, declare
from .js_values import Evaluator
from .request_methods import handled_methods
from .urls import AXIOS_DEFAULTS, Arg, Hole, has_args

_FUNCS = {
    "arrow_function",
    "function_expression",
    "function",
    "function_declaration",
    "generator_function_declaration",
    "generator_function",
    "method_definition",
}


MAX_NODES = 1_500_000
_INERT = {
    "comment",
    "type_annotation",
    "type_arguments",
    "type_parameters",
    "interface_declaration",
    "type_alias_declaration",
    "import_statement",
    "string",
    "regex",
    "jsx_text",
}


def extract_js(path: str, data: bytes) -> FileFacts:
    facts = FileFacts("js")
    for script in scripts(path, data):
        try:
            tree = parse(script)
        except ParseError as exc:
            facts.notices.append(Notice("unparsable-file", script.line_offset + 1, str(exc)))
            continue
        try:
            _File(script, facts).run(tree.root_node)
        except RecursionError:
            facts.notices.append(
                Notice("unparsable-file", script.line_offset + 1, "nested too deeply to read")
            )
        except _TooBig:
            facts.notices.append(
                Notice(
                    "unparsable-file",
                    script.line_offset + 1,
                    f"more than {MAX_NODES} syntax nodes to read",
                )
            )
    return facts


class _TooBig(Exception):
    pass


def _candidate(result: Any) -> Wrapper | Forward | None:
    """What a function is when it makes this request: a Wrapper when its arguments give the URL
    or method (or it is a generated method: its app call sites are where people act), a Forward
    when it passes them to something imported."""
    if isinstance(result, tuple):
        method, url, client = result
        if has_args(url) or isinstance(method, Arg) or client == "generated":
            return Wrapper(method, url, client)
    elif isinstance(result, PendingCall) and passes_path(result.args):
        return Forward(result.target, result.args)
    elif isinstance(result, PendingCall) and result.fallback is not None:
        method, url, client = result.fallback
        if client == "generated" and not has_args(url):
            return Wrapper(method, url, client)
    return None


class _File(HttpCalls):
    def __init__(self, script: Script, facts: FileFacts) -> None:
        self.facts = facts
        self.offset = script.line_offset
        self.ev = Evaluator(script.source, self._on_router)
        self.analyzed: dict[int, Wrapper | Forward | None] = {}
        self.routers: set[str] = set()
        self.budget = MAX_NODES  # nodes visited, wrappers' bodies included: bounds the time
        self.stack: list[int] = []  # functions the main walk is inside
        self.first: dict[int, Wrapper | Forward] = {}  # their first request through an argument

    def _on_router(self, name: str, root: bool, row: int) -> None:
        if name not in self.routers:
            self.routers.add(name)
            self.facts.routers.append(RouterDecl(name, root, (), row + 1 + self.offset, "express"))

    def line(self, node: Node) -> int:
        return node.start_point[0] + 1 + self.offset

    def run(self, root: Node) -> None:
        scope = Scope(None, self.ev)
        declare(root, scope, self.ev)
        self._construct(root, scope)
        self._walk(root, scope, self._visit)
        collect_exports(root, scope, self.ev, self.analyze, self.facts)
        if any(name == "default" for name, _ in self.facts.export_names):  # a request handler?
            self.facts.handled_methods = handled_methods(root, self.ev.source, self.offset)

    def _construct(self, root: Node, scope: Scope) -> None:
        """Module-level `new Service(client)` first: the client it is given is what `this.http`
        is inside the class's methods, which the walk reads next."""
        for stmt in root.named_children:
            decl = (
                stmt.child_by_field_name("declaration") if stmt.type == "export_statement" else stmt
            )
            value = stmt.child_by_field_name("value") if stmt.type == "export_statement" else None
            if value is not None and value.type == "new_expression":
                self.ev.eval(value, scope)
            if decl is None or decl.type not in ("lexical_declaration", "variable_declaration"):
                continue
            for declarator in decl.named_children:
                init = declarator.child_by_field_name("value")
                name = declarator.child_by_field_name("name")
                if init is not None and init.type == "new_expression" and name is not None:
                    scope.lookup(self.ev.text(name), 0)

    # -- scopes ------------------------------------------------------------------------------

    def _walk(self, node: Node, scope: Scope, visit: Any) -> None:
        self.budget -= node.named_child_count
        if self.budget < 0:
            raise _TooBig
        for child in node.named_children:
            kind = child.type
            if kind in _INERT or not child.named_child_count:
                continue  # types, comments, names and literals hold no call
            if kind in _FUNCS:
                self._walk_function(child, scope, visit)
            elif kind in ("class_declaration", "class"):
                name = child.child_by_field_name("name")
                box = scope.lookup(self.ev.text(name), 0)[1] if name is not None else None
                if not isinstance(box, ClassBox):  # the instance `new` bound clients into
                    box = self.ev.class_box(child, scope, 0)
                inner = Scope(scope, self.ev)
                inner.bind("this", box)
                self._walk(child, inner, visit)
            elif kind == "variable_declarator":
                bind_declarator(child, scope, self.ev)
                self._walk(child, scope, visit)
            elif kind == "expression_statement" and child.named_children:
                self._assignment(child.named_children[0], scope)
                self._walk(child, scope, visit)
            else:
                if kind in ("call_expression", "new_expression"):
                    visit(child, scope)
                self._walk(child, scope, visit)

    def _walk_function(self, node: Node, scope: Scope, visit: Any) -> None:
        inner = Scope(scope, self.ev)
        bind_params(node, inner, self.ev)
        body = node.child_by_field_name("body")
        if body is None:
            return
        main = visit == self._visit
        if main:  # the walk also tells what the function is: one walk of it, not two
            self.stack.append(node.id)
        if body.type == "statement_block":
            declare(body, inner, self.ev)
            self._walk(body, inner, visit)
        else:
            if body.type in ("call_expression", "new_expression"):
                visit(body, inner)
            self._walk(body, inner, visit)
        if main:
            self.stack.pop()
            self.analyzed.setdefault(node.id, self.first.pop(node.id, None))

    def _assignment(self, expr: Node, scope: Scope) -> None:
        """`api.defaults.baseURL = X`: the instance's base changes."""
        if expr.type != "assignment_expression":
            return
        left = expr.child_by_field_name("left")
        if left is None or not self.ev.text(left).endswith(".defaults.baseURL"):
            return
        name = self.ev.text(left).split(".")[0]
        found, value = scope.lookup(name, 0)
        base = self.ev.eval(expr.child_by_field_name("right"), scope)
        if found and isinstance(value, Client) and isinstance(base, tuple):
            scope.bind(name, Client(value.kind, base))
            if value == Client("axios"):  # the package's default: every module's `axios.get`
                self.facts.exports[AXIOS_DEFAULTS.module] = base

    # -- wrappers ----------------------------------------------------------------------------

    def analyze(self, func: Func) -> Wrapper | Forward | None:
        """The Wrapper a function is, if it sends a request whose URL its arguments give."""
        key = func.node.id
        if key in self.analyzed:
            return self.analyzed[key]
        self.analyzed[key] = None  # recursion guard
        memo, self.ev.memo = self.ev.memo, None  # other scopes: values of their own
        found: list[Wrapper | Forward] = []
        scope = Scope(func.scope, self.ev)
        if func.this is not None:
            scope.bind("this", func.this)

        def visit(call: Node, inner: Scope) -> None:
            if not found:
                candidate = _candidate(self.http(call, inner))
                if candidate is not None:
                    found.append(candidate)

        wrapper_scope = Scope(scope, self.ev)
        bind_params(func.node, wrapper_scope, self.ev)
        body = func.node.child_by_field_name("body")
        if body is not None:
            if body.type == "statement_block":
                declare(body, wrapper_scope, self.ev)
            elif body.type in ("call_expression", "new_expression"):
                visit(body, wrapper_scope)
            self._walk(body, wrapper_scope, visit)
        self.ev.memo = memo
        self.analyzed[key] = found[0] if found else None
        return self.analyzed[key]

    def _visit(self, node: Node, scope: Scope) -> None:
        self.ev.memo = {}
        try:
            self._read_call(node, scope)
        finally:
            self.ev.memo = None

    def _read_call(self, node: Node, scope: Scope) -> None:
        callee = node.child_by_field_name("function")
        if callee is not None and callee.type == "member_expression":
            express_call(node, callee, scope, self.ev, self.facts, self.line(node))
        result = self.http(node, scope)
        if self.stack and (candidate := _candidate(result)) is not None:
            for func in self.stack:
                self.first.setdefault(func, candidate)
        if isinstance(result, PendingCall):
            # also when it passes its own argument on: a generated method takes no URL
            self.facts.pending.append(result)
            return
        if result is None:
            return
        method, url, client = result
        if has_args(url) or isinstance(method, Arg) or self.local_fixed:
            return  # a wrapper's own request: reported where the wrapper is called
        line = self.line(self.url_at or node)
        decl = CallDecl(method if isinstance(method, str) else "*", url, line, client)
        (self.facts.calls if url and url != (Hole(""),) else self.facts.unresolved).append(decl)
