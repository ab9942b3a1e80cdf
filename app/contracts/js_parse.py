"""Parse JavaScript/TypeScript (and the scripts of .vue/.svelte files) with tree-sitter, bounded."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from functools import cache

import tree_sitter
import tree_sitter_javascript
import tree_sitter_typescript

PARSE_SECONDS = 2.0
_SCRIPT = re.compile(rb"<script\b([^>]*)>(.*?)</script\s*>", re.DOTALL | re.IGNORECASE)


class ParseError(ValueError):
    pass


@cache
def _language(name: str) -> tree_sitter.Language:
    if name == "typescript":
        return tree_sitter.Language(tree_sitter_typescript.language_typescript())
    if name == "tsx":
        return tree_sitter.Language(tree_sitter_typescript.language_tsx())
    return tree_sitter.Language(tree_sitter_javascript.language())


@dataclass(frozen=True)
class Script:
    source: bytes
    language: str
    line_offset: int  # added to tree-sitter rows (0-based) + 1 to get file lines


def scripts(path: str, data: bytes) -> list[Script]:
    lower = path.lower()
    if lower.endswith((".vue", ".svelte", ".html")):
        found = []
        for match in _SCRIPT.finditer(data):
            attrs = match.group(1)
            lang = "typescript" if re.search(rb"lang\s*=\s*[\"']?ts", attrs) else "javascript"
            found.append(Script(match.group(2), lang, data.count(b"\n", 0, match.start(2))))
        return found
    if lower.endswith(".tsx"):
        return [Script(data, "tsx", 0)]
    if lower.endswith((".ts", ".mts", ".cts")):
        return [Script(data, "typescript", 0)]
    return [Script(data, "javascript", 0)]


def parse(script: Script, seconds: float = PARSE_SECONDS) -> tree_sitter.Tree:
    """Parse within a time budget (tree-sitter checks the progress callback as it goes)."""
    parser = tree_sitter.Parser(_language(script.language))
    source = script.source
    deadline = time.monotonic() + seconds

    def read(offset: int, _point: object) -> bytes:
        return source[offset : offset + 65536]

    def progress(*_: object) -> bool:
        return time.monotonic() > deadline

    try:
        tree = parser.parse(read, progress_callback=progress)
    except ValueError:
        raise ParseError(f"parsing took longer than {seconds:.0f} s") from None
    if tree is None:
        raise ParseError("parsing failed")
    return tree
