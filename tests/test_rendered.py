"""The screens a person reads on a ticket, rendered as GitHub would (#13): the real app runs a
story in the sandbox, then its status comment and replies go through markdown-it-py
(CommonMark with GFM tables) and are checked for what a reader needs.

Set BATON_SCREENS=DIR to keep the rendered pages as HTML there (the README's images are
screenshots of them: `chromium --headless --screenshot=... DIR/status.html`).
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

from markdown_it import MarkdownIt

from app.tickets.messages import STATUS_MARKER
from tests.conftest import REPO, Stack
from tests.test_tickets_e2e import age, status

GFM = MarkdownIt("commonmark").enable("table")
# What GitHub keeps of a comment's HTML here; anything else would be stray HTML.
ALLOWED = {
    "p", "h3", "strong", "em", "code", "pre", "ul", "li", "blockquote", "table", "thead",
    "tbody", "tr", "th", "td", "br",
}  # fmt: skip
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
SPEC = "Refunds.\n\n## Acceptance criteria\n- [x] a refund endpoint\n- [ ] a refund button\n"
PAGE = """<!doctype html><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font: 14px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2328;
       margin: 16px; width: 760px; }}
.comment {{ border: 1px solid #d0d7de; border-radius: 6px; margin-bottom: 16px; }}
.head {{ background: #f6f8fa; border-bottom: 1px solid #d0d7de; padding: 8px 16px;
        color: #59636e; }}
.body {{ padding: 8px 16px; }}
table {{ border-collapse: collapse; }} th, td {{ border: 1px solid #d0d7de; padding: 4px 12px; }}
code {{ background: #eff1f3; border-radius: 4px; padding: 1px 4px; font-size: 85%; }}
.reaction {{ border: 1px solid #d0d7de; border-radius: 12px; padding: 2px 8px;
             font-size: 12px; display: inline-block; margin: 0 0 8px; }}
blockquote {{ color: #59636e; border-left: 4px solid #d0d7de; margin: 0; padding: 0 12px; }}
</style>
{comments}"""


def visible_html(markdown: str) -> str:
    """The HTML a reader gets: GitHub hides HTML comments."""
    return re.sub(r"<!--.*?-->", "", GFM.render(markdown), flags=re.S)


def stray_tags(rendered: str) -> set[str]:
    return {t for t in re.findall(r"</?([a-zA-Z0-9]+)", rendered) if t.lower() not in ALLOWED}


def text_of(rendered: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", rendered))


EMOJI = {"+1": "\N{THUMBS UP SIGN}", "-1": "\N{THUMBS DOWN SIGN}", "confused": "\N{CONFUSED FACE}"}


def page(title: str, comments: list[tuple[str, str, list[str]]]) -> str:
    blocks = "".join(
        f'<div class="comment"><div class="head"><b>{html.escape(who)}</b> commented</div>'
        f'<div class="body">{visible_html(body)}'
        + "".join(f'<span class="reaction">{EMOJI.get(r, r)} 1</span>' for r in reactions)
        + "</div></div>"
        for who, body, reactions in comments
    )
    return PAGE.format(title=html.escape(title), comments=blocks)


async def test_the_ticket_screens_read_well(stack: Stack) -> None:
    sandbox = stack.sandbox
    ann, maya = sandbox.person("ann"), sandbox.person("maya")
    sandbox.grant(REPO, "maya", "write")
    ada, bolt = sandbox.person("ada[bot]", "Bot"), sandbox.person("bolt[bot]", "Bot")
    n = ann.open_issue(REPO, "Refunds for orders", SPEC, labels=["role: backend", "role: web"])
    await stack.settle()
    ada.comment(REPO, n, "/claim backend -- taking the refund endpoint (fees < 5%), cc @maya")
    await stack.settle()
    age(stack, hours=3)
    bolt.comment(REPO, n, "/claim backend")  # held: told who holds it
    bolt.comment(REPO, n, "/claim web -- the `Refund` button")
    await stack.settle()
    ada.open_pr(REPO, "Refund endpoint", f"Fixes #{n}", "refunds", {"api.py": b"x = 1\n"})
    await stack.settle()
    age(stack, minutes=40)
    ada.comment(REPO, n, "/done backend -- tests in `api/test_refund.py` <!-- hidden")
    maya.comment(REPO, n, "/workload @bolt[bot]")
    await stack.settle()

    body, state = status(stack, n)
    screen = visible_html(body)
    assert stray_tags(screen) == set(), stray_tags(screen)
    words = text_of(screen)
    assert "(unnamed)" not in words and not ISO_TIME.search(words)  # relative times
    assert "3 hours ago" in words or "40 minutes ago" in words
    assert "taking the refund endpoint (fees < 5%), cc @\u200dmaya" in words  # as written
    assert state["claims"][0]["since"].endswith("Z")  # the exact time stays in the JSON
    pr_line = next(li for li in re.findall(r"<li>(.*?)</li>", screen, re.S) if "#" in li)
    assert "verification:" in pr_line
    reason = state["prs"][0].get("reason")  # what the gate waits for, once the gate says
    assert not reason or html.escape(reason, quote=False) in pr_line
    replies = [
        (c.user.login, c.body)
        for c in sandbox.world.repos[REPO].comments.values()
        if c.issue_number == n and c.via_app and not c.body.startswith(STATUS_MARKER)
    ]
    assert replies
    for _, reply in replies:
        shown = visible_html(reply)
        assert stray_tags(shown) == set(), reply
        assert not ISO_TIME.search(text_of(shown)) and "(unnamed)" not in shown
    thread = [
        (c.user.login, c.body, [r for _, _, r in c.reactions])
        for c in sandbox.world.repos[REPO].comments.values()
        if c.issue_number == n
    ]
    keep = os.environ.get("BATON_SCREENS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        Path(keep, "status.html").write_text(page("status", [("baton[bot]", body, [])]))
        Path(keep, "thread.html").write_text(
            page("thread", [t for t in thread if not t[1].startswith(STATUS_MARKER)])
        )
