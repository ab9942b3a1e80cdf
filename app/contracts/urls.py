"""URL templates: pieces extracted from code, normalised to comparable path templates.

A template is a tuple of pieces: literal text (str), a Hole (an unknown value, which becomes
a path parameter), an Arg (a wrapper function's argument, filled in at its call sites) or a
Ref (a constant imported from another module, resolved when files are linked).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Hole:
    name: str = ""


@dataclass(frozen=True, slots=True)
class Arg:
    index: int
    prop: str = ""
    name: str = field(default="", compare=False)  # the parameter's name, for messages


@dataclass(frozen=True, slots=True)
class Ref:
    module: str  # import specifier as written ("./config", "app.service.settings")
    name: str  # exported name, dotted for attributes ("environment.apiUrl")
    args: tuple[Any, ...] = ()  # `f(a, b)` of an imported function: the arguments' templates


@dataclass(frozen=True, slots=True)
class Choice:
    """A piece that takes one of several values (`feed ? '/feed' : ''`, a value set in
    branches): the URL is one call per alternative."""

    options: tuple[tuple[Any, ...], ...]
    key: str = ""  # the condition (`id ?`): choices with the same key take the same branch


Piece = str | Hole | Arg | Ref | Choice
MAX_CHOICES = 8  # alternatives of one URL: beyond, the piece is unknown


def choice(options: list[Template], key: str = "") -> Template:
    """One piece for several values; a single value is itself. With a `key` (the condition),
    the options keep their order: the same condition elsewhere picks the same one."""
    unique = list(dict.fromkeys(options))
    if len(unique) == 1:
        return unique[0]
    if len(unique) > MAX_CHOICES:
        return (Hole(""),)
    return (Choice(tuple(options), key) if key else Choice(tuple(unique)),)


def expand(template: Template) -> list[Template]:
    """Every value a template can take (at most MAX_CHOICES)."""
    if not any(isinstance(p, Choice) for p in template):
        return [template]
    states: list[tuple[Template, dict[str, int]]] = [((), {})]
    for piece in template:
        if isinstance(piece, Choice):
            grown = []
            for done, chosen in states:
                picks = range(len(piece.options))
                if piece.key and piece.key in chosen:  # `id ? 'PUT' : ..` goes with `id ? url : ..`
                    picks = range(chosen[piece.key], chosen[piece.key] + 1)
                for i in picks:
                    for option in expand(piece.options[i]):
                        keyed = {**chosen, piece.key: i} if piece.key else chosen
                        grown.append((concat(done, option), keyed))
            states = grown
        else:
            states = [(concat(done, (piece,)), chosen) for done, chosen in states]
        if len(states) > MAX_CHOICES:
            return [concat(*((Hole(""),) if isinstance(p, Choice) else (p,) for p in template))]
    return list(dict.fromkeys(done for done, _ in states))


# `axios.defaults.baseURL = X` set in one module applies to the package's calls in all of them.
AXIOS_DEFAULTS = Ref("#axios.defaults.baseURL", "")
Template = tuple[Piece, ...]

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*")
_PROTOCOL_RELATIVE = re.compile(r"^//[^/?#]*")
# An origin whose scheme is unknown: `${protocol}://${host}:${port}/health`.
_UNKNOWN_SCHEME = re.compile(r"^\0?://[^/?#]*")
# URLs that never reach a server (`fetch(dataUri)` decodes an inline image in bundles).
_INLINE = re.compile(r"^(?:data|blob|mailto|tel|javascript|about):", re.IGNORECASE)
_LITERAL_PARAM = re.compile(r"\{[A-Za-z_][\w.-]*\}")
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "0.0.0.0", "[::1]")
# A route parameter in any of the syntaxes we read: {id}, {id:int}, :id, :id?, :id(\d+),
# <int:id>, <id>; the OpenAPI/FastAPI form is checked first.
_PARAM = re.compile(
    r"\{[^{}/]*\}|<(?:[a-zA-Z_]+:)?[a-zA-Z_][a-zA-Z0-9_]*>|:[a-zA-Z_][\w]*(?:\([^)/]*\))?\??"
)
_STATIC = re.compile(
    r"\.(?:json|js|mjs|css|png|jpe?g|gif|svg|ico|webp|avif|woff2?|ttf|otf|eot|txt|md|html?|xml"
    r"|wasm|map|csv|pdf|mp3|mp4|webm|ya?ml|webmanifest)$",
    re.IGNORECASE,
)


def concat(*parts: Template) -> Template:
    """Concatenate templates, merging adjacent literal pieces."""
    out: list[Piece] = []
    for part in parts:
        for piece in part:
            if isinstance(piece, str):
                if not piece:
                    continue
                if out and isinstance(out[-1], str):
                    out[-1] = out[-1] + piece
                    continue
            out.append(piece)
    return tuple(out)


def join_base(base: Template, path: Template) -> Template:
    """axios `baseURL` + url: an absolute url wins, otherwise joined with exactly one slash."""
    if path and isinstance(path[0], str) and _SCHEME.match(path[0]):
        return path
    if not base:
        return path
    base_ends = isinstance(base[-1], str) and base[-1].endswith("/")
    path_starts = bool(path) and isinstance(path[0], str) and path[0].startswith("/")
    if base_ends and path_starts:
        return concat(base[:-1], (base[-1][:-1],), path)  # type: ignore[index]
    if not base_ends and not path_starts and path:
        return concat(base, ("/",), path)
    return concat(base, path)


def is_third_party(template: Template) -> bool:
    """A single literal absolute URL to another host (not our API): `https://api.github.com/..`."""
    if len(template) != 1 or not isinstance(template[0], str):
        return False
    match = _SCHEME.match(template[0]) or _PROTOCOL_RELATIVE.match(template[0])
    if not match:
        return False
    host = match.group(0).split("//", 1)[1].split("@")[-1]
    host = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
    return host not in _LOCAL_HOSTS


_QUOTES = re.compile(r"""^[rRbBuUfF]{0,2}["'`]*""")


def is_external(source: str) -> bool:
    """The URL argument, as written, starts with a literal absolute URL of another host
    (`fetch(`https://api.github.com/users/${u}`)`): a third-party call, not our API. URLs built
    from constants (`${API_ROOT}/users`) are ours, whatever host the constant names."""
    text = _QUOTES.sub("", source, count=1)
    if _INLINE.match(text):
        return True
    match = _SCHEME.match(text) or _PROTOCOL_RELATIVE.match(text)
    if not match or "$" in match.group(0) or "{" in match.group(0):
        return False
    return is_third_party((match.group(0),))


def is_inline(template: Template) -> bool:
    """`data:`/`blob:` URLs (often constants): no request to any server."""
    return bool(template) and isinstance(template[0], str) and bool(_INLINE.match(template[0]))


def has_args(template: Template) -> bool:
    for p in template:
        kind = type(p)
        if kind is Arg or (kind is Choice and any(map(has_args, p.options))):  # type: ignore[union-attr]
            return True
    return False


_PATHY = re.compile(r"(path|url|uri|endpoint|route|resource|href)$", re.IGNORECASE)


def bind_args(template: Template) -> Template:
    """Inside a function: keep Args that pass a path through (a wrapper), turn the rest into Holes.

    `fetch(BASE + path)` and `fetch(`${base}/${url}`)` are wrappers, their callers give the path;
    `fetch('/items/' + id)` is a call of its own whose `id` is just a parameter."""
    if not has_args(template):
        return template
    before = ""
    for piece in template:
        if isinstance(piece, Arg):
            match = _SCHEME.match(before)
            rest = before[match.end() :] if match else before
            # `BASE + path`: the whole path; `BASE + "/" + command`: a segment, unless named so
            if not rest or _PATHY.search(piece.name or piece.prop or ""):
                return template
            break
        if isinstance(piece, str):
            before += piece
    return map_pieces(template, lambda p: (Hole(p.name or p.prop),) if isinstance(p, Arg) else (p,))


def late_bound(template: Template) -> bool:
    """`settings.API_URL_SINGLE + "/" + ident`: whether `ident` is a parameter or the path
    depends on a constant of another module; the linker decides (bind_args once it is known)."""
    for piece in template:
        if isinstance(piece, Arg):
            return False
        if isinstance(piece, Ref):
            return True
    return False


def map_pieces(template: Template, fn: Any) -> Template:
    """Each piece replaced by the template `fn` gives for it, inside alternatives too."""
    for p in template:  # most templates are plain: literal text and holes
        if type(p) is not str and type(p) is not Hole:
            break
    else:
        return template
    parts: list[Template] = []
    for piece in template:
        if isinstance(piece, Choice):
            parts.append(choice([map_pieces(o, fn) for o in piece.options], piece.key))
        else:
            parts.append(fn(piece))
    return concat(*parts)


def has_literal_path(template: Template) -> bool:
    return any(isinstance(p, str) and p.strip("/?#") for p in template)


def render_raw(template: Template) -> str:
    """The template as a person reads it: unknown pieces as {name}."""
    out = []
    for piece in template:
        if isinstance(piece, str):
            out.append(piece)
        elif isinstance(piece, Hole):
            out.append("{" + (piece.name or "") + "}")
        elif isinstance(piece, Arg):
            out.append("{arg" + str(piece.index) + "}")
        elif isinstance(piece, Choice):
            out.append("(" + "|".join(render_raw(o) for o in piece.options) + ")")
        else:
            out.append("{" + piece.name + "}")
    return "".join(out)


def origin_host(template: Template) -> str:
    """The host of a URL written with a literal origin, "" for relative URLs. A local origin is
    "" unless it names a port (`http://localhost:4000`): another service on the same machine
    (json-server beside a Next.js app) is told from the provider by its port."""
    first = template[0] if template else None
    match = (
        (_SCHEME.match(first) or _PROTOCOL_RELATIVE.match(first))
        if isinstance(first, str)
        else None
    )
    if match is None:
        return _unknown_base(template)
    host = match.group(0).split("//", 1)[1].split("@")[-1].lower()
    if not is_third_party((match.group(0),)):
        name, _, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
        return f"localhost:{port}" if name and port.isdigit() else ""
    return host


def _unknown_base(template: Template) -> str:
    """`${BASE_URL}/all`: the unknown base, named, as a host of its own ("{BASE_URL}"). It may
    be the provider's (`process.env.API_URL`) or another service's (SvelteKit's private env):
    its calls tell which (match.provider_calls)."""
    first = next((i for i, p in enumerate(template) if isinstance(p, str)), 0)
    if first == 0 or not str(template[first]).startswith("/"):
        return ""
    names = [p.name if isinstance(p, Hole | Ref) else "" for p in template[:first]]
    return "{" + ".".join(names) + "}"


def template_path(template: Template) -> tuple[str, str] | None:
    """(normalised path, raw path) of a call's URL, or None when nothing of the path is known.

    Origin, query string and fragment are dropped; a leading unknown piece followed by a slash
    is taken as the base URL (`${process.env.API}/users`); unknown pieces become parameters.
    """
    pieces = list(template)
    first = next((i for i, p in enumerate(pieces) if isinstance(p, str)), len(pieces))
    if 0 < first < len(pieces) and not pieces[first].startswith("?"):  # type: ignore[union-attr]
        pieces = pieces[first:]  # unknown base URL pieces (`${API}${prefix}/users`)
    raw_parts: list[str] = []
    norm_parts: list[str] = []
    for piece in pieces:
        if isinstance(piece, str):
            cut = min((i for i in (piece.find("?"), piece.find("#")) if i >= 0), default=-1)
            text = piece if cut < 0 else piece[:cut]
            raw_parts.append(text)
            norm_parts.append(_LITERAL_PARAM.sub("\0", text))  # generated clients: "/items/{id}"
            if cut >= 0:
                break
        else:
            name = piece.name if isinstance(piece, Hole | Ref) else ""
            raw_parts.append("{" + name + "}")
            norm_parts.append("\0")
    raw = "".join(raw_parts)
    norm = "".join(norm_parts)
    match = _SCHEME.match(norm) or _PROTOCOL_RELATIVE.match(norm) or _UNKNOWN_SCHEME.match(norm)
    if match:
        norm = norm[match.end() :]
        raw_match = (
            _SCHEME.match(raw)
            or _PROTOCOL_RELATIVE.match(raw)
            or re.match(r"^(?:\{\w*\})?://[^/?#]*", raw)
        )
        raw = raw[raw_match.end() :] if raw_match else raw
    if not norm.replace("\0", "").strip("/") and "\0" not in norm:
        return ("/", raw or "/") if norm.startswith("/") else None
    if not norm.replace("\0", "").strip("/."):
        return None  # only unknown pieces: nothing to match on
    path = _clean(norm.replace("\0", "{}"))
    return path, raw or path


def normalize_route(raw: str) -> str:
    """A provider's route as written (`/users/<int:id>/`, `/users/:id`) -> `/users/{}`."""
    text = raw.split("?", 1)[0]
    text = re.sub(r"(?<!\{)\*\*?(?!\})|\(\.\*\)", "{*}", text)  # `{*}` stays itself
    text = _PARAM.sub(
        lambda m: "{*}" if m.group(0) == "{*}" or m.group(0).startswith("<path:") else "{}", text
    )
    return _clean(text)


def _clean(path: str) -> str:
    path = re.sub(r"/{2,}", "/", path if path.startswith("/") else "/" + path)
    path = re.sub(r"/\./", "/", path)
    return path.rstrip("/") or "/"


def strip_origin(url: str) -> str:
    match = _SCHEME.match(url) or _PROTOCOL_RELATIVE.match(url)
    return url[match.end() :] if match else url


def looks_static(path: str) -> bool:
    return bool(_STATIC.search(path))


def prefix(base: str, path: str) -> str:
    return _clean(base.rstrip("/") + "/" + path.lstrip("/")) if base else _clean(path)
