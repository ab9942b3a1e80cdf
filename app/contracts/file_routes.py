"""Endpoints declared by where a file is: Next.js route handlers and API routes, SvelteKit
`+server` files, Nuxt `server/api` handlers (not in Express modules). The path comes from the
directories; the methods from exported handler names (`export async function GET`) or the file
name (`users.get.ts`)."""

from __future__ import annotations

import re

from .facts import FileFacts
from .model import Endpoint
from .urls import normalize_route

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_EXTS = ("ts", "js", "mjs", "cjs", "tsx", "jsx")


def _segment(seg: str) -> str | None:
    """A directory or file name as a URL segment; None when it adds nothing (`(group)`)."""
    if (seg.startswith("(") and seg.endswith(")")) or seg.startswith("@") or seg == "index":
        return None
    if re.fullmatch(r"\[\[?\.\.\.[^\]]+\]\]?", seg):
        return "{*}"
    return re.sub(r"\[\[?([^\]=]+)(=[^\]]*)?\]\]?", r"{\1}", seg)


def _path(segments: list[str]) -> str:
    return "/" + "/".join(s for s in map(_segment, segments) if s)


def _after(parts: list[str], *names: str) -> int | None:
    """Index just after the last run of `names` in the directories, e.g. ('pages', 'api')."""
    for i in range(len(parts) - len(names), -1, -1):
        if tuple(parts[i : i + len(names)]) == names:
            return i + len(names)
    return None


def file_endpoints(path: str, facts: FileFacts) -> list[Endpoint]:
    parts = path.split("/")
    stem, _, ext = parts[-1].rpartition(".")
    if ext not in _EXTS or facts.lang != "js":
        return []
    exported = dict(facts.export_names)
    handlers = [(m, exported[m]) for m in _METHODS if m in exported]
    dirs = parts[:-1]
    express = bool(facts.routers or facts.routes or facts.mounts)  # an Express module, not Nuxt
    found: list[tuple[str, str, int, str]] = []
    if stem == "route" and (at := _after(dirs, "app")) is not None:
        raw = _path(dirs[at:])
        found = [(m, raw, line, "nextjs") for m, line in handlers]
    elif (at := _after(dirs, "pages", "api")) is not None and "default" in exported and not express:
        raw = "/api" + _path([*dirs[at:], stem])
        tested = facts.handled_methods or (("*", exported["default"]),)
        found = [(m, raw, line, "nextjs") for m, line in tested]
    elif stem == "+server" and (at := _after(dirs, "routes")) is not None:
        raw = _path(dirs[at:])
        found = [(m, raw, line, "sveltekit") for m, line in handlers]
        if not handlers and "fallback" in exported:
            found = [("*", raw, exported["fallback"], "sveltekit")]
    elif (at := _after(dirs, "server", "api")) is not None and not express:
        name, _, verb = stem.rpartition(".")
        method = verb.upper() if name and verb.upper() in _METHODS else "*"
        raw = "/api" + _path([*dirs[at:], name if method != "*" else stem])
        found = [(method, raw, exported.get("default", 1), "nuxt")]
    return [
        Endpoint(m, normalize_route(raw), path, line, raw, source) for m, raw, line, source in found
    ]
