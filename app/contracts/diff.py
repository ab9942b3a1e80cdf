"""Base vs head: endpoints removed while still called, and renamed ones (breaking OpenAPI
changes are in breaking.py)."""

from __future__ import annotations

from collections.abc import Sequence

from .match import EndpointIndex, methods_match
from .model import Call, Endpoint, Finding


def removed_endpoints(
    base: Sequence[Endpoint], head: Sequence[Endpoint], calls: Sequence[Call], base_path: str = ""
) -> list[Finding]:
    """One error per head call that reached an endpoint of base which head no longer provides."""
    head_keys = {(ep.method, ep.path) for ep in head}
    gone = [ep for ep in base if (ep.method, ep.path) not in head_keys]
    if not gone:
        return []
    renamed = renames(base, head)
    gone_index = EndpointIndex(gone, base_path)
    head_index = EndpointIndex(head, base_path)
    findings = []
    for call in calls:
        hits = [
            ep for ep in gone_index.path_matches(call.path) if methods_match(call.method, ep.method)
        ]
        if not hits:
            continue
        still = [
            ep for ep in head_index.path_matches(call.path) if methods_match(call.method, ep.method)
        ]
        if still:
            continue  # another head endpoint serves it (moved between files, or `*` route)
        ep = hits[0]
        new = renamed.get((ep.method, ep.path))
        hint = f" Renamed to {new.path} ({new.file}:{new.line})?" if new else ""
        findings.append(
            Finding(
                "removed-endpoint",
                "error",
                call.file,
                call.line,
                f"{ep.method} {ep.path} was provided on the base branch ({ep.file}:{ep.line}) "
                f"and is removed here, but this call still uses it.{hint} Restore the endpoint, "
                "or change this call.",
                call.method,
                call.path,
            )
        )
    return findings


def _one_segment_apart(a: str, b: str) -> bool:
    left, right = a.strip("/").split("/"), b.strip("/").split("/")
    if len(left) != len(right):
        return False
    apart = [(x, y) for x, y in zip(left, right, strict=True) if x != y]
    return len(apart) == 1 and "{" not in apart[0][0] + apart[0][1]


def renames(base: Sequence[Endpoint], head: Sequence[Endpoint]) -> dict[tuple[str, str], Endpoint]:
    """(method, path) of a base endpoint gone in head -> the one new head endpoint of the same
    method whose path differs from it in one literal segment: a rename, most likely."""
    base_keys = {(ep.method, ep.path) for ep in base}
    head_keys = {(ep.method, ep.path) for ep in head}
    added = [ep for ep in head if (ep.method, ep.path) not in base_keys]
    out = {}
    for ep in base:
        if (ep.method, ep.path) in head_keys:
            continue
        found = {
            (a.method, a.path): a
            for a in added
            if a.method == ep.method and _one_segment_apart(ep.path, a.path)
        }
        if len(found) == 1:
            out[(ep.method, ep.path)] = next(iter(found.values()))
    return out
