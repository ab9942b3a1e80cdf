"""User text made inert, and commands read from prose: checked by rendering with markdown-it-py
(CommonMark with GFM tables), as a reader's screen would show it."""

from __future__ import annotations

import re
import time

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from app.markdown import ZWJ, code, command_lines, inert
from app.markdown import _flat as flat

GFM = MarkdownIt("commonmark").enable("table")
MENTION = re.compile(r"(?<![\w`])@[A-Za-z0-9]")

hostile = st.text(
    alphabet=st.sampled_from(list("@`<>!-|\\*_[]()#&;:/ \n\tab\u202e\u200b")) | st.characters(),
    max_size=200,
)


def inline_children(markdown: str) -> list:  # type: ignore[type-arg]
    return [c for t in GFM.parse(markdown) if t.children for c in t.children]


@settings(max_examples=400, deadline=None)
@given(hostile)
def test_inert_text_renders_as_one_text_with_no_mention_html_or_markup(text: str) -> None:
    shown = inert(text)
    assert "\n" not in shown and len(shown) <= 2_000
    assert "<" not in shown and ">" not in shown  # no HTML, no comment, no status marker
    assert not MENTION.search(shown)
    rendered = GFM.render(f"x {shown}")
    assert "<" not in re.sub(r"</?p>", "", rendered)  # no element from the user's text
    kinds = {c.type for c in inline_children(f"x {shown}")}
    assert kinds <= {"text", "softbreak"}, kinds


@settings(max_examples=300, deadline=None)
@given(hostile)
def test_inert_text_stays_in_its_table_cell(text: str) -> None:
    table = f"| a | b |\n|---|---|\n| {inert(text)} | end |\n"
    cells = [t for t in GFM.parse(table) if t.type == "td_open"]
    assert len(cells) == 2
    assert "end" in GFM.render(table).split("<td>")[-1]


@settings(max_examples=300, deadline=None)
@given(hostile)
def test_code_span_cannot_be_broken_out_of(text: str) -> None:
    span = code(text)
    children = inline_children(f"role {span} here")
    kinds = [c.type for c in children]
    assert kinds.count("code_inline") == 1 and "html_inline" not in kinds, kinds
    assert "<!--" not in span
    inside = next(c.content for c in children if c.type == "code_inline")
    assert inside.replace(ZWJ, "").strip() == flat(text, 100)  # shown as written, bounded


def test_inert_bounds_and_keeps_what_was_written_readable() -> None:
    assert inert("x" * 1000, 50) == "x" * 49 + "…"
    assert inert("@alice fixed <b>it</b> | #12") == (
        f"@{ZWJ}alice fixed &lt;b&gt;it&lt;/b&gt; \\| \\#12"
    )
    assert inert("a\u202eb\u200bc") == "a b c"  # bidi overrides and zero-width: visible


def test_command_lines_are_the_prose_lines_of_paragraphs() -> None:
    body = (
        "/claim\nsecond /release\n> /done\n\n```\n/status\n```\n\n    /status\n\n"
        "- /workload\n\n<!--\n/claim\n-->\n\n`code\n/release\n`\n\n<div>\n/claim\n</div>\n"
    )
    assert [line for line in command_lines(body) if line.startswith("/")] == [
        "/claim",
        "/workload",
    ]


def test_reading_commands_from_hostile_bodies_is_bounded_in_time() -> None:
    """GitHub's largest comment, made of what slows Markdown parsers down (link brackets,
    emphasis runs, backticks): well under a second each (it was 2 s for `[` with links on)."""
    for unit in ("[", "[a](", "_*", "`a", "[*_`<a](\n", "&#"):
        body = "/claim\n" + unit * (65_536 // len(unit))
        started = time.process_time()
        assert [line for line in command_lines(body) if line.startswith("/")] == ["/claim"]
        assert time.process_time() - started < 1.5, unit
