"""Calls of consumer files, resolved through the linker; memoised per file and its imports.

A file's resolved calls depend on its own facts, the facts of the modules its imports reached,
and the set of paths (which decides where an import lands). When none of these changed since
the last scan, the previous answer is reused: a re-scan after a push re-links changed files only.
"""

from __future__ import annotations

from threading import Lock
from typing import Any

from cachetools import LRUCache

from .facts import FileFacts
from .link import Linker
from .model import Call, Finding
from .urls import (
    Choice,
    Hole,
    Template,
    bind_args,
    expand,
    has_args,
    is_inline,
    origin_host,
    render_raw,
    template_path,
)

_MEMO: LRUCache[str, tuple[Any, ...]] = LRUCache(maxsize=40_000)
_LOCK = Lock()


def file_calls(
    path: str,
    facts: FileFacts,
    digest: str,
    linker: Linker,
    digests: dict[str, str],
    paths_key: int,
) -> tuple[list[Call], list[Finding]]:
    with _LOCK:
        memo = _MEMO.get(path)
    if memo is not None:
        own, key, deps, calls, notices = memo
        if own == digest and key == paths_key and all(digests.get(p) == d for p, d in deps):
            return calls, notices
    linker.touched = set()
    calls, notices = _resolve(path, facts, linker)
    deps = tuple((p, digests.get(p, "")) for p in sorted(linker.touched))
    linker.touched = None
    with _LOCK:
        _MEMO[path] = (digest, paths_key, deps, calls, notices)
    return calls, notices


def _resolve(path: str, facts: FileFacts, linker: Linker) -> tuple[list[Call], list[Finding]]:
    found: list[tuple[Any, Any, int, str]] = [
        (c.method, c.url, c.line, c.client) for c in facts.calls
    ]
    for pending in facts.pending:
        resolved = linker.pending(path, pending)
        if (
            resolved is not None
            and not has_args(resolved[1])
            and isinstance(resolved[0], str | tuple)
        ):
            found.append((resolved[0], resolved[1], pending.line, resolved[2]))
    calls: list[Call] = []
    notices: list[Finding] = []
    for method, url, line, client in found:
        linked = linker.template(path, url)
        if has_args(linked):  # a wrapper's own request, its base now known (urls.late_bound)
            linked = bind_args(linked)
            if has_args(linked):
                continue  # its argument is the path: reported where the wrapper is called
        shapes: list[tuple[str, str, str, str] | None] = []
        for verb, template in _alternatives(method, linked):  # one call per value of the URL
            if not is_inline(template):
                shape = template_path(template) if template else None
                shapes.append((*shape, origin_host(template), verb) if shape else None)
        if None in shapes and (len(shapes) == 1 or not any(shapes)):
            notices.append(unresolved(path, line, client, render_raw(linked)))
        for norm, raw, host, verb in dict.fromkeys(s for s in shapes if s is not None):
            calls.append(Call(verb, norm, path, line, raw, client, host))
    for call in facts.unresolved:
        notices.append(unresolved(path, call.line, call.client, ""))
    return calls, notices


_METHOD_END = Hole("\0method")  # where the method ends when expanded with the URL


def _alternatives(method: Any, url: Template) -> list[tuple[str, Template]]:
    """(method, url) per value a request takes. A method given as a template (`id ? 'PUT' :
    'POST'`) is expanded with the URL, so that alternatives of one condition stay paired."""
    if isinstance(method, str):
        return [(method, t) for t in expand(url)]
    url_keys = {p.key for p in url if isinstance(p, Choice) and p.key}
    paired = isinstance(method, tuple) and all(
        isinstance(p, str) or (isinstance(p, Choice) and p.key in url_keys) for p in method
    )
    if not paired:  # a method not chosen with the URL: any of its values may go with any URL
        return [("*", t) for t in expand(url)]
    out = []
    for joint in expand((*method, _METHOD_END, *url)):
        end = joint.index(_METHOD_END) if _METHOD_END in joint else 0
        verb = joint[0] if end == 1 and isinstance(joint[0], str) else "*"
        out.append((verb.upper(), tuple(joint[end + 1 :])))
    return out


def unresolved(path: str, line: int, client: str, raw: str) -> Finding:
    what = f" (seen: {raw})" if raw else ""
    return Finding(
        "unresolved-call",
        "notice",
        path,
        line,
        f"Could not work out the URL of this {client} call{what}. Baton follows literals, "
        "template literals, `+` and constants; build the URL from those, or add the file to "
        "contracts.ignore.",
        "*",
        "",
    )
