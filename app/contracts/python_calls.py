"""`requests` and `httpx` calls of one Python module, via clients and local wrapper functions."""

from __future__ import annotations

import ast

from .facts import HTTP_METHODS, CallDecl, Client, FileFacts, Notice, Obj, PendingCall, Wrapper
from .python_routes import extract_routes
from .python_values import Context, ModuleScope, function_context
from .urls import Arg, Hole, Ref, Template, bind_args, concat, has_args, is_external, join_base

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
    scope = ModuleScope(tree)
    for name, ref in scope.imports.items():
        facts.exports.setdefault(name, ref)
    classes = {n.name: _class_constants(n, scope) for n in tree.body if isinstance(n, ast.ClassDef)}
    for name, node in classes.items():
        if node is not None:
            facts.exports[name] = node
    for name in scope.consts:
        value = scope.value(scope.consts[name])
        expr = scope.consts[name]
        if value:
            facts.exports[name] = value
        elif (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Name)
            and classes.get(expr.func.id)
        ):
            facts.exports[name] = classes[expr.func.id]  # settings = Settings()
    extract_routes(tree, scope, facts)
    calls = _Calls(scope, facts)
    calls.run(tree)
    calls.exports(tree)
    return facts


def _class_constants(node: ast.ClassDef, scope: ModuleScope) -> Obj | None:
    """String attributes of a class (`class Settings: API_V1_STR = "/api/v1"`)."""
    members = []
    for stmt in node.body:
        target = (
            stmt.targets[0]
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
            else (stmt.target if isinstance(stmt, ast.AnnAssign) else None)
        )
        if isinstance(target, ast.Name) and isinstance(stmt, ast.Assign | ast.AnnAssign):
            value = scope.value(stmt.value)
            if value:
                members.append((target.id, value))
    return Obj(tuple(members)) if members else None


class _Calls:
    def __init__(self, scope: ModuleScope, facts: FileFacts) -> None:
        self.scope = scope
        self.facts = facts
        self.clients: dict[str, Client] = {}  # local name or "self.attr" -> client
        self.wrappers: dict[str, Wrapper] = {}  # function name -> wrapper

    def run(self, tree: ast.Module) -> None:
        funcs = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        self._find_clients(tree)
        for _ in range(3):  # wrappers calling wrappers: a few rounds reach a fixed point
            before = len(self.wrappers)
            for func in funcs:
                self._wrapper(func)
            if len(self.wrappers) == before:
                break
        inside = {id(n): func for func in funcs for n in ast.walk(func) if isinstance(n, ast.Call)}
        contexts = {id(f): function_context(f) for f in funcs}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            within = inside.get(id(node))
            ctx = contexts[id(within)] if within is not None else Context()
            found = self._http(node, ctx)
            if found is None:
                self._pending(node, ctx)
                continue
            method, url, client = found
            if has_args(url) or isinstance(method, Arg):
                continue  # inside a wrapper: reported where the wrapper is called
            decl = CallDecl(str(method), url, node.lineno, client)
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

    def _find_clients(self, tree: ast.Module) -> None:
        for node in ast.walk(tree):
            pairs: list[tuple[ast.expr, ast.expr]] = []
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                pairs.append((node.targets[0], node.value))
            elif isinstance(node, ast.With | ast.AsyncWith):
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

    def _wrapper(self, func: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        ctx = function_context(func)
        for node in ast.walk(func):
            if isinstance(node, ast.Call):
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

        url = concat(
            *((arg(p) or (Hole("arg"),)) if isinstance(p, Arg) else (p,) for p in wrapper.url)
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
