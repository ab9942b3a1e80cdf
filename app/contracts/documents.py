"""Bounded loading of YAML and JSON documents: no alias bombs, no deep recursion, no runaway time.

YAML is read as libyaml's event stream (iterative, in C) and built here with a node budget, a
depth limit and a deadline; aliases count their full expanded size against the budget, so a
"billion laughs" file fails fast instead of exhausting memory in whoever walks the result.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import yaml

MAX_NODES = 2_000_000
MAX_DEPTH = 128
DEADLINE_SECONDS = 10.0

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_INT = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$")


class DocumentError(ValueError):
    """The document cannot be read within the bounds; the message says why."""


def _line(event: yaml.Event) -> int:
    return event.start_mark.line + 1 if event.start_mark is not None else 1


def _scalar(event: yaml.ScalarEvent) -> Any:
    value = event.value
    if event.style or event.tag not in (None, "!"):  # libyaml: "" for a plain scalar
        return value
    lower = value.lower()
    if lower in ("", "~", "null"):
        return None
    if lower in ("true", "yes", "on"):
        return True
    if lower in ("false", "no", "off"):
        return False
    if _INT.match(value):
        return int(value.replace("_", ""))
    if _FLOAT.match(value) and any(c.isdigit() for c in value):
        try:
            return float(value.replace("_", ""))
        except ValueError:
            return value
    return value


def load_yaml(text: str, line_depth: int = 4) -> tuple[Any, dict[tuple[str, ...], int]]:
    """(data, lines): lines maps key paths up to `line_depth` deep to their 1-based line."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    anchors: dict[str, tuple[Any, int]] = {}
    lines: dict[tuple[str, ...], int] = {}
    # Each open container: [value, size, anchor, pending key or _NOKEY, key path]
    stack: list[list[Any]] = []
    budget = 0
    result: Any = None
    done = False
    nokey = object()

    def attach(value: Any, size: int, line: int) -> None:
        nonlocal result, done
        if not stack:
            result, done = value, True
            return
        top = stack[-1]
        top[1] += size
        if isinstance(top[0], list):
            top[0].append(value)
        elif top[3] is nokey:
            if isinstance(value, dict | list):
                raise DocumentError("complex mapping keys are not supported")
            top[3] = value
            key_path = (*top[4], str(value))
            if len(key_path) <= line_depth:
                lines.setdefault(key_path, line)
        else:
            top[0][top[3]] = value
            top[3] = nokey

    try:
        for count, event in enumerate(yaml.parse(text, Loader=_Loader)):
            if count % 4096 == 0 and time.monotonic() > deadline:
                raise DocumentError(f"reading took longer than {DEADLINE_SECONDS:.0f} s")
            if done and isinstance(event, yaml.NodeEvent | yaml.CollectionStartEvent):
                break  # only the first document counts
            if isinstance(event, yaml.ScalarEvent):
                value = _scalar(event)
                budget += 1
                if event.anchor:
                    anchors[event.anchor] = (value, 1)
                attach(value, 1, _line(event))
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in anchors:
                    raise DocumentError(f"alias *{event.anchor} refers to itself or nothing")
                value, size = anchors[event.anchor]
                budget += size
                attach(value, size, _line(event))
            elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
                if len(stack) >= MAX_DEPTH:
                    raise DocumentError(f"nested deeper than {MAX_DEPTH} levels")
                container: Any = [] if isinstance(event, yaml.SequenceStartEvent) else {}
                path: tuple[str, ...] = ()
                if stack:
                    top = stack[-1]
                    path = top[4] if isinstance(top[0], list) else (*top[4], str(top[3]))
                stack.append([container, 1, event.anchor, nokey, path])
                budget += 1
            elif isinstance(event, yaml.CollectionEndEvent):
                value, size, anchor, _, _ = stack.pop()
                if anchor:
                    anchors[anchor] = (value, size)
                attach(value, size, _line(event))
            if budget > MAX_NODES:
                raise DocumentError(f"more than {MAX_NODES} nodes once aliases are expanded")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise DocumentError(f"invalid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    except (RecursionError, MemoryError):
        raise DocumentError("too deeply nested") from None
    return result, lines


def load_json(text: str) -> tuple[Any, dict[tuple[str, ...], int]]:
    """JSON via the C decoder (it guards recursion); lines of keys are not tracked."""
    try:
        return json.loads(text), {}
    except RecursionError:
        raise DocumentError("too deeply nested") from None
    except ValueError as exc:
        raise DocumentError(f"invalid JSON: {exc}") from None


def load_document(text: str, name: str) -> tuple[Any, dict[tuple[str, ...], int]]:
    if name.lower().endswith(".json"):
        return load_json(text)
    return load_yaml(text)


def json_line(text: str, needle: str, start: int = 0) -> tuple[int, int]:
    """(line, offset) of the first `"needle"` at or after `start`; (0, start) if absent."""
    at = text.find(json.dumps(needle), start)
    if at < 0:
        return 0, start
    return text.count("\n", 0, at) + 1, at
