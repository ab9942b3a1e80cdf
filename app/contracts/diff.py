"""Base vs head: endpoints removed while still called, and breaking OpenAPI changes."""

from __future__ import annotations

from collections.abc import Sequence

from .match import EndpointIndex, methods_match
from .model import Call, Endpoint, Finding
from .openapi import Field, Operation


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


def _describe(where: str, name: str) -> str:
    return f"{where} field {name}" if where != "parameter" else f"parameter {name}"


def _field_changes(
    where: str,
    base: dict[str, Field],
    head: dict[str, Field],
    removal_breaks: bool,
    check_required: bool,
) -> list[str]:
    changes = []
    for name, new in head.items():
        old = base.get(name)
        if check_required and new.required and (old is None or not old.required):
            added = "new required" if old is None else "now required"
            changes.append(f"{added} {_describe(where, name)}")
        if old is None:
            continue
        if old.type and new.type and old.type != new.type:
            changes.append(f"{_describe(where, name)} changed type from {old.type} to {new.type}")
        if check_required and old.enum and new.enum:
            removed = sorted(set(old.enum) - set(new.enum))
            if removed:
                changes.append(f"{_describe(where, name)} no longer accepts {', '.join(removed)}")
    if removal_breaks:
        for name in base:
            if name not in head:
                changes.append(f"{_describe(where, name)} was removed")
    return changes


def operation_changes(base: Operation, head: Operation) -> list[str]:
    """Human-readable breaking changes from base to head of one operation."""
    changes = _field_changes("parameter", base.params, head.params, False, True)
    if head.body_required and not base.body_required:
        changes.append("the request body is now required")
    changes += _field_changes("request body", base.body, head.body, False, True)
    changes += _field_changes("response", base.response, head.response, True, False)
    return changes


def breaking_changes(
    base_ops: Sequence[tuple[str, Operation]],
    head_ops: Sequence[tuple[str, Operation]],
    calls: Sequence[Call],
    base_path: str = "",
) -> list[Finding]:
    """(file, operation) pairs of both sides -> one finding per changed operation."""
    base_by_key = {(op.method, op.path): op for _, op in base_ops}
    findings = []
    for file, op in head_ops:
        old = base_by_key.get((op.method, op.path))
        if old is None:
            continue
        changes = operation_changes(old, op)
        if not changes:
            continue
        endpoint = Endpoint(op.method, op.path, file, op.line)
        index = EndpointIndex([endpoint], base_path)
        callers = [
            c for c in calls if methods_match(c.method, op.method) and index.path_matches(c.path)
        ]
        where = f" Called from {callers[0].file}:{callers[0].line}." if callers else ""
        findings.append(
            Finding(
                "breaking-change",
                "error" if callers else "warning",
                file,
                op.line,
                f"{op.method} {op.path}: {'; '.join(changes)}.{where} Keep the change "
                "backward compatible (optional field, new version), or update every consumer.",
                op.method,
                op.path,
            )
        )
    return findings
