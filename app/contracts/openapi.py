"""Endpoints and operation shapes from OpenAPI 3.0/3.1 and Swagger 2.0 documents."""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .urls import normalize_route, prefix

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_MAX_SCHEMA_DEPTH = 8


_LIMITS = ("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems")


@dataclass(frozen=True)
class Field:
    required: bool
    type: str
    enum: tuple[str, ...] = ()
    nullable: bool = False
    default: str | None = None  # JSON of the default value
    limits: tuple[tuple[str, float], ...] = ()  # (minimum|maxLength|..., value)


@dataclass(frozen=True)
class Operation:
    """What a client depends on: parameters, request body fields, response fields."""

    method: str
    path: str  # normalised, with the servers/basePath prefix
    raw_path: str
    line: int
    params: dict[str, Field] = field(default_factory=dict)  # "query:limit" (path ones excluded)
    body_required: bool = False
    body: dict[str, Field] = field(default_factory=dict)  # "user.email", "tags[]"
    response: dict[str, Field] = field(default_factory=dict)
    statuses: tuple[str, ...] = ()  # success statuses (2xx) the operation answers with
    request_types: tuple[str, ...] = ()  # media types of the request body
    response_types: tuple[str, ...] = ()  # media types of the success responses
    headers: dict[str, bool] = field(default_factory=dict)  # success response header -> required
    security: tuple[tuple[str, ...], ...] = ()  # alternatives, each the schemes it needs
    schemes: dict[str, str] = field(default_factory=dict)  # scheme -> type (and `in`/name)


def is_spec(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("paths"), dict)
        and ("openapi" in data or "swagger" in data)
    )


def _server_prefix(doc: dict[str, Any]) -> str:
    if "swagger" in doc:
        base = doc.get("basePath")
        return base if isinstance(base, str) else ""
    servers = doc.get("servers")
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], dict):
        return ""
    url = servers[0].get("url")
    if not isinstance(url, str):
        return ""
    variables = servers[0].get("variables")
    if isinstance(variables, dict):
        for name, var in variables.items():
            if isinstance(var, dict) and isinstance(var.get("default"), str):
                url = url.replace("{" + str(name) + "}", var["default"])
    try:
        path = urlsplit(url).path if "://" in url else url
    except ValueError:
        return ""
    return path if path.startswith("/") else ""


class _Resolver:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    def deref(self, node: Any, seen: frozenset[str] = frozenset()) -> tuple[Any, frozenset[str]]:
        """Follow local `$ref`s (`#/components/schemas/User`); external refs stay unresolved."""
        for _ in range(32):
            if not isinstance(node, dict) or not isinstance(node.get("$ref"), str):
                return node, seen
            ref = node["$ref"]
            if not ref.startswith("#/") or ref in seen:
                return {}, seen
            seen = seen | {ref}
            target: Any = self.doc
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                target = target.get(part) if isinstance(target, dict) else None
            node = target
        return {}, seen

    def fields(
        self,
        schema: Any,
        into: dict[str, Field],
        at: str = "",
        depth: int = 0,
        seen: frozenset[str] = frozenset(),
    ) -> None:
        schema, seen = self.deref(schema, seen)
        if not isinstance(schema, dict) or depth > _MAX_SCHEMA_DEPTH:
            return
        for part in schema.get("allOf") or ():
            self.fields(part, into, at, depth + 1, seen)
        required = (
            set(schema.get("required") or ()) if isinstance(schema.get("required"), list) else set()
        )
        props = schema.get("properties")
        if isinstance(props, dict):
            for name, prop in props.items():
                prop_schema, prop_seen = self.deref(prop, seen)
                key = f"{at}.{name}" if at else str(name)
                into[key] = _field(prop_schema, name in required)
                self.fields(prop_schema, into, key, depth + 1, prop_seen)
        items = schema.get("items")
        if schema.get("type") == "array" and items is not None:
            item_schema, item_seen = self.deref(items, seen)
            key = f"{at}[]"
            self.fields(item_schema, into, key, depth + 1, item_seen)


def _field(schema: Any, required: bool) -> Field:
    if not isinstance(schema, dict):
        return Field(required, "")
    kind = schema.get("type", "")
    kinds = sorted(map(str, kind)) if isinstance(kind, list) else [str(kind)] if kind else []
    nullable = schema.get("nullable") is True or "null" in kinds
    kind = "|".join(k for k in kinds if k != "null")
    enum = schema.get("enum")
    values = (
        tuple(sorted(json.dumps(v, sort_keys=True) for v in enum)) if isinstance(enum, list) else ()
    )
    default = json.dumps(schema["default"], sort_keys=True) if "default" in schema else None
    limits = tuple(
        (name, float(schema[name]))
        for name in _LIMITS
        if isinstance(schema.get(name), int | float) and not isinstance(schema.get(name), bool)
    )
    return Field(required, kind, values, nullable, default, limits)


class _Lines:
    """Line numbers for JSON documents, where the loader does not track them."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [i for i, c in enumerate(text) if c == "\n"]

    def find(self, needle: str, start: int = 0) -> tuple[int, int]:
        at = self.text.find(json.dumps(needle), start)
        if at < 0:
            return 0, start
        return bisect.bisect_left(self.starts, at) + 1, at


def operations(
    doc: dict[str, Any],
    lines: dict[tuple[str, ...], int],
    text: str = "",
    max_operations: int = 20_000,
) -> list[Operation]:
    """Every operation of the document, in document order."""
    base = _server_prefix(doc)
    resolver = _Resolver(doc)
    json_lines = _Lines(text) if text and not lines else None
    out: list[Operation] = []
    for raw_path, item in doc["paths"].items():
        item, _ = resolver.deref(item)
        if not isinstance(raw_path, str) or not isinstance(item, dict):
            continue
        path = normalize_route(prefix(base, raw_path))
        rest = item.get("x-baton-wildcard")  # written by our own export: `{rest}` is the rest
        if isinstance(rest, str) and path.endswith("/{}") and raw_path.endswith("{" + rest + "}"):
            path = path[:-3] + "/{*}"
        shared = given if isinstance(given := item.get("parameters"), list) else []
        path_line, offset = lines.get(("paths", raw_path), 0), 0
        if json_lines:
            path_line, offset = json_lines.find(raw_path)
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            verb = method.upper()
            if op.get("x-baton-any-method") is True:  # our export's way to say "any method"
                if any(o.method == "*" and o.path == path for o in out[-8:]):
                    continue
                verb = "*"
            line = lines.get(("paths", raw_path, method), 0)
            if json_lines:
                line, _ = json_lines.find(method, offset)
            out.append(
                _operation(
                    resolver,
                    doc,
                    verb,
                    path,
                    prefix(base, raw_path),
                    line or path_line or 1,
                    op,
                    shared,
                )
            )
            if len(out) >= max_operations:
                return out
    return out


def _operation(
    resolver: _Resolver,
    doc: dict[str, Any],
    method: str,
    path: str,
    raw: str,
    line: int,
    op: dict[str, Any],
    shared: list[Any],
) -> Operation:
    params: dict[str, Field] = {}
    body: dict[str, Field] = {}
    body_required = False
    own = given if isinstance(given := op.get("parameters"), list) else []
    for param in [*shared, *own]:
        param, _ = resolver.deref(param)
        if not isinstance(param, dict) or param.get("in") == "path":
            continue  # path parameters are positional: a rename is not a change
        if param.get("in") == "body":  # Swagger 2.0
            body_required = bool(param.get("required"))
            resolver.fields(param.get("schema"), body)
            continue
        schema = param.get("schema", param)
        schema, _ = resolver.deref(schema)
        params[f"{param.get('in')}:{param.get('name')}"] = _field(
            schema, bool(param.get("required"))
        )
    request_types: tuple[str, ...] = _list(op.get("consumes") or doc.get("consumes"))
    request, _ = resolver.deref(op.get("requestBody"))
    if isinstance(request, dict):
        body_required = bool(request.get("required"))
        content = request.get("content")
        if isinstance(content, dict):
            request_types = tuple(sorted(map(str, content)))
            for media in content.values():
                if isinstance(media, dict):
                    resolver.fields(media.get("schema"), body)
                    break
    response: dict[str, Field] = {}
    statuses: list[str] = []
    response_types: set[str] = set(_list(op.get("produces") or doc.get("produces")))
    headers: dict[str, bool] = {}
    responses = op.get("responses")
    for status, resp in responses.items() if isinstance(responses, dict) else ():
        if not str(status).startswith("2"):
            continue
        statuses.append(str(status))
        resp, _ = resolver.deref(resp)
        if not isinstance(resp, dict):
            continue
        if "schema" in resp and len(statuses) == 1:  # Swagger 2.0
            resolver.fields(resp["schema"], response)
        content = resp.get("content")
        if isinstance(content, dict):
            response_types.update(map(str, content))
            media = next((m for m in content.values() if isinstance(m, dict)), None)
            if media is not None and len(statuses) == 1:  # the first success answer's fields
                resolver.fields(media.get("schema"), response)
        for name, header in (resp.get("headers") or {}).items():
            header, _ = resolver.deref(header)
            headers[str(name).lower()] = isinstance(header, dict) and header.get("required") is True
    security = op.get("security", doc.get("security"))
    return Operation(
        method,
        path,
        raw,
        line,
        params,
        body_required,
        body,
        response,
        tuple(sorted(statuses)),
        request_types,
        tuple(sorted(response_types)),
        headers,
        _security(security),
        _schemes(doc),
    )


def _list(value: Any) -> tuple[str, ...]:
    return tuple(sorted(map(str, value))) if isinstance(value, list) else ()


def _security(value: Any) -> tuple[tuple[str, ...], ...]:
    """Security requirement alternatives; `[]` or `[{}]` (anonymous allowed) is no requirement."""
    if not isinstance(value, list):
        return ()
    alternatives = [tuple(sorted(map(str, r))) for r in value if isinstance(r, dict)]
    return () if () in alternatives else tuple(sorted(set(alternatives)))


def _schemes(doc: dict[str, Any]) -> dict[str, str]:
    components = given if isinstance(given := doc.get("components"), dict) else {}
    found = components.get("securitySchemes") or doc.get("securityDefinitions") or {}
    out = {}
    for name, scheme in found.items() if isinstance(found, dict) else ():
        if isinstance(scheme, dict):
            parts = (scheme.get("type"), scheme.get("scheme"), scheme.get("in"), scheme.get("name"))
            out[str(name)] = " ".join(str(p) for p in parts if p)
    return out
