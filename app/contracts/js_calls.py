"""Which JS/TS calls send HTTP requests: fetch, axios, ky, superagent, Angular HttpClient,
request-config objects (generated clients), wrappers, and calls on imported things."""

from __future__ import annotations

from typing import Any

from tree_sitter import Node

from .facts import HTTP_METHODS, Client, Forward, Obj, PendingCall, Wrapper, forward_args
from .js_scope import GLOBAL_FETCH, Func, Scope
from .js_values import Evaluator
from .urls import (
    AXIOS_DEFAULTS,
    Arg,
    Hole,
    Ref,
    Template,
    bind_args,
    has_args,
    is_external,
    join_base,
    map_pieces,
)

_CLIENT_VERBS = {
    "axios": HTTP_METHODS,
    "ky": HTTP_METHODS,
    "superagent": (*HTTP_METHODS, "del"),
    "angular": (*HTTP_METHODS, "jsonp"),
}


class HttpCalls:
    """Call recognition, mixed into the file walker (which provides `ev`, `line`, `analyze`)."""

    ev: Evaluator
    # Where the last request's URL is written (a call's line is its URL's line), and whether it
    # came through a generated method of this same file (reported inside that method).
    url_at: Node | None = None
    local_fixed: bool = False

    def line(self, node: Node) -> int:
        raise NotImplementedError

    def analyze(self, func: Func) -> Wrapper | Forward | None:
        raise NotImplementedError

    def apply(
        self, wrapper: Wrapper, arg_nodes: list[Node], scope: Scope
    ) -> tuple[Any, Template, str] | None:
        if arg_nodes and is_external(self.ev.text(arg_nodes[0])):
            return None  # the wrapper is given another host's URL
        values = [self._value(a, scope) for a in arg_nodes]

        def fill(piece: Arg) -> Any:
            value = values[piece.index] if 0 <= piece.index < len(values) else None
            if piece.prop:
                value = self.ev.member(value, piece.prop)
            return value

        url = map_pieces(
            wrapper.url,
            lambda p: self.ev.as_template(fill(p), None) if isinstance(p, Arg) else (p,),
        )
        method = wrapper.method
        if isinstance(method, Arg):
            holder = values[method.index] if 0 <= method.index < len(values) else None
            # fetch's init or axios' config: absent or without a method means GET
            absent = method.prop == "method" and method.index >= len(values)
            method = _method(fill(method), "GET" if absent or isinstance(holder, Obj) else "*")
        self.url_at = arg_nodes[0] if arg_nodes and has_args(wrapper.url) else None
        return method, bind_args(url), wrapper.client

    # -- calls -------------------------------------------------------------------------------

    def _value(self, node: Node, scope: Scope) -> Any:
        """An argument's value, evaluated once per call however many readers ask."""
        key = node.id
        if key not in self._args:
            self._args[key] = self.ev.eval(node, scope)
        return self._args[key]

    def http(self, node: Node, scope: Scope) -> tuple[Any, Template, str] | PendingCall | None:
        """(method, url, client) for an HTTP request, PendingCall for a call on an import."""
        callee = node.child_by_field_name("function")
        args_node = node.child_by_field_name("arguments")
        if callee is None or args_node is None or node.type != "call_expression":
            return None
        self._args: dict[int, Any] = {}
        args = [a for a in args_node.named_children if a.type != "comment"]
        if callee.type == "member_expression":  # `api.get(url)` on a client: a request
            owner = self.ev.eval(callee.child_by_field_name("object"), scope)
            if isinstance(owner, Client) and owner.kind not in ("express", "express.Router"):
                prop = callee.child_by_field_name("property")
                verb = self.ev.text(prop) if prop is not None else ""
                self.url_at, self.local_fixed = (args[0] if args else None), False
                return self._client_call(owner, verb, args, scope)
        target = self.ev.eval(callee, scope)
        if (
            callee.type == "identifier"
            and self.ev.text(callee) in GLOBAL_FETCH
            and isinstance(target, Arg)
        ):
            target = Client("fetch")  # SvelteKit/Nuxt pass `fetch` in: `load({ fetch })`
        local = isinstance(target, Func)
        if isinstance(target, Func):
            target = self.analyze(target)
        self.url_at = (self._url_node(args[0]) or args[0]) if args else None
        self.local_fixed = False
        if isinstance(target, Wrapper):
            self.local_fixed = local and not has_args(target.url)
            return self.apply(target, args, scope)
        if isinstance(target, Forward):
            given = tuple(self._arg(a, scope, i == 0) for i, a in enumerate(args))
            return PendingCall(target.target, (), forward_args(target.args, given), self.line(node))
        verb = ""
        if callee.type == "member_expression":
            prop = callee.child_by_field_name("property")
            verb = self.ev.text(prop) if prop is not None else ""
        config = self._request_config(args, scope, verb if verb in HTTP_METHODS else "")
        if config is None and isinstance(target, Ref) and len(args) >= 2:
            config = self._url_and_options(args, scope)
        if isinstance(target, Ref | Forward) and args and is_external(self.ev.text(args[0])):
            return None
        if isinstance(target, Ref):
            if args and args[0].type == "object":  # `http.wrapper({ url, method })`, else the call
                self.url_at = self._url_node(args[0])
            return PendingCall(
                target,
                (),
                tuple(self._arg(a, scope, i == 0) for i, a in enumerate(args)),
                self.line(self.url_at or node),
                config,
            )
        if config is not None and not isinstance(target, Client):
            return config
        if isinstance(target, Client):
            return self._client_call(target, "", args, scope)
        if callee.type == "member_expression":
            owner = self.ev.eval(callee.child_by_field_name("object"), scope)
            verb = self.ev.text(callee.child_by_field_name("property"))
            if isinstance(owner, Client):
                return self._client_call(owner, verb, args, scope)
        return None

    def _request_config(
        self, args: list[Node], scope: Scope, verb: str = ""
    ) -> tuple[Any, Template, str] | None:
        """`__request(OpenAPI, { method: "GET", url: "/api/v1/items/{id}" })` (generated clients,
        `$.ajax`): an object literal with a literal HTTP method and a url is a request; so is
        `client.post({ url: '/api/v1/users/' })` (hey-api), the method being the verb, when
        the url is a path (`cache.get({ url: key })` is not a request)."""
        for arg in args:
            if arg.type != "object":
                continue
            value = self._value(arg, scope)
            if not isinstance(value, Obj):
                continue
            method = _method(value.get("method") or value.get("type"), "")
            url = value.get("url") or value.get("path") or value.get("endpoint")
            if not method and verb:
                url = value.get("url")
                first = url[0] if isinstance(url, tuple) and url else None
                method = verb.upper() if isinstance(first, str) and first.startswith("/") else ""
            if (
                isinstance(method, str)
                and method.lower() in HTTP_METHODS
                and isinstance(url, tuple)
            ):
                self.url_at = self._url_node(arg) or arg
                return method, bind_args(url), "generated"
        return None

    def _url_node(self, arg: Node) -> Node | None:
        """Where a request config object's URL is written (`url: ..`, `{ url, method }`)."""
        for item in arg.named_children:
            key = item.child_by_field_name("key") if item.type == "pair" else item
            url = key is not None and self.ev.text(key).strip("'\"") in ("url", "path", "endpoint")
            value = item.child_by_field_name("value")
            if value is not None and value.type == "object":
                continue  # hey-api's `path: { id }`: the path's parameters, not the URL
            if url and item.type in ("pair", "shorthand_property_identifier"):
                return value or item
        return None

    def _url_and_options(self, args: list[Node], scope: Scope) -> tuple[Any, Template, str] | None:
        """`request('/city/' + id, { method: 'PUT' })` (openapi-ts-request, umi-style request
        helpers): a URL and options with a literal method, whatever the helper turns out to be."""
        url, options = self._value(args[0], scope), self._value(args[1], scope)
        method = _method(options.get("method"), "") if isinstance(options, Obj) else ""
        known = isinstance(url, tuple) and any(isinstance(p, str) for p in url)
        if isinstance(method, str) and method.lower() in HTTP_METHODS and known:
            self.url_at = args[0]
            return method, bind_args(url), "generated"
        return None

    def _client_call(self, client: Client, verb: str, args: list[Node], scope: Scope) -> Any:
        kind = client.kind
        if args and is_external(self.ev.text(args[0])):
            return None  # a literal URL of another host: not our API
        # the URL argument, and the config only where the method is in it
        wanted = 2 if not verb or kind == "fetch" or (verb == "request" and kind != "axios") else 1
        values = [self._value(a, scope) for a in args[:wanted]]
        url: Any = values[0] if values else None
        method: Any = "*"
        if kind == "fetch" or (not verb and kind in ("axios", "ky")):
            config = values[1] if len(values) > 1 else None
            if kind == "axios" and isinstance(url, Obj):
                config, url = url, url.get("url")
            method = _method(
                self.ev.member(config, "method"),
                "GET" if config is None or isinstance(config, Obj) else "*",
            )
        elif not verb and kind == "superagent" and len(values) >= 2:
            method, url = _method(values[0], "*"), values[1]
        elif verb in _CLIENT_VERBS.get(kind, ()):
            method = "DELETE" if verb == "del" else "GET" if verb == "jsonp" else verb.upper()
        elif verb == "request" and kind in ("axios", "angular"):
            if kind == "axios":
                config = values[0]
                url, method = (
                    self.ev.member(config, "url"),
                    _method(self.ev.member(config, "method"), "GET"),
                )
            else:
                method, url = _method(values[0], "*"), values[1] if len(values) > 1 else None
        else:
            return None
        template = self.ev.as_template(url, None) if url is not None else ()
        if template == (Hole(""),):
            template = ()
        base = client.base
        if client == Client("axios") and template and isinstance(template[0], str):
            # the default base some module may set (none if not), joined when linking
            return method, bind_args((AXIOS_DEFAULTS, *template)), kind
        return method, bind_args(join_base(base, template) if template else ()), kind

    def _arg(self, node: Node, scope: Scope, first: bool) -> Any:
        """An argument of a call on an import, as plain data; only the first (the path, or a
        config object) may still pass a wrapper's argument through."""
        value = self._value(node, scope)
        if isinstance(value, Obj):
            return {
                k: bind_args(v) if first else _holes(v)
                for k, v in ((k, self.ev.as_template(v, None)) for k, v in value.members)
                if isinstance(v, tuple) and v != (Hole(""),)
            }
        if isinstance(value, tuple | Arg | Ref):
            template = self.ev.as_template(value, node)
            return bind_args(template) if first else _holes(template)
        return None


def passes_path(args: tuple[Any, ...]) -> bool:
    """A call on an import inside a wrapper: its path (or config's url) is the wrapper's Arg."""
    first = args[0] if args else None
    if isinstance(first, dict):
        first = first.get("url") or first.get("path")
    return isinstance(first, tuple) and has_args(first)


def _holes(template: Template) -> Template:
    return tuple(Hole(p.name or p.prop) if isinstance(p, Arg) else p for p in template)


def _method(value: Any, default: str) -> Any:
    if isinstance(value, tuple) and len(value) == 1 and isinstance(value[0], str):
        return value[0].upper()
    if isinstance(value, Arg):
        return value
    return default if value is None else "*"
