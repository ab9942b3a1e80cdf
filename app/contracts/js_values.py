"""JS/TS values of expressions: URL templates, HTTP clients, wrappers, routers, imports.

A small abstract evaluator over tree-sitter nodes. It never runs code: it follows literals,
template literals, `+`, constants, object members, imports and `axios.create({baseURL})`;
anything else becomes a Hole (an unknown piece, a path parameter) or None.
"""

from __future__ import annotations

from typing import Any

from tree_sitter import Node

from .facts import HTTP_METHODS, Client, Obj, RouterRef, Wrapper
from .js_scope import (
    GLOBAL_FETCH,
    ClassBox,
    Func,
    NewRouter,
    RouteChain,
    Scope,
    bind_params,
    import_value,
)
from .urls import (
    AXIOS_DEFAULTS,
    Arg,
    Hole,
    Ref,
    choice,
    concat,
    join_base,
    map_pieces,
    strip_origin,
)

MAX_DEPTH = 40
# Helpers that compilers wrap around `require()` (tsc, babel, esbuild).
_INTEROP = (
    "__importDefault",
    "__importStar",
    "_interopRequireDefault",
    "_interopRequireWildcard",
    "__toESM",
)
# Clients installed as framework plugins and reached through the component or the framework.
_PLUGIN_CLIENTS = ("axios", "$axios", "$http")
_PLUGIN_HOSTS = ("this", "identifier", "member_expression")
# What a function building a URL returns (a call, `await`, an object: something else).
_URL_EXPRESSIONS = ("template_string", "binary_expression", "ternary_expression", "string")
_CHAINED = ("use", "get", "post", "put", "patch", "delete", "all", "options", "head")
_TRANSPARENT = {
    "parenthesized_expression",
    "await_expression",
    "as_expression",
    "satisfies_expression",
    "non_null_expression",
    "type_assertion",
}


class Evaluator:
    """Expression values within one file; `on_router` records routers as they are named."""

    def __init__(self, source: bytes, on_router: Any) -> None:
        self.source = source
        self.on_router = on_router
        # Values of the nodes of the one call being read (one scope): asked for several times
        self.memo: dict[int, Any] | None = None

    def text(self, node: Node | None) -> str:
        assert node is not None  # a field the grammar always fills
        return self.source[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def new_router(self, name: str, value: NewRouter, node: Node | None) -> RouterRef:
        self.on_router(name, value.root, node.start_point[0] if node is not None else 0)
        return RouterRef(name)

    def member(self, value: Any, prop: str) -> Any:
        if isinstance(value, Obj):
            found = value.get(prop)
            rest = value.get("...") if found is None else None
            return Arg(rest.index, prop, name=prop) if isinstance(rest, Arg) else found
        if isinstance(value, ClassBox):
            found = value.members.get(prop)
            if found is None and value.parent is not None:  # set up by an imported base class
                return self.member(value.parent, prop)
            return found
        if isinstance(value, Ref):
            if value.name == "default" and prop == "default":  # tsc/babel: `routes_1.default`
                return value
            return Ref(value.module, prop if value.name == "*" else f"{value.name}.{prop}")
        if isinstance(value, Arg) and not value.prop:
            return Arg(value.index, prop, name=prop)
        if isinstance(value, Client) and value.kind == "express" and prop == "Router":
            return Client("express.Router")
        if isinstance(value, Client) and prop == "default":  # compiled `axios_1.default.get`
            return value
        if isinstance(value, Client) and prop in HTTP_METHODS and value.kind in ("axios", "ky"):
            # `get: axios.get` kept in an object: a function sending GET to the URL it is given
            url = (Arg(0, name="url"),)
            if value == Client("axios"):  # joined to the default base when linking
                return Wrapper(prop.upper(), (AXIOS_DEFAULTS, *url), value.kind)
            return Wrapper(prop.upper(), join_base(value.base, url), value.kind)
        return None

    def eval(self, node: Node | None, scope: Scope, depth: int = 0) -> Any:
        if node is None or depth > MAX_DEPTH:
            return None
        memo = self.memo
        if memo is None:
            return self._eval(node, scope, depth)
        key = node.id
        if key not in memo:
            memo[key] = self._eval(node, scope, depth)
        return memo[key]

    def _eval(self, node: Node, scope: Scope, depth: int) -> Any:
        kind = node.type
        if kind in _TRANSPARENT:
            inner = [
                c
                for c in node.named_children
                if c.type not in ("type_annotation", "type_arguments")
            ]
            return (
                self.eval(inner[0] if inner else None, scope, depth + 1)
                if kind != "as_expression" or inner
                else None
            )
        if kind == "string":
            return (self.string(node),)
        if kind == "template_string":
            return self._template(node, scope, depth)
        if kind == "binary_expression":
            return self._binary(node, scope, depth)
        if kind == "identifier" or kind == "shorthand_property_identifier":
            name = self.text(node)
            found, value = scope.lookup(name, depth)
            if found:
                return value
            return Client("fetch") if name in GLOBAL_FETCH else None
        if kind == "member_expression":
            obj = node.child_by_field_name("object")
            prop = node.child_by_field_name("property")
            if obj is None or prop is None:
                return None
            if self.text(obj) in ("window", "globalThis", "self") and self.text(prop) == "fetch":
                return Client("fetch")
            found = self.member(self.eval(obj, scope, depth + 1), self.text(prop))
            if found is None and self.text(prop) in _PLUGIN_CLIENTS and obj.type in _PLUGIN_HOSTS:
                return Client("axios")  # vue-axios, @nuxtjs/axios: `this.$http`, `Vue.axios`
            return found
        if kind == "this":
            found, value = scope.lookup("this", depth)
            return value
        if kind in (
            "arrow_function",
            "function_expression",
            "function",
            "function_declaration",
            "generator_function_declaration",
            "method_definition",
        ):
            found, this = scope.lookup("this", depth)
            return Func(node, scope, this if isinstance(this, ClassBox) else None)
        if kind == "object":
            return self._object(node, scope, depth)
        if kind in ("class", "class_declaration"):
            return self.class_box(node, scope, depth)
        if kind in ("call_expression", "new_expression"):
            return self._call(node, scope, depth)
        if kind == "sequence_expression" and node.named_children:  # tsc: `(0, express_1.Router)()`
            return self.eval(node.named_children[-1], scope, depth + 1)
        if kind == "ternary_expression":
            # Both branches agree (up to the origin: DEV ? 'http://localhost/api' : '/api'), or the
            # piece is unknown.
            a = self.eval(node.child_by_field_name("consequence"), scope, depth + 1)
            b = self.eval(node.child_by_field_name("alternative"), scope, depth + 1)
            if a == b:
                return a
            one = isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b) == 1
            same = one and isinstance(a[0], str) and isinstance(b[0], str)
            if same and strip_origin(a[0]) == strip_origin(b[0]):
                return (strip_origin(a[0]),)
            if not any(isinstance(v, tuple | Arg | Ref) for v in (a, b)):
                return None
            # A URL that takes either value: one call per alternative.
            condition = node.child_by_field_name("condition")
            key = self.text(condition) if condition is not None else ""
            return choice([self.as_template(v, None) for v in (a, b)], key)
        return None

    def string(self, node: Node) -> str:
        raw = self.text(node)[1:-1]
        return raw.replace("\\/", "/").replace("\\'", "'").replace('\\"', '"')

    def _template(self, node: Node, scope: Scope, depth: int) -> tuple[Any, ...]:
        parts: list[tuple[Any, ...]] = []
        for child in node.named_children:
            if child.type == "template_substitution":
                inner = child.named_children[0] if child.named_children else None
                value = self.eval(inner, scope, depth + 1)
                parts.append(self.as_template(value, inner))
            elif child.type in ("string_fragment", "escape_sequence"):
                parts.append((self.text(child),))
        return concat(*parts)

    def as_template(self, value: Any, node: Node | None) -> tuple[Any, ...]:
        if isinstance(value, tuple):
            return value
        if isinstance(value, Arg | Ref):
            return (value,)
        name = ""
        if node is not None:
            name = (
                self.text(node).split(".")[-1].strip("()")[:40]
                if node.type in ("identifier", "member_expression")
                else ""
            )
        return (Hole(name),)

    def _binary(self, node: Node, scope: Scope, depth: int) -> Any:
        op = node.child_by_field_name("operator")
        operator = self.text(op) if op is not None else ""
        left_node, right_node = node.child_by_field_name("left"), node.child_by_field_name("right")
        left = self.eval(left_node, scope, depth + 1)
        if operator in ("||", "??"):
            if left is not None and not isinstance(left, Arg):
                return left
            right = self.eval(right_node, scope, depth + 1)
            # `(options.client ?? client).post(..)`: the default client, not the caller's option
            return right if left is None or isinstance(right, Client) else left
        if operator != "+":
            return None
        right = self.eval(right_node, scope, depth + 1)
        if left is None and right is None:
            return None
        if not isinstance(left, tuple | Arg | Ref) and not isinstance(right, tuple | Arg | Ref):
            return None
        return concat(self.as_template(left, left_node), self.as_template(right, right_node))

    def _object(self, node: Node, scope: Scope, depth: int) -> Obj:
        members: list[tuple[str, Any]] = []
        for child in node.named_children:
            if child.type == "pair":
                key = child.child_by_field_name("key")
                if key is None:
                    continue
                name = self.string(key) if key.type == "string" else self.text(key)
                members.append(
                    (name, self.eval(child.child_by_field_name("value"), scope, depth + 1))
                )
            elif child.type == "shorthand_property_identifier":
                members.append((self.text(child), self.eval(child, scope, depth + 1)))
            elif child.type == "method_definition":
                name_node = child.child_by_field_name("name")
                if name_node is not None:
                    members.append((self.text(name_node), Func(child, scope)))
            elif child.type == "spread_element" and child.named_children:
                spread = self.eval(child.named_children[0], scope, depth + 1)
                if isinstance(spread, Obj):
                    members.extend(spread.members)
                elif isinstance(spread, Arg) and not spread.prop:
                    members.append(("...", spread))  # `{ ...options, headers }`: the rest is theirs
        return Obj(tuple(members))

    def class_box(self, node: Node, scope: Scope, depth: int) -> ClassBox:
        box = ClassBox({})
        for heritage in (c for c in node.named_children if c.type == "class_heritage"):
            # `class Auth extends Api`: what the base class sets up (`this.api`) is there too
            clause = next((c for c in heritage.named_children if c.type == "extends_clause"), None)
            target = clause.named_children[0] if clause is not None else heritage.named_children[0]
            parent = self.eval(target, scope, depth + 1) if target is not None else None
            if isinstance(parent, ClassBox):
                box.members.update(parent.members)
            elif isinstance(parent, Ref):
                box.parent = parent
        body = node.child_by_field_name("body")
        inner = Scope(scope, self)
        inner.bind("this", box)
        for member in body.named_children if body is not None else ():
            # TypeScript names a field `name`, JavaScript `property`
            name_node = member.child_by_field_name("name") or member.child_by_field_name("property")
            if name_node is None:
                continue
            name = self.text(name_node)
            if member.type == "method_definition":
                box.members[name] = Func(member, inner, box)
                if name == "constructor":
                    self._constructor(member, inner, box, depth)
            elif member.type in ("public_field_definition", "field_definition"):
                value = member.child_by_field_name("value")
                box.members[name] = (
                    self.eval(value, inner, depth + 1)
                    if value is not None
                    else self._typed(member, inner, depth)
                )
        return box

    def _inject(self, box: ClassBox, arg_nodes: list[Node], scope: Scope, depth: int) -> None:
        """`new Api(axios)` where the constructor keeps its argument (`this.http = http`): the
        class's methods use that client."""
        for name, index in box.given.items():
            if 0 <= index < len(arg_nodes):
                given = self.eval(arg_nodes[index], scope, depth + 1)
                if isinstance(given, Client):
                    box.members[name] = given

    def _typed(self, node: Node, scope: Scope, depth: int) -> Any:
        """`private http: HttpClient` -> the value of the type's name (a client or a service)."""
        annotation = node.child_by_field_name("type")
        if annotation is None or not annotation.named_children:
            return None
        type_node = annotation.named_children[0]
        if type_node.type == "generic_type":
            type_node = type_node.named_children[0]
        if type_node.type not in ("type_identifier", "identifier"):
            return None
        found, value = scope.lookup(self.text(type_node), depth)
        return value if found else None

    def _constructor(self, method: Node, outer: Scope, box: ClassBox, depth: int) -> None:
        scope = Scope(outer, self)
        bind_params(method, scope, self)  # `this.http = http`: an Arg until `new` gives it
        params = method.child_by_field_name("parameters")
        for param in params.named_children if params is not None else ():
            pattern = param.child_by_field_name("pattern")
            has_modifier = any(
                c.type == "accessibility_modifier" or c.type == "readonly" for c in param.children
            )
            if pattern is not None and has_modifier:
                box.members[self.text(pattern)] = self._typed(param, scope, depth)
        body = method.child_by_field_name("body")
        for stmt in body.named_children if body is not None else ():
            expr = (
                stmt.named_children[0]
                if stmt.type == "expression_statement" and stmt.named_children
                else None
            )
            if expr is not None and expr.type == "assignment_expression":
                left = expr.child_by_field_name("left")
                if (
                    left is not None
                    and left.type == "member_expression"
                    and self.text(left).startswith("this.")
                ):
                    name = self.text(left)[5:]
                    value = self.eval(expr.child_by_field_name("right"), scope, depth + 1)
                    if isinstance(value, Arg) and not value.prop:
                        box.given[name] = value.index  # filled by `new Class(client)`
                        value = Hole(value.name)  # in the methods: the constructor's, not theirs
                    box.members[name] = value

    def _call(self, node: Node, scope: Scope, depth: int) -> Any:
        callee = node.child_by_field_name("function") or node.child_by_field_name("constructor")
        args = node.child_by_field_name("arguments")
        arg_nodes = (
            [a for a in args.named_children if a.type != "comment"] if args is not None else []
        )
        if callee is None:
            return None
        if node.type == "new_expression" and self.text(callee) == "URL" and arg_nodes:
            # new URL(path, base): an absolute or rooted path ignores the base
            path = self.as_template(self.eval(arg_nodes[0], scope, depth + 1), arg_nodes[0])
            if len(arg_nodes) < 2 or (isinstance(path[0], str) and path[0].startswith("/")):
                return path
            return join_base(
                self.as_template(self.eval(arg_nodes[1], scope, depth + 1), None), path
            )
        if callee.type == "identifier" and self.text(callee) == "require" and arg_nodes:
            spec = self.eval(arg_nodes[0], scope, depth + 1)
            if isinstance(spec, tuple) and len(spec) == 1 and isinstance(spec[0], str):
                return import_value(spec[0], "default")
            return None
        if callee.type == "identifier" and self.text(callee) in _INTEROP and arg_nodes:
            return self.eval(arg_nodes[0], scope, depth + 1)  # the module, as far as we care
        if callee.type == "identifier" and self.text(callee) == "inject" and arg_nodes:
            return self.eval(arg_nodes[0], scope, depth + 1)
        target = self.eval(callee, scope, depth + 1)
        if node.type == "new_expression":
            if isinstance(target, ClassBox):
                self._inject(target, arg_nodes, scope, depth)
                return target.obj()
            return target if isinstance(target, Ref) else None
        if target is None and callee.type == "identifier":
            # `superagentPromise(_superagent, global.Promise)`: an adapter of a package we do not
            # know, given a client, gives that client back.
            for arg in arg_nodes:
                value = self.eval(arg, scope, depth + 1)
                if isinstance(value, Client):
                    return value
        if isinstance(target, Client) and target.kind in ("express", "express.Router"):
            # named by where it is made; `const api = Router()` keeps this name too
            row, col = node.start_point
            return self.new_router(
                f"router@{row + 1}:{col}", NewRouter(target.kind == "express"), node
            )
        if callee.type == "member_expression":
            obj_value = self.eval(callee.child_by_field_name("object"), scope, depth + 1)
            prop = self.text(callee.child_by_field_name("property"))
            if (
                isinstance(obj_value, Client)
                and prop in ("create", "extend")
                and obj_value.kind in ("axios", "ky")
            ):
                config = self.eval(arg_nodes[0], scope, depth + 1) if arg_nodes else None
                key = "baseURL" if obj_value.kind == "axios" else "prefixUrl"
                base = config.get(key) if isinstance(config, Obj) else None
                base_t = (
                    base if isinstance(base, tuple) else (Hole("base"),) if base is not None else ()
                )
                return Client(obj_value.kind, obj_value.base + base_t if obj_value.base else base_t)
            if isinstance(obj_value, RouterRef) and prop == "route" and arg_nodes:
                return RouteChain(
                    obj_value.name,
                    self.as_template(self.eval(arg_nodes[0], scope, depth + 1), None),
                )
            if isinstance(obj_value, RouteChain):
                return obj_value
            if isinstance(obj_value, Func) and prop == "bind":  # `api.request.bind(api)`
                return obj_value
            if isinstance(obj_value, RouterRef) and prop in _CHAINED:
                return obj_value  # `Router().use('/api', api)`: the router, mounts applied
        if isinstance(target, Func):
            made = self.client_factory(target, depth)
            if made is None and arg_nodes:  # `getUserUrl(id)`: the URL it builds from `id`
                formula = self.formula(target, depth)
                if formula is not None:
                    values = [self.eval(a, scope, depth + 1) for a in arg_nodes]
                    return self.fill(formula, values, arg_nodes)
            return made
        if isinstance(target, Ref):  # `Api().get(...)`: what an imported factory returns
            given = tuple(
                self.as_template(self.eval(a, scope, depth + 1), a) for a in arg_nodes[:8]
            )
            return Ref(target.module, target.name + "()", given)
        return None

    def formula(self, func: Func, depth: int = 0) -> tuple[Any, ...] | None:
        """The URL a function returns built from its parameters (as Args), if it returns one:
        `(id) => `${BASE}/users/${id}``, `(base, qs) => qs ? `${base}?${qs}` : base`."""
        body = func.node.child_by_field_name("body")
        if body is None or depth > MAX_DEPTH:
            return None
        if body.type == "statement_block":
            returned = [c for c in body.named_children if c.type == "return_statement"]
            body = (
                returned[-1].named_children[0] if returned and returned[-1].named_children else None
            )
        if body is None or body.type not in _URL_EXPRESSIONS:
            return None  # `(id) => api.get(...)` sends a request: not a URL builder
        inner = Scope(func.scope, self)
        bind_params(func.node, inner, self)
        memo, self.memo = self.memo, None  # its own scope: values of its own
        try:
            value = self.eval(body, inner, depth + 1)
        finally:
            self.memo = memo
        template = self.as_template(value, None) if isinstance(value, tuple | Arg) else None
        if template is None or not any(isinstance(p, Arg) for p in template):
            return None
        return template

    def fill(self, template: tuple[Any, ...], values: list[Any], nodes: list[Node]) -> Any:
        """A formula's Args replaced by the values it is called with."""

        def piece(p: Arg) -> tuple[Any, ...]:
            if not 0 <= p.index < len(values):
                return (Hole(p.name),)
            value = self.member(values[p.index], p.prop) if p.prop else values[p.index]
            return self.as_template(value, None if p.prop else nodes[p.index])

        return map_pieces(template, lambda p: piece(p) if isinstance(p, Arg) else (p,))

    def _not_a_factory(self, body: Node) -> bool:
        """`(id) => api.get(...)` is a request, not a function returning a client or a constant:
        worth no evaluation (every exported function is asked)."""
        callee = body.child_by_field_name("function") if body.type == "call_expression" else None
        prop = callee.child_by_field_name("property") if callee is not None else None
        return prop is not None and self.text(prop) not in ("create", "extend")

    def client_factory(self, func: Func, depth: int = 0) -> Client | tuple[Any, ...] | None:
        """`() => axios.create({...})`: the client a factory function returns, if it returns one;
        or the constant it returns (`const apiBase = () => process.env.API || '/api'`)."""
        body = func.node.child_by_field_name("body")
        if body is None or depth > MAX_DEPTH:
            return None
        if body.type == "statement_block":
            returned = next((c for c in body.named_children if c.type == "return_statement"), None)
            body = (
                returned.named_children[0]
                if returned is not None and returned.named_children
                else None
            )
        if body is None or self._not_a_factory(body):
            return None
        value = self.eval(body, Scope(func.scope, self), depth + 1)
        params = func.node.child_by_field_name("parameters")
        takes_args = func.node.child_by_field_name("parameter") is not None or (
            params is not None and params.named_child_count > 0
        )
        if isinstance(value, tuple) and any(isinstance(p, str) for p in value):
            return None if takes_args else value  # else its value depends on its arguments
        return value if isinstance(value, Client) else None
