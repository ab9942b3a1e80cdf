"""What one file says, independent of its path: the unit the engine caches by content hash.

Extraction (python_*.py, js_*.py) produces FileFacts; link.py joins the facts of all files
(imports, router mounts, wrappers defined in one module and called in another).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .urls import Arg, Hole, Ref, Template, map_pieces

HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")


@dataclass(frozen=True, slots=True)
class Client:
    """An HTTP client value: axios/ky/superagent/HttpClient itself, or an instance with a base."""

    kind: str  # axios | ky | superagent | angular | fetch | requests | httpx
    base: Template = ()


@dataclass(frozen=True, slots=True)
class Wrapper:
    """A function that sends a request built from its arguments (`get(path)` -> fetch(BASE+path)).

    `method` is an upper-case method, "*" or an Arg naming the argument that carries it."""

    method: Any  # str | Arg
    url: Template
    client: str


@dataclass(frozen=True, slots=True)
class TemplateFn:
    """A function that returns a URL built from its arguments, sending nothing itself
    (`(id) => `/users/${id}``, orval's `getGetUserUrl`): called, its Args are filled."""

    template: Template


@dataclass(frozen=True, slots=True)
class Forward:
    """A function that passes its path on to something imported (`get = p => request(p)`):
    resolved when linking, like a call to `target` with `args` (Arg pieces are the caller's)."""

    target: Any  # urls.Ref
    args: tuple[Any, ...]


def forward_args(template_args: tuple[Any, ...], given: tuple[Any, ...]) -> tuple[Any, ...]:
    """A Forward's arguments with its Arg pieces filled from the caller's arguments."""

    def piece(p: Any) -> Template:
        if not isinstance(p, Arg):
            return (p,)
        value = given[p.index] if 0 <= p.index < len(given) else None
        if p.prop:
            value = value.get(p.prop) if isinstance(value, dict) else None
        return value if isinstance(value, tuple) else (Hole(p.name),)

    def fill(arg: Any) -> Any:
        if isinstance(arg, tuple):
            return map_pieces(arg, lambda p: piece(p) if isinstance(p, Arg) else (p,))
        if isinstance(arg, dict):
            return {k: fill(v) for k, v in arg.items()}
        return arg

    return tuple(fill(a) for a in template_args)


@dataclass(frozen=True, slots=True)
class Obj:
    """An object literal, class or namespace whose members matter (wrappers, constants)."""

    members: tuple[tuple[str, Any], ...]

    def get(self, name: str) -> Any:
        for key, value in self.members:
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class RouterRef:
    name: str  # the router's local name in the file that declares it


@dataclass(frozen=True, slots=True)
class RouterDecl:
    name: str
    root: bool  # an application (FastAPI(), Flask(), express()) rather than a router
    prefix: Template
    line: int
    source: str = ""  # fastapi | flask | express


@dataclass(frozen=True, slots=True)
class RouteDecl:
    router: Any  # str (local router name) | Ref (a router imported from another module)
    method: str  # upper case or "*"
    path: Template
    line: int
    source: str  # fastapi | flask | express
    resource: Any = None  # Ref to an imported Flask-RESTful class's "#methods": its methods


@dataclass(frozen=True, slots=True)
class MountDecl:
    parent: Any  # str (local router name) | Ref (a router imported from another module)
    prefix: Template
    child: Any  # str (local router name) | Ref (imported) | RouterRef
    line: int
    replaces_prefix: bool = (
        False  # Flask: register_blueprint(url_prefix=) overrides the Blueprint's
    )


@dataclass(frozen=True, slots=True)
class CallDecl:
    method: str  # upper case or "*"
    url: Template
    line: int
    client: str


@dataclass(frozen=True, slots=True)
class PendingCall:
    """A call on something imported (`api.get('/x')`): an HTTP call only if the import is one."""

    target: Ref
    member: tuple[str, ...]
    args: tuple[Any, ...]  # Template | dict[str, Template] | None per argument
    line: int
    fallback: Any = None  # (method, url, client) when it is not: a request config object


@dataclass(frozen=True, slots=True)
class Notice:
    code: str
    line: int
    message: str


@dataclass
class FileFacts:
    lang: str  # py | js | openapi
    routers: list[RouterDecl] = field(default_factory=list)
    routes: list[RouteDecl] = field(default_factory=list)
    mounts: list[MountDecl] = field(default_factory=list)
    calls: list[CallDecl] = field(default_factory=list)
    pending: list[PendingCall] = field(default_factory=list)
    unresolved: list[CallDecl] = field(default_factory=list)  # HTTP calls with no usable URL
    exports: dict[str, Any] = field(default_factory=dict)  # name -> Template | Client | ...
    star_exports: tuple[str, ...] = ()  # `export * from './x'`
    # every exported name with its line, even of values we do not model (`export function GET`)
    export_names: tuple[tuple[str, int], ...] = ()
    # the methods a default-exported request handler tests for (request_methods.py), or None
    handled_methods: tuple[tuple[str, int], ...] | None = None
    notices: list[Notice] = field(default_factory=list)
    operations: list[Any] = field(default_factory=list)  # openapi.Operation
    source: str = ""  # provider kind when the file is a spec
