"""Match expected calls against provided endpoints: unknown-endpoint, method-not-allowed, unused."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from difflib import get_close_matches
from functools import lru_cache
from typing import Any

from .model import Call, Endpoint, Finding
from .urls import looks_static, prefix

_MAX_HINTS = 200
_MEMO_SIZE = 200_000
# Match results of the last endpoint set: a re-scan matches only the calls that changed.
_MEMO: tuple[Any, dict[Call, tuple[list[Finding], list[Endpoint]]]] = (None, {})


@lru_cache(maxsize=65536)
def _segment_regex(segment: str) -> re.Pattern[str]:
    parts = segment.split("{}")
    return re.compile("[^/]*".join(re.escape(p) for p in parts) + r"\Z")


def _segment_matches(a: str, b: str) -> bool:
    if a == b or a == "{}" or b == "{}":
        return True
    a_param, b_param = "{}" in a, "{}" in b
    if a_param and b_param:
        return True
    if a_param:
        return bool(_segment_regex(a).match(b))
    if b_param:
        return bool(_segment_regex(b).match(a))
    return False


def paths_match(call_path: str, endpoint_path: str) -> bool:
    """Both normalised. `{}` is one segment; an endpoint's `{*}` (`<path:p>`, `*`) the rest."""
    call = call_path.strip("/").split("/")
    ep = endpoint_path.strip("/").split("/")
    for i, seg in enumerate(ep):
        if seg == "{*}":
            return len(call) >= i and all(
                _segment_matches(c, e) for c, e in zip(call, ep[:i], strict=False)
            )
        if i >= len(call):
            return False
        if not _segment_matches(call[i], seg):
            return False
    return len(call) == len(ep)


def methods_match(call_method: str, endpoint_method: str) -> bool:
    if "*" in (call_method, endpoint_method) or call_method == endpoint_method:
        return True
    return call_method == "HEAD" and endpoint_method == "GET"


class _Node:
    __slots__ = ("children", "endpoints", "wild")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.wild: _Node | None = None
        self.endpoints: list[Endpoint] = []


class EndpointIndex:
    """Endpoints in a trie of path segments, so 20,000 calls x 2,000 routes stays fast."""

    def __init__(self, endpoints: Sequence[Endpoint], base_path: str = "") -> None:
        self.endpoints = list(endpoints)
        self.base_path = base_path.strip("/")
        self._root = _Node()
        self._rest: list[Endpoint] = []  # with a {*} segment: checked one by one
        self._partial: set[Endpoint] = set()  # endpoints the trie alone cannot decide
        for ep in self.endpoints:
            if is_fallback(ep, self.endpoints):
                continue
            segments = ep.path.strip("/").split("/")
            if "{*}" in segments:
                self._rest.append(ep)
                self._partial.add(ep)
                continue
            node = self._root
            for seg in segments:
                if "{" in seg:
                    node.wild = node.wild or _Node()
                    node = node.wild
                else:
                    node = node.children.setdefault(seg, _Node())
            node.endpoints.append(ep)
            if any("{" in seg and seg != "{}" for seg in segments):
                self._partial.add(ep)  # `v{}`: the trie let anything through, check it

    def _candidates(self, path: str) -> Iterable[Endpoint]:
        segments = path.strip("/").split("/")
        found: list[Endpoint] = []
        frontier = [self._root]
        for seg in segments:
            following: list[_Node] = []
            for node in frontier:
                if "{" in seg:
                    following.extend(node.children.values())
                elif seg in node.children:
                    following.append(node.children[seg])
                if node.wild is not None:
                    following.append(node.wild)
            frontier = following
            if not frontier:
                break
        for node in frontier:
            found.extend(node.endpoints)
        return [*found, *self._rest]

    def path_matches(self, path: str) -> list[Endpoint]:
        variants = [path]
        if self.base_path:
            variants.append(prefix("/" + self.base_path, path))
            if (
                path.strip("/").startswith(self.base_path + "/")
                or path.strip("/") == self.base_path
            ):
                variants.append(path.strip("/")[len(self.base_path) :] or "/")
        found: list[Endpoint] = []
        for variant in variants:
            exact = "{" not in variant  # the trie matched every literal segment already
            found.extend(
                ep
                for ep in self._candidates(variant)
                if (exact and ep not in self._partial) or paths_match(variant, ep.path)
            )
        return found


def is_fallback(endpoint: Endpoint, endpoints: Sequence[Endpoint]) -> bool:
    """A catch-all at the root (`app.get('*')`, `/<path:path>`) next to other routes is the
    frontend's fallback page or a 404 handler: it answers no API call, and a call that reaches
    only it is drift."""
    return (
        endpoint.path == "/{*}"
        and endpoint.source in _CODE_ROUTES  # a file-based `[...path]` handler is deliberate
        and any(ep.path != "/{*}" for ep in endpoints)
    )


_CODE_ROUTES = ("express", "flask", "fastapi")


def match_calls(
    calls: Sequence[Call], endpoints: Sequence[Endpoint], base_path: str = ""
) -> tuple[list[Finding], dict[Call, list[Endpoint]]]:
    """Findings for calls that no endpoint serves (or serves only through an unknown piece of
    the URL), and which endpoints each call reaches."""
    global _MEMO
    key = (hash(tuple(endpoints)), base_path)
    if _MEMO[0] != key or len(_MEMO[1]) > _MEMO_SIZE:
        _MEMO = (key, {})  # only the last endpoint set is worth remembering
    memo = _MEMO[1]
    todo = [call for call in calls if call not in memo]
    new_findings, new_reached = _match(todo, endpoints, base_path)
    for call in todo:
        memo[call] = ([], new_reached.get(call, []))
    for finding, call in new_findings:
        memo[call][0].append(finding)
    findings: list[Finding] = []
    reached: dict[Call, list[Endpoint]] = {}
    for call in calls:
        found, eps = memo[call]
        findings += found
        if eps:
            reached[call] = eps
    return findings, reached


def provider_calls(
    calls: Sequence[Call], endpoints: Sequence[Endpoint], base_path: str = ""
) -> list[Call]:
    """Calls to relative URLs, and to the hosts whose calls reach the provider at least once;
    a host none of whose calls does is a third party (`https://api.github.com/...`)."""
    hosts = {c.host for c in calls if c.host}
    if not hosts:
        return list(calls)
    index = EndpointIndex(endpoints, base_path)
    reaching: set[str] = set()
    for call in calls:  # one call reaching the provider is enough for its host
        if call.host and call.host not in reaching and index.path_matches(call.path):
            reaching.add(call.host)
    unreached = hosts - reaching
    if any(h.startswith(("localhost:", "{")) for h in unreached) and any(
        not c.host and index.path_matches(c.path) for c in calls
    ):
        reaching.add("")  # relative calls show where the provider is
    ours = reaching | _local_ours(unreached, reaching, endpoints)
    return [c for c in calls if not c.host or c.host in ours]


# Ports the provider's framework serves on by default (`next dev`, `flask run`, `uvicorn`).
_DEFAULT_PORTS = {"nextjs": "3000", "nuxt": "3000", "flask": "5000", "fastapi": "8000"}


def _local_ours(unreached: set[str], reaching: set[str], endpoints: Sequence[Endpoint]) -> set[str]:
    """A local port none of whose calls reach the provider is another service (json-server
    on :4000 beside Next.js on :3000) only when other calls show where the provider is, and
    the port is not the provider framework's default. So is an unknown base URL
    (`${BASE_URL}/all`, `BASE_URL` from SvelteKit's private env)."""
    defaults = {_DEFAULT_PORTS.get(ep.source, "") for ep in endpoints}
    return {
        host
        for host in unreached
        if (host.startswith("localhost:") and host.partition(":")[2] in defaults)
        or (host.startswith(("localhost:", "{")) and not reaching)
    }


def strong_match(call_path: str, endpoint_path: str) -> bool:
    """No unknown piece of the call stands for a literal segment of the endpoint."""
    call, ep = call_path.strip("/").split("/"), endpoint_path.strip("/").split("/")
    if "{*}" not in ep and len(call) != len(ep):  # matched with `base_path` added or dropped
        call, ep = call[-len(ep) :], ep[-len(call) :]
    for c, e in zip(call, ep, strict=False):
        if e == "{*}":
            return True
        if "{}" in c and "{" not in e:
            return False
    return True


def _match(
    calls: Sequence[Call], endpoints: Sequence[Endpoint], base_path: str
) -> tuple[list[tuple[Finding, Call]], dict[Call, list[Endpoint]]]:
    index = EndpointIndex(endpoints, base_path)
    findings: list[tuple[Finding, Call]] = []
    reached: dict[Call, list[Endpoint]] = {}
    all_paths = sorted({ep.path for ep in endpoints})
    for call in calls:
        by_path = index.path_matches(call.path)
        if not by_path:
            if looks_static(call.path):
                continue  # a static asset served by the frontend, not an API call
            hint = ""
            if len(findings) < _MAX_HINTS:  # difflib is quadratic-ish: hint the first ones only
                close = get_close_matches(call.path, all_paths, n=1, cutoff=0.6)
                hint = f" The closest provided path is {close[0]}." if close else ""
            findings.append(
                (
                    Finding(
                        "unknown-endpoint",
                        "error",
                        call.file,
                        call.line,
                        f"{call.method} {call.path} is not provided by any endpoint.{hint} "
                        "Fix the URL, or add the endpoint to the provider.",
                        call.method,
                        call.path,
                    ),
                    call,
                )
            )
            continue
        by_method = [ep for ep in by_path if methods_match(call.method, ep.method)]
        if not by_method:
            allowed = ", ".join(sorted({ep.method for ep in by_path}))
            findings.append(
                (
                    Finding(
                        "method-not-allowed",
                        "error",
                        call.file,
                        call.line,
                        f"{call.method} {call.path}: the endpoint only allows {allowed}. "
                        f"Change the method, or add a {call.method} handler.",
                        call.method,
                        call.path,
                    ),
                    call,
                )
            )
            continue
        reached[call] = by_method
        slash = _trailing_slash(call, by_method)
        if slash is not None:
            findings.append((slash, call))
        if not any(strong_match(call.path, ep.path) for ep in by_method):
            shown = ", ".join(sorted({f"{ep.method} {ep.path}" for ep in by_method})[:3])
            findings.append(
                (
                    Finding(
                        "partially-resolved",
                        "notice",
                        call.file,
                        call.line,
                        f"{call.method} {call.raw_path or call.path} reaches {shown} only "
                        "through a part of its URL Baton could not work out, so drift there "
                        "goes unseen. Build the URL from literals and constants.",
                        call.method,
                        call.path,
                    ),
                    call,
                )
            )
    return findings, reached


# What a framework does with a request whose trailing slash differs from the route's.
_SLASH_ANSWER = {
    "flask": "Flask answers 404 (a route without the slash) or redirects with 308 (unless the "
    "route sets strict_slashes=False)",
    "fastapi": "FastAPI answers with a 307 redirect (lost behind some proxies, and browsers "
    "drop the body of a redirected preflight)",
    "django": "Django answers 404 or a 301 redirect that loses a POST body (APPEND_SLASH)",
}


def _slashed(raw: str) -> bool:
    return len(raw) > 1 and raw.endswith("/")


def _trailing_slash(call: Call, endpoints: list[Endpoint]) -> Finding | None:
    """A warning when the call's trailing slash differs from the route's, where the provider's
    framework does not treat the two alike (Express does, by default)."""
    strict = [ep for ep in endpoints if ep.source in _SLASH_ANSWER and ep.raw_path]
    if not strict or len(strict) < len(endpoints):
        return None
    wanted = _slashed(call.raw_path or call.path)
    if any(_slashed(ep.raw_path) == wanted for ep in strict):
        return None
    ep = strict[0]
    return Finding(
        "trailing-slash",
        "warning",
        call.file,
        call.line,
        f"{call.method} {call.raw_path} {'ends' if wanted else 'does not end'} with a slash but "
        f"the route {ep.raw_path} ({ep.file}:{ep.line}) {'does not' if wanted else 'does'}: "
        f"{_SLASH_ANSWER[ep.source]}. Write the URL as the route is written.",
        call.method,
        call.path,
    )


def unused_endpoints(
    endpoints: Sequence[Endpoint], reached: dict[Call, list[Endpoint]]
) -> list[Finding]:
    used = {ep for eps in reached.values() for ep in eps}
    return [
        Finding(
            "unused-endpoint",
            "notice",
            ep.file,
            ep.line,
            f"No consumer in this repository calls {ep.method} {ep.path}. "
            "Remove it if it is dead, or add it to contracts.ignore if others call it.",
            ep.method,
            ep.path,
        )
        for ep in endpoints
        if ep not in used and not is_fallback(ep, endpoints)
    ]
