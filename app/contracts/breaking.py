"""OpenAPI changes that break callers, base vs head: the error-level classes of oasdiff's
checker that a caller can feel (statuses, required inputs, response fields and types, enums,
constraints, nullability, media types, headers, security). Each is an error at every calling
line, or a warning at the operation when nothing in the repository calls it."""

from __future__ import annotations

from collections.abc import Sequence

from .match import EndpointIndex, methods_match
from .model import Call, Endpoint, Finding
from .openapi import Field, Operation

# Limits a request may no longer exceed when they tighten, and a response may now exceed when
# they loosen: (name, tighter when the value goes up).
_TIGHTER_UP = {"minimum": True, "minLength": True, "minItems": True}


def _describe(where: str, name: str) -> str:
    return f"{where} field {name}" if where != "parameter" else f"parameter {name}"


def _limits(where: str, name: str, old: Field, new: Field, request: bool) -> list[str]:
    before, after = dict(old.limits), dict(new.limits)
    changes = []
    for limit in sorted(set(before) | set(after)):
        up = _TIGHTER_UP.get(limit, False)  # min*: tighter going up; max*: tighter going down
        a, b = before.get(limit), after.get(limit)
        if request and a is not None and b is not None and (b > a if up else b < a):
            changes.append(f"{_describe(where, name)} {limit} tightened from {a:g} to {b:g}")
        elif not request and a is not None and (b is None or (b < a if up else b > a)):
            now = "removed" if b is None else f"loosened from {a:g} to {b:g}"
            changes.append(f"{_describe(where, name)} {limit} {now}")
    return changes


def _field_changes(
    where: str, base: dict[str, Field], head: dict[str, Field], request: bool
) -> list[str]:
    changes = []
    for name, new in head.items():
        old = base.get(name)
        if request and new.required and (old is None or not old.required):
            added = "new required" if old is None else "now required"
            changes.append(f"{added} {_describe(where, name)}")
        if old is None:
            continue
        if old.type and new.type and old.type != new.type:
            changes.append(f"{_describe(where, name)} changed type from {old.type} to {new.type}")
        if request and old.enum and new.enum:
            removed = sorted(set(old.enum) - set(new.enum))
            if removed:
                changes.append(f"{_describe(where, name)} no longer accepts {', '.join(removed)}")
        if request and new.enum and not old.enum:
            changes.append(f"{_describe(where, name)} now accepts only {', '.join(new.enum)}")
        if request and old.nullable and not new.nullable:
            changes.append(f"{_describe(where, name)} no longer accepts null")
        if not request and new.nullable and not old.nullable:
            changes.append(f"{_describe(where, name)} may now be null")
        if not request and old.required and not new.required:
            changes.append(f"{_describe(where, name)} may now be absent")
        if request and where == "parameter" and old.default != new.default:
            changes.append(
                f"{_describe(where, name)} default changed from {old.default} to {new.default}"
            )
        changes += _limits(where, name, old, new, request)
    if not request:
        changes += [f"{_describe(where, name)} was removed" for name in base if name not in head]
    return changes


def _security_changes(base: Operation, head: Operation) -> list[str]:
    changes = []
    if head.security and set(head.security) - set(base.security):
        needed = " or ".join(" + ".join(alt) for alt in head.security)
        before = " or ".join(" + ".join(alt) for alt in base.security) or "nothing"
        changes.append(f"security now requires {needed} (was {before})")
    for alt in head.security:
        for scheme in alt:
            old, new = base.schemes.get(scheme), head.schemes.get(scheme)
            if old and new and old != new:
                changes.append(f"security scheme {scheme} changed from {old} to {new}")
    return changes


def operation_changes(base: Operation, head: Operation) -> list[str]:
    """Human-readable breaking changes from base to head of one operation."""
    changes = [
        f"success status {s} no longer returned"
        + (f" (now {', '.join(head.statuses)})" if head.statuses else "")
        for s in base.statuses
        if head.statuses and s not in head.statuses
    ]
    changes += _field_changes("parameter", base.params, head.params, True)
    if head.body_required and not base.body_required:
        changes.append("the request body is now required")
    changes += [
        f"request content type {t} no longer accepted"
        for t in base.request_types
        if head.request_types and t not in head.request_types
    ]
    changes += _field_changes("request body", base.body, head.body, True)
    changes += [
        f"response content type {t} no longer returned"
        for t in base.response_types
        if t not in head.response_types
    ]
    changes += _field_changes("response", base.response, head.response, False)
    for name, required in base.headers.items():
        if required and name not in head.headers:
            changes.append(f"response header {name} was removed")
        elif required and not head.headers.get(name):
            changes.append(f"response header {name} may now be absent")
    return changes + _security_changes(base, head)


def breaking_changes(
    base_ops: Sequence[tuple[str, Operation]],
    head_ops: Sequence[tuple[str, Operation]],
    calls: Sequence[Call],
    base_path: str = "",
) -> list[Finding]:
    """(file, operation) pairs of both sides -> an error at each call of a changed operation,
    or one warning at the operation when nothing calls it."""
    base_by_key = {(op.method, op.path): op for _, op in base_ops}
    findings = []
    for file, op in head_ops:
        old = base_by_key.get((op.method, op.path))
        if old is None:
            continue
        changes = operation_changes(old, op)
        if not changes:
            continue
        index = EndpointIndex([Endpoint(op.method, op.path, file, op.line)], base_path)
        callers = [
            c for c in calls if methods_match(c.method, op.method) and index.path_matches(c.path)
        ]
        what = f"{op.method} {op.path}: {'; '.join(changes)}."
        todo = " Keep the change backward compatible (optional field, new version), or update"
        for call in callers:
            findings.append(
                Finding(
                    "breaking-change",
                    "error",
                    call.file,
                    call.line,
                    f"{what} This call depends on it (operation at {file}:{op.line}).{todo} "
                    "this call.",
                    op.method,
                    op.path,
                )
            )
        if not callers:
            findings.append(
                Finding(
                    "breaking-change",
                    "warning",
                    file,
                    op.line,
                    f"{what} Nothing in this repository calls it.{todo} every consumer.",
                    op.method,
                    op.path,
                )
            )
    return findings
