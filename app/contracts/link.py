"""Join per-file facts: resolve imports, constants, router mounts and calls through wrappers."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any

from .django_settings import EXPORT_KEY, is_settings_ref, settings_target
from .facts import (
    Client,
    FileFacts,
    Forward,
    Obj,
    PendingCall,
    RouterRef,
    TemplateFn,
    Wrapper,
    forward_args,
)
from .model import Endpoint
from .urls import (
    AXIOS_DEFAULTS,
    Arg,
    Hole,
    Ref,
    Template,
    bind_args,
    concat,
    expand,
    join_base,
    map_pieces,
    normalize_route,
    render_raw,
)

_JS_EXTS = (
    "",
    ".ts",
    ".tsx",
    ".js",
    ".jsx",
    ".mjs",
    ".cjs",
    ".vue",
    ".svelte",
    "/index.ts",
    "/index.tsx",
    "/index.js",
    "/index.jsx",
    "/index.mjs",
)
_MAX_HOPS = 12


class Linker:
    def __init__(self, facts: Mapping[str, FileFacts]) -> None:
        self.facts = facts
        self.touched: set[str] | None = None  # modules consulted, while a caller records them
        self._py_index: dict[str, list[str]] = {}
        self._modules: dict[tuple[str, str, bool], str | None] = {}
        self.axios_base = next(
            (
                (p, f.exports[AXIOS_DEFAULTS.module])
                for p, f in sorted(facts.items())
                if AXIOS_DEFAULTS.module in f.exports
            ),
            None,
        )
        self.django_settings = [
            (p, f.exports[EXPORT_KEY]) for p, f in sorted(facts.items()) if EXPORT_KEY in f.exports
        ]
        for path in facts:
            if path.endswith(".py"):
                module = path[:-3].removesuffix("/__init__")
                parts = module.split("/")
                for i in range(len(parts)):
                    self._py_index.setdefault(".".join(parts[i:]), []).append(path)

    # -- modules -----------------------------------------------------------------------------

    def resolve_module(self, importer: str, spec: str) -> str | None:
        # JS resolution depends on the importer's directory only: shared by its files
        py = importer.endswith(".py")
        key = (importer if py else posixpath.dirname(importer), spec, py)
        if key in self._modules:
            found = self._modules[key]
        else:
            found = self._resolve_py(importer, spec) if py else self._resolve_js(importer, spec)
            self._modules[key] = found
        if found is not None and self.touched is not None:
            self.touched.add(found)
        return found

    def _resolve_js(self, importer: str, spec: str) -> str | None:
        here = posixpath.dirname(importer)
        bases: list[str] = []
        if spec.startswith("."):
            bases.append(posixpath.normpath(posixpath.join(here, spec)))
        else:
            root = _source_root(importer)
            for alias, target in (
                ("@/", "src/"),
                ("~/", "src/"),
                ("~~/", ""),
                ("@@/", ""),
                ("#/", "src/"),
                ("$lib/", "src/lib/"),
                ("src/", "src/"),
                ("/", ""),
            ):
                if spec.startswith(alias):
                    rest = spec[len(alias) :]
                    bases += [
                        posixpath.join(root, target + rest),
                        posixpath.join(root, rest),
                        target + rest,
                        rest,
                    ]
                    break
        for base in bases:
            stems = [base, base[:-3]] if base.endswith((".js", ".jsx")) else [base]
            for stem in stems:
                for ext in _JS_EXTS:
                    if stem + ext in self.facts:
                        return stem + ext
        return None

    def _resolve_py(self, importer: str, spec: str) -> str | None:
        level = len(spec) - len(spec.lstrip("."))
        module = spec[level:]
        if level:
            package = posixpath.dirname(importer)
            for _ in range(level - 1):
                package = posixpath.dirname(package)
            base = posixpath.join(package, module.replace(".", "/")) if module else package
            for candidate in (base + ".py", base + "/__init__.py"):
                if candidate in self.facts:
                    return candidate
            return None
        found = self._py_index.get(module, [])
        if not found:
            return None
        # The candidate sharing the longest directory prefix with the importer wins.
        return max(found, key=lambda p: (len(posixpath.commonprefix([p, importer])), -len(p)))

    # -- values ------------------------------------------------------------------------------

    def lookup(self, file: str, ref: Ref, hops: int = 0) -> tuple[Any, str, tuple[str, ...]]:
        """(value, file it lives in, attributes left over when a client was reached)."""
        if hops > _MAX_HOPS:
            return None, file, ()
        if file.endswith(".py") and is_settings_ref(ref):  # Django's `settings.X`
            settings = settings_target(file, ref, self.django_settings)
            return self.lookup(*settings, hops + 1) if settings else (None, file, ())
        # `default().get`: calling a factory export gives the client it returns
        names = [n.removesuffix("()") for n in ref.name.split(".") if n]
        target = self.resolve_module(file, ref.module)
        if file.endswith(".py") and names:
            sub = ref.module + ("" if ref.module.endswith(".") else ".") + names[0]
            sub_target = self.resolve_module(file, sub)
            if sub_target is not None and (
                target is None
                or names[0] not in self.facts[target].exports
                or self._imports_itself(target, names[0])
            ):
                return (
                    self.lookup(file, Ref(sub, ".".join(names[1:])), hops + 1)
                    if names[1:]
                    else (None, sub_target, ())
                )
        if target is None or not names:
            return None, file, ()
        facts = self.facts[target]
        if names[0] == "*":
            value: Any = Obj(tuple(facts.exports.items()))
        else:
            value = facts.exports.get(names[0])
            if value is None:
                for star in facts.star_exports:
                    found = self.lookup(target, Ref(star, ref.name), hops + 1)
                    if found[0] is not None:
                        return found
                return None, target, ()
        rest = names[1:]
        while True:
            if isinstance(value, Ref):
                name = ".".join([value.name, *rest]) if value.name else ".".join(rest)
                return self.lookup(target, Ref(value.module, name), hops + 1)
            if isinstance(value, Client) or not rest:
                return value, target, tuple(rest)
            value = value.get(rest[0]) if isinstance(value, Obj) else None
            rest = rest[1:]

    def _imports_itself(self, package: str, name: str) -> bool:
        """`from . import xcoms` in a package's `__init__`: the name is its submodule."""
        value = self.facts[package].exports.get(name)
        return (
            isinstance(value, Ref)
            and value.name == name
            and self.resolve_module(package, value.module) == package
        )

    def template(self, file: str, template: Template, hops: int = 0) -> Template:
        """Constants imported from other modules spliced in; unknown ones become Holes."""

        if template and template[0] == AXIOS_DEFAULTS:  # `axios.get('users')` + a default base
            rest = self.template(file, template[1:], hops)
            if self.axios_base is None:
                return rest
            if self.touched is not None:
                self.touched.add(self.axios_base[0])
            return join_base(self.template(*self.axios_base, hops + 1), rest)

        def piece(p: Any) -> Template:
            if p == AXIOS_DEFAULTS:
                return ()
            if not isinstance(p, Ref):
                return (p,)
            value, where, rest = self.lookup(file, p)
            if isinstance(value, tuple) and not rest and hops < _MAX_HOPS:
                return self.template(where, value, hops + 1)
            if isinstance(value, TemplateFn) and not rest and hops < _MAX_HOPS:
                # `appendQueryString(baseURL, qs)`: its URL with the caller's arguments
                given = tuple(self.template(file, a, hops + 1) for a in p.args)
                body = self.template(where, value.template, hops + 1)
                return map_pieces(body, lambda a: _given(a, given) if isinstance(a, Arg) else (a,))
            return (Hole(p.name.split(".")[-1].removesuffix("()")),)

        return map_pieces(template, piece)

    # -- calls through imports ---------------------------------------------------------------

    def pending(
        self, file: str, call: PendingCall, hops: int = 0
    ) -> tuple[str, Template, str] | None:
        """(method, url, client) when the imported thing called is an HTTP client or wrapper."""
        value, where, rest = self.lookup(file, call.target)
        args = [self._arg(file, a) for a in call.args]
        if isinstance(value, Forward) and not rest and hops < _MAX_HOPS:
            forwarded = PendingCall(
                value.target, (), forward_args(value.args, tuple(args)), call.line
            )
            return self.pending(where, forwarded, hops + 1) or call.fallback
        if isinstance(value, Client) and len(rest) > 1:
            return None  # `api.get(url).then(f)`: the promise's method, not a request
        if isinstance(value, Client) and value.kind not in ("express", "express.Router"):
            verb = rest[0] if rest else ""
            url = args[0] if args and isinstance(args[0], tuple) else ()
            method: Any
            if verb:
                if verb not in ("get", "post", "put", "patch", "delete", "head", "options", "del"):
                    return None
                method = "DELETE" if verb == "del" else verb.upper()
            elif not args:
                return None  # `Api()`: the factory call itself, not a request
            elif isinstance(args[0], dict):  # axios(config)
                url = args[0].get("url") or ()
                method = method_of(args[0].get("method"))
            else:
                config = args[1] if len(args) > 1 and isinstance(args[1], dict) else {}
                method = method_of(config.get("method"))
            relative = bool(url) and isinstance(url[0], str)  # join_base: absolute URLs win
            global_axios = Client(value.kind, value.base) == Client("axios")
            base = self.template(
                where, (AXIOS_DEFAULTS,) if global_axios and relative else value.base
            )
            return method, bind_args(join_base(base, url) if url else ()), value.kind
        if isinstance(value, Wrapper) and not rest:
            url = self.template(where, value.url)

            def fill(piece: Arg) -> Template:
                arg = args[piece.index] if 0 <= piece.index < len(args) else None
                if piece.prop:
                    arg = arg.get(piece.prop) if isinstance(arg, dict) else None
                return arg if isinstance(arg, tuple) else (Hole(piece.name),)

            filled = map_pieces(url, lambda p: fill(p) if isinstance(p, Arg) else (p,))
            method = value.method
            if isinstance(method, Arg):
                holder = args[method.index] if 0 <= method.index < len(args) else None
                absent = method.prop == "method" and method.index >= len(args)
                default = "GET" if absent or isinstance(holder, dict) else "*"
                given = holder.get(method.prop) if isinstance(holder, dict) else None
                method = method_of(given) if given is not None else _literal(fill(method))
                method = method or default
            return method, bind_args(filled), value.client
        return call.fallback

    def _arg(self, file: str, arg: Any) -> Any:
        if isinstance(arg, tuple):
            return self.template(file, arg)
        if isinstance(arg, dict):
            return {
                k: self.template(file, v) if isinstance(v, tuple) else v for k, v in arg.items()
            }
        return arg

    # -- routers -----------------------------------------------------------------------------

    def endpoints(self, provider: set[str]) -> list[Endpoint]:
        """Every route with the prefixes of the routers it is mounted under."""
        roots: list[tuple[str, str]] = []
        own_prefix: dict[tuple[str, str], Template] = {}
        sources: dict[tuple[str, str], str] = {}
        children: dict[tuple[str, str], list[tuple[tuple[str, str], Template, bool]]] = {}
        routes: dict[tuple[str, str], list[tuple[str, Any]]] = {}
        for path, facts in self.facts.items():
            for router in facts.routers:
                key = (path, router.name)
                own_prefix[key] = self.template(path, router.prefix)
                sources[key] = router.source
                if router.root:
                    roots.append(key)
            for mount in facts.mounts:
                child = self._router(path, mount.child)
                parent = self._router(path, mount.parent)
                if child is not None and parent is not None:
                    children.setdefault(parent, []).append(
                        (child, self.template(path, mount.prefix), mount.replaces_prefix)
                    )
            if path not in provider:
                continue
            for route in facts.routes:
                owner = self._router(path, route.router)
                if owner is not None:
                    routes.setdefault(owner, []).append((path, route))
        mounted = {child for kids in children.values() for child, _, _ in kids}
        # A root app mounted in another (`app.use('/admin', adminApp)`, `app.mount('/api', api)`)
        # serves only under that prefix.
        starts = [k for k in roots if k not in mounted]
        starts += [k for k in own_prefix if k not in mounted and k not in roots]
        out: dict[tuple[str, str, str, int], Endpoint] = {}

        def visit(
            node: tuple[str, str], prefix: Template, replace: bool, seen: frozenset[Any]
        ) -> None:
            if node in seen or len(seen) > 32:
                return
            full = prefix if replace else concat(prefix, own_prefix.get(node, ()))
            for path, route in routes.get(node, ()):
                source = sources.get(node) or route.source
                methods = self._methods(path, route)
                for value in expand(concat(full, self.template(path, route.path))):
                    raw = render_raw(value)
                    for method in methods:
                        endpoint = Endpoint(
                            method, normalize_route(raw), path, route.line, raw, source
                        )
                        out.setdefault((method, endpoint.path, path, route.line), endpoint)
            for child, child_prefix, replaces in children.get(node, ()):
                visit(child, concat(full, child_prefix), replaces, seen | {node})

        for start in starts:
            visit(start, (), False, frozenset())
        for node in routes:  # routes on routers we never saw declared (imported from outside)
            if node not in own_prefix:
                visit(node, (), False, frozenset())
        return list(out.values())

    def _methods(self, file: str, route: Any) -> tuple[str, ...]:
        """A route's methods; a Flask-RESTful class imported from another module has its own."""
        if route.resource is not None:
            value, _, rest = self.lookup(file, route.resource)
            if isinstance(value, tuple) and not rest and value:
                return tuple(m for m in value if isinstance(m, str))
        return (route.method,)

    def _router(self, file: str, ref: Any) -> tuple[str, str] | None:
        if isinstance(ref, str):
            return file, ref
        if isinstance(ref, RouterRef):
            return file, ref.name
        if isinstance(ref, Ref):
            value, where, rest = self.lookup(file, ref)
            if isinstance(value, RouterRef) and not rest:
                return where, value.name
        return None


def _given(arg: Arg, given: tuple[Template, ...]) -> Template:
    if 0 <= arg.index < len(given) and not arg.prop:
        return given[arg.index]
    return (Hole(arg.name),)


def method_of(value: Any) -> Any:
    """A request config's method: GET when absent, upper case when literal, the template itself
    when it takes several literal values (`id ? 'PUT' : 'POST'`, expanded with the URL), else
    "*" (unknown: never guessed, a wrong guess would be a false error)."""
    if value is None:
        return "GET"
    literal = _literal(value)
    if literal is not None:
        return literal
    values = expand(value) if isinstance(value, tuple) else []
    if values and all(_literal(v) in _METHODS for v in values):
        return value
    return "*"


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def _literal(value: Any) -> str | None:
    if isinstance(value, tuple) and len(value) == 1 and isinstance(value[0], str):
        return value[0].upper()
    return None


def _source_root(path: str) -> str:
    """The directory holding `src/` for aliases like `@/` (monorepos: `frontend/src/..`)."""
    parts = path.split("/")
    if "src" in parts:
        return "/".join(parts[: parts.index("src")])
    return parts[0] if len(parts) > 2 else ""
