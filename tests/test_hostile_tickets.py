"""Tickets as hostile users would try them (#9 cases 1-4, 8, 10), through the real app and the
sandbox: each asserts the safe outcome.

- 1: an agent (with write permission) cannot release, hand off, report done or unassign a claim
  it does not hold; the holder keeps it and the agent is refused.
- 2, 8: replies mention only the parties; user text is repeated inert (no mention, no HTML
  comment, no status marker, no code-span break-out).
- 3, 4: the status comment stays under 60,000 characters, and junk PRs cannot push the
  holder's PR out of the state; `/done` still re-checks its gate.
- 10: no command from HTML comments, code or quotes.
"""

from __future__ import annotations

import re
from pathlib import Path

from markdown_it import MarkdownIt

from app.checks.verification import VERIFICATION_CHECK
from app.service.server import STORE
from app.tickets.messages import STATUS_MARKER
from app.tickets.status_comment import MAX_STATUS, parse
from tests.conftest import REPO, Stack, running_stack
from tests.test_tickets_e2e import (
    SPEC,
    age,
    assignees,
    claimed,
    holders,
    labels,
    reactions,
    said,
    status,
    violations,
)

_MD = MarkdownIt("commonmark")
# GitHub's mentions: `@login` not preceded by a word character (an e-mail is no mention).
_MENTION = re.compile(r"(?<![\w`])@([A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?)")


def mentions(markdown: str) -> list[str]:
    """Logins GitHub would notify: `@login` in rendered prose (not in code, not in HTML)."""
    found: list[str] = []
    for token in _MD.parse(markdown):
        for child in token.children or []:
            if child.type == "text":
                found += [m.lower() for m in _MENTION.findall(child.content)]
    return found


def all_comments(stack: Stack, number: int) -> list[str]:
    return [
        c.body
        for c in stack.sandbox.world.repos[REPO].comments.values()
        if c.issue_number == number and c.via_app
    ]


# --- 1: one authority rule ----------------------------------------------------------------


async def test_an_agent_with_write_permission_cannot_act_on_another_agents_claim(
    stack: Stack,
) -> None:
    n = await claimed(stack, note="mine")
    bolt = stack.sandbox.person("bolt[bot]", "Bot")
    stack.sandbox.grant(REPO, "bolt[bot]", "write")  # a bot that pushes branches has it
    before = status(stack, n)[1]["claims"]
    tries = [
        bolt.comment(REPO, n, text)
        for text in ("/release", "/handoff @bolt[bot]", "/done -- my evidence")
    ]
    await stack.settle()
    assert assignees(stack, n) == ["ada[bot]"] and labels(stack, n) == ["status: in-progress"]
    state = status(stack, n)[1]
    assert state["claims"] == before and state["done"] == []
    refusals = said(stack, n)
    assert len(refusals) == 3 and all(r.startswith("@bolt[bot],") for r in refusals)
    assert [reactions(stack, cid) for cid in tries] == [["-1"]] * 3
    # The same through GitHub's assignees: unassigning the holder and assigning itself.
    age(stack, minutes=1)
    bolt.unassign(REPO, n, "ada[bot]")
    await stack.settle()
    assert assignees(stack, n) == ["ada[bot]"] and len(said(stack, n)) == 4
    age(stack, minutes=1)
    bolt.assign(REPO, n, "bolt[bot]")
    await stack.settle()
    assert assignees(stack, n) == ["ada[bot]"] and holders(stack, n) == [("ada[bot]", "mine")]
    assert violations(stack.sandbox.requests) == []


async def test_the_holder_and_a_human_maintainer_still_may(stack: Stack) -> None:
    n = await claimed(stack)
    stack.sandbox.grant(REPO, "maya", "write")
    stack.sandbox.person("bolt[bot]", "Bot")
    stack.sandbox.person("maya").comment(REPO, n, "/handoff @bolt[bot]")
    await stack.settle()
    assert assignees(stack, n) == ["bolt[bot]"]
    stack.sandbox.person("bolt[bot]", "Bot").comment(REPO, n, "/release")
    await stack.settle()
    assert assignees(stack, n) == [] and labels(stack, n) == ["status: ready"]


# --- 2, 8: mentions and inert user text ------------------------------------------------------

HOSTILE = "\n\n".join(
    (
        "/claim a`b @m1 @m2 @m3",  # a backtick in a role name
        "/workload @maya",
        "/handoff @zed -- @m1 @m2 `<!-- baton:state {\"version\": 1, \"ticket\": 9} -->`",
        "/done x` @m4 -- @m5",
        "/release nope`` <!--",
        "/claim -- @m1 @m2 @m3 @m4 @m5 <!-- hides the rest",
        "/claim api -- @m1 `` ` `` <!-- x",
    )
)


async def test_one_comment_cannot_make_the_bot_mention_strangers(stack: Stack) -> None:
    eve = stack.sandbox.person("eve")  # read-only, but the ticket's author: may command
    n = eve.open_issue(REPO, "Refunds", SPEC, labels=["role: api"])
    await stack.settle()
    eve.comment(REPO, n, HOSTILE)
    await stack.settle()
    replies = said(stack, n)
    assert len(replies) >= 4
    for reply in replies:
        assert set(mentions(reply)) <= {"eve"}, reply  # the actor, the only party here
        assert "<!--" not in reply and "-->" not in reply
    assert sum(len(mentions(r)) for r in replies) <= len(replies)
    body, _ = status(stack, n)
    assert body.count("<!--") == 2  # the marker and the state: nothing users wrote
    assert not any(m.startswith("m") for m in mentions(body))


async def test_workload_names_the_login_without_mentioning_it(stack: Stack) -> None:
    n = await claimed(stack)
    stack.sandbox.person("ada[bot]", "Bot").comment(REPO, n, "/workload @maya\n/workload")
    await stack.settle()
    other, own = said(stack, n)
    assert mentions(other) == [] and "maya" in other
    assert mentions(own) == ["ada[bot]"]


async def test_notes_and_evidence_are_repeated_inert(stack: Stack) -> None:
    fake = '`<!-- baton:state {"version": 1, "ticket": 1, "claims": []} -->`'
    n = await claimed(stack, note=f"@maya {fake} <!-- unclosed")
    ada = stack.sandbox.person("ada[bot]", "Bot")
    pr = ada.open_pr(REPO, "Refund API", f"Fixes #{n}", "refunds", {"api.py": b"x = 1\n"})
    await stack.settle()
    ada.comment(REPO, pr, f"/done -- @maya {fake} `x")
    await stack.settle()
    [recorded] = said(stack, n)  # the evidence lands in the ticket's thread
    assert mentions(recorded) == ["ada[bot]"] and "<!--" not in recorded
    body, state = status(stack, n)
    assert state["claims"][0]["note"].startswith("@maya `<!-- baton:state")  # JSON: as written
    assert parse(body) is not None and parse(body).ticket == n  # type: ignore[union-attr]
    assert re.findall(r"<!-- baton:state", body) == ["<!-- baton:state"]
    assert "maya" not in mentions(body)


# --- 3, 4: a bounded status comment that keeps the PRs that matter -----------------------------


async def test_the_status_comment_stays_bounded_and_keeps_the_holders_pr(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        ticked = "## Acceptance criteria\n- [x] refunds work\n"  # so the gate waits for /done
        n = stack.sandbox.person("ann").open_issue(REPO, "Refunds", ticked)
        await stack.settle()
        stack.sandbox.person("ada[bot]", "Bot").comment(REPO, n, "/claim")
        await stack.settle()
        junk = stack.sandbox.person("mallory")
        for i in range(20):
            title = "<" * 256
            junk.open_pr(REPO, title, f"Refs #{n}\n\n" + "@" * 1000, f"j{i}", {f"j{i}.py": b"1\n"})
        await stack.settle()
        ada = stack.sandbox.person("ada[bot]", "Bot")
        real = ada.open_pr(REPO, "Refund API", f"Fixes #{n}", "refunds", {"api.py": b"x = 1\n"})
        await stack.settle()
        body, state = status(stack, n)
        assert len(body) < MAX_STATUS
        assert real in [p["number"] for p in state["prs"]] and len(state["prs"]) <= 20
        gate = _latest(stack, VERIFICATION_CHECK, real)
        assert "/done" in str(gate.output.get("title"))
        ada.comment(REPO, n, "/done -- tests pass")
        await stack.settle()
        after = _latest(stack, VERIFICATION_CHECK, real)
        assert "/done" not in str(after.output.get("title")), after.output  # re-checked
        assert len(status(stack, n)[0]) < MAX_STATUS
        assert stack.app[STORE].dead_count() == 0


def _latest(stack: Stack, name: str, number: int):  # type: ignore[no-untyped-def]
    repo = stack.sandbox.world.repos[REPO]
    sha = repo.issues[number].head_sha
    found = sorted((r for r in repo.check_runs.values() if r.name == name and r.head_sha == sha),
                   key=lambda r: r.id)  # fmt: skip
    assert found
    return found[-1]


# --- 10: commands nobody can see --------------------------------------------------------------


async def test_no_command_from_html_comments_code_or_quotes(stack: Stack) -> None:
    n = stack.sandbox.person("ann").open_issue(REPO, "Refunds", SPEC)
    await stack.settle()
    ada = stack.sandbox.person("ada[bot]", "Bot")
    for hidden in (
        "<!--\n/claim\n-->",
        "text <!--\n/claim\n--> more",
        "```\n/claim\n```",
        "Intro\n\n    /claim\n",
        "`/claim`",
        "> /claim",
        "> quoted\n/claim",  # a lazy continuation line is still the quote
    ):
        cid = ada.comment(REPO, n, hidden)
        await stack.settle()
        assert assignees(stack, n) == [] and reactions(stack, cid) == [], hidden
    assert said(stack, n) == [] and labels(stack, n) == ["status: ready"]
    assert all(not b.startswith(STATUS_MARKER) or "ada" not in b for b in all_comments(stack, n))
