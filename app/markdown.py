"""GitHub-flavoured Markdown in and out: the prose of a body, and user text made inert.

In: `prose_lines` (lines outside fenced code, for the spec and links) and `command_lines`
(lines that start a line of a paragraph's prose, read with markdown-it-py: never inside code,
quotes or HTML). Out: whatever users wrote and the bot repeats goes through `inert` (prose,
table cells) or `code` (a code span), which neither mention anyone nor open HTML.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from markdown_it import MarkdownIt
from markdown_it.token import Token

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
MAX_INERT = 300  # characters of user text repeated by default
ZWJ = "\u200d"  # after `@`: GitHub no longer sees a mention, readers still see `@login`
# Backslash-escaped in prose: what could start emphasis, links, code, tables or escapes.
_ESCAPED = re.compile(r"([\\`*_\[\]|~!#])")
# Control and format characters (bidi overrides, zero-width) that could hide or reorder text.
_HIDDEN = {"Cc", "Cf", "Zl", "Zp"}

# Commands need blocks, code spans and inline HTML only. Links, emphasis and entities cannot
# hide a line's start, and their rules are what makes hostile input slow (65,536 `[` took 2 s;
# without them 0.2 s).
_PARSER = MarkdownIt("commonmark").disable(
    ["link", "image", "emphasis", "entity", "autolink", "reference"]
)
_CANDIDATE = re.compile(r"^[^\n/]{0,40}/[A-Za-z]", re.MULTILINE)  # could a line hold one?


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


def _flat(text: object, limit: int) -> str:
    """One line of visible characters, at most `limit` of them (an ellipsis when cut)."""
    raw = str(text)[: limit * 4]
    visible = "".join(" " if unicodedata.category(c) in _HIDDEN else c for c in raw if c != ZWJ)
    flat = " ".join(visible.split())
    return flat if len(flat) <= limit else flat[: max(0, limit - 1)].rstrip() + "…"


def inert(text: object, limit: int = MAX_INERT) -> str:
    """User text to repeat in the bot's Markdown (prose or a table cell), shown as written but
    harmless: one line, bounded, no mention (`@` + zero-width joiner), no HTML or comment
    (`<`, `>`, `&` as entities, so neither a status marker nor `<!--` can appear), and no
    Markdown syntax (backslash escapes), so it cannot break out of a table or a code span."""
    flat = _flat(text, limit)
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _ESCAPED.sub(r"\\\1", flat).replace("@", "@" + ZWJ)


def code(text: object, limit: int = 100) -> str:
    """User text as a code span that cannot be broken out of: delimited by a backtick run
    longer than any inside it, padded so leading or trailing backticks stay inside. Inside a
    code span nothing is a mention or HTML; a zero-width joiner after `<` keeps even the raw
    text free of `<!--` (a reader of the raw body, like an agent, sees no comment opener).
    Not for table cells (use `inert`)."""
    flat = _flat(text, limit).replace("<", "<" + ZWJ) or " "
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if longest or flat.startswith(" ") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def table_cell(text: object) -> str:
    """`text` on one line, safe inside a table cell (`|` escaped), and unable to open HTML
    (`<`, `>` as entities). For text users wrote, prefer `inert` (no mentions either)."""
    flat = " ".join(str(text).split())
    return flat.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def command_lines(text: str | None, max_chars: int = 65_536) -> Iterator[str]:
    """The lines of a comment's prose that could hold a command: each line of a paragraph that
    is not in a block quote, with the line's own text (inline code kept as written). A line
    that starts with inline code or inline HTML (an HTML comment) is not prose; fenced and
    indented code, HTML blocks and quotes have no paragraphs here."""
    text = (text or "")[:max_chars]
    if not _CANDIDATE.search(text):
        return
    tokens = _PARSER.parse(text)
    quoted = 0
    for token in tokens:
        if token.type == "blockquote_open":
            quoted += 1
        elif token.type == "blockquote_close":
            quoted -= 1
        elif token.type == "inline" and not quoted and token.children is not None:
            yield from _lines(token.children)


def _lines(children: list[Token]) -> Iterator[str]:
    """The lines of one paragraph, as written; a line counts only if it starts with plain text
    (not inline code, not inline HTML such as a comment, which is one token however many lines
    it spans, so nothing inside it ever starts a line here)."""
    line: list[str] = []
    plain = True  # the line so far starts with a text token
    for child in children:
        if child.type in ("softbreak", "hardbreak"):
            if line and plain:
                yield "".join(line)
            line, plain = [], True
            continue
        if not line and child.type != "text":
            plain = False
        if child.type == "code_inline":
            line.append(child.markup + child.content + child.markup)
        elif child.type == "text":
            line.append(child.content)
        elif child.type != "html_inline":  # hidden on GitHub: not part of the line's text
            line.append(child.markup)
    if line and plain:
        yield "".join(line)
