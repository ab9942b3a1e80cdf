"""The provided endpoints as an OpenAPI 3.1 document (`baton scan --format openapi`): what
agents read as the real contract. Each operation carries its source (`x-baton-source`). When
the repository has an OpenAPI document, that document's operations are the contract."""

from __future__ import annotations

import re
from typing import Any

from .model import Endpoint, ScanResult
from .sarif import tool_version

ANY_METHOD = "x-baton-any-method"  # OpenAPI has no "any method": each is listed, marked so
WILDCARD = "x-baton-wildcard"  # the path parameter that takes the rest of the path
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
# A parameter in any syntax the scanner reads: {id}, {id:int}, :id, :id?, <int:id>, <id>, *.
_PARAM = re.compile(
    r"\{(?P<brace>[^{}/:]*)(?::[^{}/]*)?\}|<(?:(?P<conv>[a-zA-Z_]+):)?(?P<angle>[a-zA-Z_]\w*)>"
    r"|:(?P<colon>[a-zA-Z_]\w*)(?:\([^)/]*\))?\??|(?P<star>\*\*?|\(\.\*\))"
)


def _template(endpoint: Endpoint) -> tuple[str, list[str], str | None]:
    """(OpenAPI path, its parameter names, the wildcard parameter if any)."""
    names: list[str] = []
    wildcard: str | None = None

    def named(match: re.Match[str]) -> str:
        nonlocal wildcard
        name = match["brace"] or match["angle"] or match["colon"] or ""
        name = re.sub(r"\W", "_", name) or f"param{len(names) + 1}"
        while name in names:
            name += "_"
        names.append(name)
        if match["star"] or match["conv"] == "path":
            wildcard = name
        return "{" + name + "}"

    raw = endpoint.raw_path if endpoint.raw_path.startswith("/") else endpoint.path
    path = _PARAM.sub(named, raw.split("?", 1)[0])
    path = re.sub(r"/{2,}", "/", path).rstrip("/") or "/"
    return path, names, wildcard


def openapi_export(result: ScanResult) -> dict[str, Any]:
    """An OpenAPI 3.1 document of `result.endpoints`, with each operation's file and line."""
    endpoints = [e for e in result.endpoints if e.source == "openapi"] or list(result.endpoints)
    paths: dict[str, dict[str, Any]] = {}
    keys: dict[str, str] = {}  # normalised path -> the first spelling of it
    for ep in sorted(endpoints, key=lambda e: (e.path, e.method, e.file, e.line)):
        path, names, wildcard = _template(ep)
        key = keys.setdefault(ep.path, path)
        if key != path:
            names = re.findall(r"\{([^}]*)\}", key)
        item = paths.setdefault(key, {})
        if wildcard and key == path:
            item[WILDCARD] = wildcard
        methods = _METHODS if ep.method == "*" else (ep.method.lower(),)
        for method in methods:
            if method not in _METHODS or method in item:
                continue
            operation: dict[str, Any] = {
                "summary": f"{ep.source or 'code'} route at {ep.file}:{ep.line}",
                "responses": {"default": {"description": "Not described by the code."}},
                "x-baton-source": {"file": ep.file, "line": ep.line},
            }
            if names:
                operation["parameters"] = [
                    {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
                    for n in names
                ]
            if ep.method == "*":
                operation[ANY_METHOD] = True
            item[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Provided endpoints (Baton)", "version": tool_version()},
        "paths": paths,
    }
