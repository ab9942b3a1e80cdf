"""GitHub-flavoured markdown: the prose lines of a body (not fenced code), and table cells."""

from __future__ import annotations

import re
from collections.abc import Iterator

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def prose_lines(text: str | None) -> Iterator[str]:
    """Every line outside fenced code blocks (``` or ~~~, closed by a fence at least as long)."""
    fence = ""
    for line in (text or "").splitlines():
        opener = _FENCE.match(line)
        if fence:
            if opener and opener.group(1)[0] == fence[0] and len(opener.group(1)) >= len(fence):
                fence = ""
            continue
        if opener:
            fence = opener.group(1)
            continue
        yield line


def table_cell(text: object) -> str:
    """`text` on one line, safe inside a table cell (`|` escaped), and unable to open HTML
    (`<`, `>` as entities), so user text can neither break a table nor fake a comment block."""
    flat = " ".join(str(text).split())
    return flat.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
