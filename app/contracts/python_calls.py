"""`requests` and `httpx` calls of one Python module, via clients and local wrapper functions."""

from __future__ import annotations

import ast

from .django_settings import EXPORT_KEY, SETTINGS_ENV, settings_module
from .facts import HTTP_METHODS, CallDecl, Client, FileFacts, Notice, PendingCall, Wrapper
from .python_index import Index, index
from .python_routes import extract_routes
from .python_values import Context, ModuleScope, function_context
from .urls import (
    Arg,
    Hole,
    Ref,
    Template,
    bind_args,
    has_args,
    is_external,
    join_base,
    late_bound,
    map_pieces,
)

_LIBRARIES = ("requests", "httpx")
_CLIENT_CLASSES = ("Session", "Client", "AsyncClient")


def extract_python(text: str) -> FileFacts:
    facts = FileFacts("py")
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        facts.notices.append(
            Notice("unparsable-file", exc.lineno or 1, f"Python syntax error: {exc.msg}")
        )
        return facts
    except (RecursionError, MemoryError, ValueError):
        facts.notices.append(
            Notice("unparsable-file", 1, "Python source too deeply nested to parse")
        )
        return facts
    idx = index(tree)  # the one walk of the tree
    scope = ModuleScope(tree, idx.imports)
    for name, ref in scope.imports.items():
        facts.exports.setdefault(name, ref)
    for name in scope.classes:
        obj = scope.class_obj(name)
        if obj is not None:
            facts.exports[name] = obj
    for name, expr in scope.consts.items():
        value = scope.value(expr)
        if value:
            facts.exports[name] = value
        elif (obj := scope.obj(expr)) is not None:
            facts.exports[name] = obj  # settings = Settings() / get_settings()
    for name in scope.functions:  # `def get_settings(): return Settings()`, `def prefix(): ...`
        returned = scope.returned(name, None, 0)
        found = scope.value(returned) or scope.obj(returned) if returned is not None else None
        if found is not None:
            facts.exports[name] = found
    if SETTINGS_ENV in text and (named := settings_module(idx)) is not None:
        facts.exports[EXPORT_KEY] = named
    extract_routes(tree, scope, facts, idx)
    calls = _Calls(scope, facts)
    calls.run(idx)
    calls.exports(tree)
    return facts


class _Calls:
    def __init__(self, scope: ModuleScope, facts: FileFacts) -> None:
        self.scope = scope
        self.facts = facts
        self.clients: dict[str, Client] = {}  # local name or "self.attr" -> client
        self.wrappers: dict[str, Wrapper] = {}  # function name -> wrapper
        self.url_line = 0  # line of the URL argument of the last request read

    def run(self, idx: Index) -> None:
        self._contexts: dict[int, Context] = {}
        self._find_clients(idx)
        for _ in range(3):  # wrappers calling wrappers: a few rounds reach a fixed point
            before = len(self.wrappers)
            for func in idx.funcs:
                self._wrapper(func, idx)
            if len(self.wrappers) == before:
                break
        for node, within in idx.calls:
            ctx = self._context(within, idx) if within is not None else Context()
            self.url_line = 0
            ctx.at = node.lineno
            found = self._http(node, ctx)
            line = self.url_line or node.lineno
            if found is None:
                self._pending(node, ctx)
                continue
            method, url, client = found
            if has_args(url) or isinstance(method, Arg):
                if isinstance(method, str) and late_bound(url):  # the linker tells
                    self.facts.calls.append(CallDecl(method, url, line, client))
                continue  # inside a wrapper: reported where the wrapper is called
            decl = CallDecl(str(method), url, line, client)
            (self.facts.calls if url else self.facts.unresolved).append(decl)

    def exports(self, tree: ast.Module) -> None:
        """Module-level wrapper functions and clients, for the modules that import them."""
        for node in tree.body:
            if (
                isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and node.name in self.wrappers
            ):
                self.facts.exports[node.name] = self.wrappers[node.name]
        for name, client in self.clients.items():
            if "." not in name:
                self.facts.exports[name] = client

    def _pending(self, node: ast.Call, ctx: Context) -> None:
        """`get_json("/users")` with `get_json` imported: an HTTP call if it is a wrapper there."""
        target = self.scope.symbol(node.func)
        if (
            not isinstance(target, Ref)
            or not target.name
            or _external(node.args[0] if node.args else None)
        ):
            return
        args = [self.scope.value(a, ctx) for a in node.args]
        first = bind_args(args[0]) if args and args[0] else None
        if first is not None and has_args(first):
            return  # inside a wrapper of our own: reported where that one is called
        rest = tuple(_holes(a) if a else None for a in args[1:])
        self.facts.pending.append(PendingCall(target, (), (first, *rest), node.lineno))

    def _context(self, func: ast.FunctionDef | ast.AsyncFunctionDef, idx: Index) -> Context:
        if id(func) not in self._contexts:
            self._contexts[id(func)] = function_context(func, idx.assigns_in[id(func)])
        return self._contexts[id(func)]

    def _find_clients(self, idx: Index) -> None:
        pairs: list[tuple[ast.expr, ast.expr]] = [
            (node.targets[0], node.value)
            for node in idx.assigns
            if isinstance(node, ast.Assign) and len(node.targets) == 1
        ]
        for node in idx.withs:
            pairs += [(i.optional_vars, i.context_expr) for i in node.items if i.optional_vars]
        for target, value in pairs:
            client = self._client_value(value)
            name = self.scope.symbol(target)
            if client and isinstance(name, str):
                self.clients[name] = client

    def _client_value(self, node: ast.expr) -> Client | None:
        if not isinstance(node, ast.Call):
            return None
        lib = self.scope.library(node.func)
        root, _, cls = lib.rpartition(".")
        if root in _LIBRARIES and cls in _CLIENT_CLASSES:
            base = next((k.value for k in node.keywords if k.arg == "base_url"), None)
            return Client(root, self.scope.value(base) or (Hole("base"),) if base else ())
        return None

    def _wrapper(self, func: ast.FunctionDef | ast.AsyncFunctionDef, idx: Index) -> None:
        if func.name in self.wrappers:
            return
        ctx = self._context(func, idx)
        for node in idx.calls_in[id(func)]:
            ctx.at = node.lineno
            found = self._http(node, ctx)
            if found and (has_args(found[1]) or isinstance(found[0], Arg)):
                self.wrappers[func.name] = Wrapper(found[0], found[1], found[2])
                return

    def _http(self, node: ast.Call, ctx: Context) -> tuple[object, Template, str] | None:
        """(method, url, client) when the call sends an HTTP request."""
        func = node.func
        lib = self.scope.library(func)
        root, _, verb = lib.rpartition(".")
        client: Client | None = None
        if root in _LIBRARIES:
            client = Client(root)
        elif isinstance(func, ast.Attribute):
            owner = self.scope.symbol(func.value)
            verb = func.attr
            client = self.clients.get(owner) if isinstance(owner, str) else None
            if (
                client is None
                and isinstance(owner, str)
                and verb in self.wrappers
                and owner in ("self", "cls")
            ):
                return self._apply(self.wrappers[verb], node, ctx)
        elif isinstance(func, ast.Name) and func.id in self.wrappers:
            return self._apply(self.wrappers[func.id], node, ctx)
        if client is None:
            return None
        args = list(node.args)
        method: object
        if verb in HTTP_METHODS:
            method = verb.upper()
        elif verb in ("request", "stream"):
            method_node = (
                args.pop(0)
                if args
                else next((k.value for k in node.keywords if k.arg == "method"), None)
            )
            value = self.scope.value(method_node, ctx)
            method = _method_of(value)
        else:
            return None
        url_node = (
            args[0] if args else next((k.value for k in node.keywords if k.arg == "url"), None)
        )
        if _external(url_node):
            return None  # a literal URL of another host: not our API
        self.url_line = getattr(url_node, "lineno", 0)  # a call's line is its URL's
        url = self.scope.value(url_node, ctx) if url_node is not None else None
        if url is None:
            return method, (), client.kind
        return method, bind_args(join_base(client.base, url)), client.kind

    def _apply(
        self, wrapper: Wrapper, node: ast.Call, ctx: Context
    ) -> tuple[object, Template, str] | None:
        if any(_external(a) for a in node.args[:2]):
            return None  # the wrapper is given another host's URL
        args = [self.scope.value(a, ctx) for a in node.args]
        kwargs = {k.arg: self.scope.value(k.value, ctx) for k in node.keywords if k.arg}

        def arg(piece: Arg) -> Template | None:
            if piece.index >= 0 and piece.index < len(args):
                return args[piece.index]
            return kwargs.get(piece.prop) if piece.prop else None

        url = map_pieces(
            wrapper.url, lambda p: (arg(p) or (Hole("arg"),)) if isinstance(p, Arg) else (p,)
        )
        method = wrapper.method
        if isinstance(method, Arg):
            method = _method_of(arg(method))
        return method, bind_args(url), wrapper.client


def _holes(template: Template) -> Template:
    return tuple(Hole(p.name or p.prop) if isinstance(p, Arg) else p for p in template)


def _external(node: ast.expr | None) -> bool:
    if isinstance(node, ast.JoinedStr) and node.values:
        node = node.values[0]
    return (
        isinstance(node, ast.Constant) and isinstance(node.value, str) and is_external(node.value)
    )


def _method_of(value: Template | None) -> object:
    if value and len(value) == 1 and isinstance(value[0], str):
        return value[0].upper()
    if value and len(value) == 1 and isinstance(value[0], Arg):
        return value[0]
    return "*"
