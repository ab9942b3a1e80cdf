"""Tickets and claims end to end: people act on the sandbox, the real app answers (SPEC 4, 5).

Each test reads GitHub's state in the sandbox (labels, assignees, comments) and the app's
requests; `violations` checks every request against GitHub's REST description (octokit).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlencode

import pytest
import yaml

from app.config import TicketsConfig
from app.markdown import inert
from app.sandbox.server import Request
from app.service.dispatch import Features
from app.service.server import DISPATCHER
from app.tickets import routes as tickets
from app.tickets.messages import STATUS_MARKER, StatusLabel
from tests import octokit
from tests.conftest import REPO, Stack, running_stack

SPEC = (
    "Let customers get a refund.\n\n## Acceptance criteria\n- [ ] a refund button\n- [x] an API\n"
)
ONLY_TICKETS = Features(routers=[tickets.router], sweeps=[tickets.sweep])
NEEDS_SPEC = StatusLabel.NEEDS_SPEC


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(tmp_path) as s:
        yield s
        assert violations(s.sandbox.requests) == []


def violations(requests: list[Request]) -> list[str]:
    found = []
    for r in requests:
        url = r.path + ("?" + urlencode(r.query) if r.query else "")
        found += [f"{r.method} {url}: {p}" for p in octokit.validate_request(r.method, url, r.body)]
    return found


def issue(stack: Stack, number: int):  # type: ignore[no-untyped-def]
    return stack.sandbox.world.repos[REPO].issues[number]


def labels(stack: Stack, number: int) -> list[str]:
    return sorted(lb.name for lb in issue(stack, number).labels)


def assignees(stack: Stack, number: int) -> list[str]:
    return sorted(a.login for a in issue(stack, number).assignees)


def said(stack: Stack, number: int) -> list[str]:
    """The app's comments on the issue, except the status comment."""
    return [
        c.body
        for c in stack.sandbox.world.repos[REPO].comments.values()
        if c.issue_number == number and c.via_app and not c.body.startswith(STATUS_MARKER)
    ]


def status(stack: Stack, number: int) -> tuple[str, dict]:
    found = [
        c.body
        for c in stack.sandbox.world.repos[REPO].comments.values()
        if c.issue_number == number and c.via_app and c.body.startswith(STATUS_MARKER)
    ]
    assert len(found) == 1, f"{len(found)} status comments"
    state = re.search(r"<!-- baton:state (\{.*\}) -->", found[0], re.S)
    assert state
    return found[0], json.loads(state[1])


def recorded(stack: Stack, number: int) -> tuple[str, dict]:
    """The status comment's text and state, but for the ids of the comments handled (a command
    answered with usage is handled too: a redelivery does not answer again)."""
    body, state = status(stack, number)
    state.pop("handled", None)
    return body.split("<!-- baton:state")[0], state


def holders(stack: Stack, number: int) -> list[tuple[str, str]]:
    return [(c["holder"], c["note"]) for c in status(stack, number)[1]["claims"]]


def shown(login: str) -> str:
    """A login as the bot shows it without mentioning it."""
    return inert("@" + login)


def reactions(stack: Stack, comment_id: int) -> list[str]:
    """The app's reactions on a comment."""
    return [c for _, _, c in stack.sandbox.world.repos[REPO].comments[comment_id].reactions]


def writes(requests: list[Request]) -> list[Request]:
    return [r for r in requests if r.method != "GET" and r.auth == "installation"]


async def ready_ticket(stack: Stack, author: str = "ann", body: str = SPEC) -> int:
    number = stack.sandbox.person(author).open_issue(REPO, "Refunds", body)
    await stack.settle()
    return number


# --- tickets ---------------------------------------------------------------------------------


async def test_needs_spec_with_one_comment_then_ready_after_an_edit(stack: Stack) -> None:
    ann = stack.sandbox.person("ann")
    n = ann.open_issue(REPO, "Refunds", "Customers want refunds.")
    await stack.settle()
    assert labels(stack, n) == ["status: needs-spec"]
    [notice] = said(stack, n)
    assert "Acceptance criteria" in notice and "- [ ]" in notice  # what is missing, a template
    label = stack.sandbox.world.repos[REPO].labels["status: needs-spec"]
    assert (label.color, label.description) == (NEEDS_SPEC.color, NEEDS_SPEC.description)

    ann.edit_issue(REPO, n, body="## Acceptance criteria\n")  # a heading, still no items
    await stack.settle()
    assert labels(stack, n) == ["status: needs-spec"] and len(said(stack, n)) == 1

    ann.edit_issue(REPO, n, body=SPEC)
    await stack.settle()
    assert labels(stack, n) == ["status: ready"]
    assert len(said(stack, n)) == 1  # the notice is not repeated
    body, state = status(stack, n)
    assert state["spec"] == {"has_heading": True, "checked": 1, "total": 2}
    assert "1 of 2" in body


async def test_a_ticket_closed_by_an_agent_without_verification_is_reopened(stack: Stack) -> None:
    n = await ready_ticket(stack)
    bolt = stack.sandbox.person("bolt[bot]", "Bot")
    bolt.close(REPO, n)
    await stack.settle()
    assert issue(stack, n).state == "open"
    [reason] = said(stack, n)
    assert "@bolt[bot]" in reason and "agents may not close" in reason
    assert labels(stack, n) == ["status: ready"]

    carl = stack.sandbox.person("carl")  # read permission only
    carl.close(REPO, n)
    await stack.settle()
    assert issue(stack, n).state == "open" and "only maintainers" in said(stack, n)[-1]

    stack.sandbox.grant(REPO, "maya", "write")
    stack.sandbox.person("maya").close(REPO, n)  # a maintainer may
    await stack.settle()
    assert issue(stack, n).state == "closed" and labels(stack, n) == ["status: done"]


async def test_closed_as_not_planned_releases_claims_and_drops_status_labels(stack: Stack) -> None:
    n = await ready_ticket(stack)
    bolt = stack.sandbox.person("bolt[bot]", "Bot")
    bolt.assign(REPO, n)
    await stack.settle()
    stack.sandbox.grant(REPO, "maya", "write")
    stack.sandbox.person("maya").close(REPO, n, "not_planned")
    await stack.settle()
    assert issue(stack, n).state == "closed"
    assert assignees(stack, n) == [] and labels(stack, n) == []
    assert "@bolt[bot]" in said(stack, n)[-1]


async def test_with_tickets_label_only_labelled_issues_are_tickets(tmp_path: Path) -> None:
    config = b"tickets:\n  label: ticket\n"
    async with running_stack(tmp_path, files={".github/baton.yml": config}) as stack:
        ann = stack.sandbox.person("ann")
        n = ann.open_issue(REPO, "A question", "How do refunds work?")
        await stack.settle()
        assert labels(stack, n) == [] and said(stack, n) == []
        ann.label(REPO, n, "ticket")
        await stack.settle()
        assert labels(stack, n) == ["status: needs-spec", "ticket"] and len(said(stack, n)) == 1
        assert violations(stack.sandbox.requests) == []


# --- claims ----------------------------------------------------------------------------------


async def test_two_agents_assigned_out_of_order_the_earlier_keeps_it(stack: Stack) -> None:
    n = await ready_ticket(stack)
    ada, bolt = stack.sandbox.person("ada[bot]", "Bot"), stack.sandbox.person("bolt[bot]", "Bot")
    with stack.sandbox.hold() as held:
        ada.assign(REPO, n)
        stack.sandbox.world.clock.advance(seconds=2)
        bolt.assign(REPO, n)
    stack.sandbox.release(list(reversed(held)))  # bolt's delivery arrives first
    await stack.settle()
    assert assignees(stack, n) == ["ada[bot]"]
    assert labels(stack, n) == ["status: in-progress"]
    assert holders(stack, n) == [("ada[bot]", "")]
    [told] = said(stack, n)
    assert told.startswith("@bolt[bot]") and "already claimed by @ada[bot]" in told


async def test_assignments_on_the_second_page_of_issue_events_are_ordered(stack: Stack) -> None:
    n = await ready_ticket(stack)
    repo = stack.sandbox.world.repos[REPO]
    maya = stack.sandbox.person("maya")
    with stack.sandbox.hold():  # 110 label events first (their deliveries lost)
        for _ in range(55):
            stack.sandbox.actions.add_labels(repo, repo.issues[n], maya.user, ["triage"])
            stack.sandbox.actions.remove_label(repo, repo.issues[n], maya.user, "triage")
    ada, bolt = stack.sandbox.person("ada[bot]", "Bot"), stack.sandbox.person("bolt[bot]", "Bot")
    with stack.sandbox.hold() as held:
        ada.assign(REPO, n)
        stack.sandbox.world.clock.advance(seconds=2)
        bolt.assign(REPO, n)
    assert len([e for e in repo.events if e.issue_number == n]) > 100
    mark = len(stack.sandbox.requests)
    stack.sandbox.release(list(reversed(held)))  # bolt's delivery arrives first
    await stack.settle()
    assert assignees(stack, n) == ["ada[bot]"] and holders(stack, n) == [("ada[bot]", "")]
    [told] = said(stack, n)
    assert told.startswith("@bolt[bot]") and "already claimed by @ada[bot]" in told
    pages = {
        r.query.get("page", "1")
        for r in stack.requests_since(mark)
        if r.method == "GET" and r.path.endswith(f"/issues/{n}/events")
    }
    assert pages == {"1", "2"}


async def test_a_later_assignment_loses_to_an_earlier_claim_command_and_hears_its_note(
    stack: Stack,
) -> None:
    n = await ready_ticket(stack)
    ada, bolt = stack.sandbox.person("ada[bot]", "Bot"), stack.sandbox.person("bolt[bot]", "Bot")
    with stack.sandbox.hold() as held:
        ada.comment(REPO, n, "/claim -- taking the API")
        stack.sandbox.world.clock.advance(seconds=2)
        bolt.assign(REPO, n)
    stack.sandbox.release(list(reversed(held)))
    await stack.settle()
    assert assignees(stack, n) == ["ada[bot]"]
    assert holders(stack, n) == [("ada[bot]", "taking the API")]
    told = [s for s in said(stack, n) if s.startswith("@bolt[bot]")]
    assert len(told) == 1 and "@ada[bot]" in told[0] and "taking the API" in told[0]


async def test_claim_command_assigns_and_shows_the_note(stack: Stack) -> None:
    n = await ready_ticket(stack)
    stack.sandbox.person("ada[bot]", "Bot").comment(REPO, n, "/claim -- taking the API")
    await stack.settle()
    assert assignees(stack, n) == ["ada[bot]"]
    assert labels(stack, n) == ["status: in-progress"]
    body, state = status(stack, n)
    assert f"| {shown('ada[bot]')} | just now | taking the API |" in body
    assert state["claims"][0]["note"] == "taking the API"
    assert said(stack, n) == []


async def test_claim_of_an_unknown_role_gets_usage_and_changes_nothing(stack: Stack) -> None:
    n = stack.sandbox.person("ann").open_issue(REPO, "Refunds", SPEC, labels=["role: backend"])
    await stack.settle()
    before = recorded(stack, n)
    stack.sandbox.person("ada[bot]", "Bot").comment(REPO, n, "/claim frontend")
    await stack.settle()
    [usage] = said(stack, n)
    assert "`frontend` is not a role" in usage and "/claim [ROLE]" in usage and "`backend`" in usage
    assert assignees(stack, n) == [] and labels(stack, n) == ["role: backend", "status: ready"]
    assert recorded(stack, n) == before


async def test_roles_are_claimed_one_holder_each(stack: Stack) -> None:
    ann = stack.sandbox.person("ann")
    n = ann.open_issue(REPO, "Refunds", SPEC, labels=["role: backend", "role: web"])
    await stack.settle()
    ada, bolt = stack.sandbox.person("ada[bot]", "Bot"), stack.sandbox.person("bolt[bot]", "Bot")
    ada.comment(REPO, n, "/claim web -- the button")
    await stack.settle()
    bolt.comment(REPO, n, "/claim")  # takes the free role
    await stack.settle()
    assert assignees(stack, n) == ["ada[bot]", "bolt[bot]"]
    claims = {c["role"]: c["holder"] for c in status(stack, n)[1]["claims"]}
    assert claims == {"web": "ada[bot]", "backend": "bolt[bot]"}
    stack.sandbox.person("cy[bot]", "Bot").comment(REPO, n, "/claim")
    await stack.settle()
    assert "every role of this ticket is claimed" in said(stack, n)[-1]
    ada.comment(REPO, n, "/done -- button shipped")
    await stack.settle()
    assert labels(stack, n)[-1] == "status: in-progress"  # backend is not done yet
    bolt.comment(REPO, n, "/done backend -- endpoint shipped")
    await stack.settle()
    assert labels(stack, n)[-1] == "status: validation"


async def test_the_fourth_claim_of_an_agent_is_refused_with_the_list(stack: Stack) -> None:
    bolt = stack.sandbox.person("bolt[bot]", "Bot")
    numbers = [await ready_ticket(stack) for _ in range(4)]
    for n in numbers[:3]:
        bolt.assign(REPO, n)
        await stack.settle()
    assert all(assignees(stack, n) == ["bolt[bot]"] for n in numbers[:3])
    bolt.assign(REPO, numbers[3])
    await stack.settle()
    assert assignees(stack, numbers[3]) == [] and labels(stack, numbers[3]) == ["status: ready"]
    [refusal] = said(stack, numbers[3])
    assert "at most 3" in refusal
    assert all(f"#{n} Refunds" in refusal for n in numbers[:3])


async def test_a_maintainers_assignment_is_a_handoff_and_both_are_told(stack: Stack) -> None:
    n = await ready_ticket(stack)
    stack.sandbox.person("ada[bot]", "Bot").assign(REPO, n)
    await stack.settle()
    stack.sandbox.grant(REPO, "maya", "write")
    stack.sandbox.person("bob")
    stack.sandbox.person("maya").assign(REPO, n, "bob")
    await stack.settle()
    assert assignees(stack, n) == ["bob"]
    assert holders(stack, n) == [("bob", "")]
    [told] = said(stack, n)
    assert "@ada[bot]" in told and "@bob" in told and "@maya" in told


async def test_non_collaborators_are_refused_and_change_nothing(stack: Stack) -> None:
    n = await ready_ticket(stack)
    stack.sandbox.person("carl").comment(REPO, n, "/claim")
    await stack.settle()
    [refusal] = said(stack, n)
    assert refusal.startswith("@carl") and "only maintainers" in refusal
    assert assignees(stack, n) == [] and labels(stack, n) == ["status: ready"]
    # The ticket's author may use commands without write permission.
    stack.sandbox.person("ann").comment(REPO, n, "/claim -- mine")
    await stack.settle()
    assert assignees(stack, n) == ["ann"] and holders(stack, n) == [("ann", "mine")]


async def test_malformed_commands_get_usage_and_change_nothing(stack: Stack) -> None:
    n = await ready_ticket(stack)
    before = recorded(stack, n)
    ada = stack.sandbox.person("ada[bot]", "Bot")
    typo = ada.comment(REPO, n, "/clam")  # not a Baton command: ignored silently
    await stack.settle()
    no_login = ada.comment(REPO, n, "/handoff bob")
    await stack.settle()
    ada.comment(REPO, n, "/handoff @-bad-")
    await stack.settle()
    second, third = said(stack, n)
    assert "needs a login" in second and "not a GitHub login" in third
    assert "/handoff @LOGIN" in second and "/claim" not in second  # that command's usage
    assert reactions(stack, typo) == [] and reactions(stack, no_login) == ["confused"]
    assert assignees(stack, n) == [] and labels(stack, n) == ["status: ready"]
    assert recorded(stack, n) == before
    # Prose mentioning a path is not a command; an edited comment is not run again.
    cid = ada.comment(REPO, n, "see /usr/bin for the tools")
    await stack.settle()
    ada.edit_comment(REPO, cid, "/claim")
    await stack.settle()
    assert len(said(stack, n)) == 2 and assignees(stack, n) == []


# --- each command: its effect and a misuse ----------------------------------------------------


async def claimed(stack: Stack, login: str = "ada[bot]", note: str = "") -> int:
    n = await ready_ticket(stack)
    stack.sandbox.person(login, "Bot").comment(REPO, n, "/claim" + (f" -- {note}" if note else ""))
    await stack.settle()
    assert assignees(stack, n) == [login]
    return n


async def test_release_frees_the_ticket(stack: Stack) -> None:
    n = await claimed(stack)
    stack.sandbox.person("ada[bot]", "Bot").comment(REPO, n, "/release")
    await stack.settle()
    assert assignees(stack, n) == [] and labels(stack, n) == ["status: ready"]
    assert holders(stack, n) == [] and said(stack, n) == []


async def test_release_by_someone_else_is_refused(stack: Stack) -> None:
    n = await claimed(stack)
    stack.sandbox.person("bolt[bot]", "Bot").comment(REPO, n, "/release")
    await stack.settle()
    [refusal] = said(stack, n)
    assert refusal.startswith("@bolt[bot]") and f"held by {shown('ada[bot]')}" in refusal
    assert assignees(stack, n) == ["ada[bot]"] and labels(stack, n) == ["status: in-progress"]


async def test_release_of_an_unclaimed_ticket_says_so(stack: Stack) -> None:
    n = await ready_ticket(stack)
    stack.sandbox.grant(REPO, "maya", "write")
    stack.sandbox.person("maya").comment(REPO, n, "/release")
    await stack.settle()
    [reply] = said(stack, n)
    assert "not claimed" in reply and labels(stack, n) == ["status: ready"]


async def test_handoff_passes_the_claim_and_tells_the_new_holder(stack: Stack) -> None:
    n = await claimed(stack)
    stack.sandbox.person("bolt[bot]", "Bot")
    stack.sandbox.person("ada[bot]", "Bot").comment(REPO, n, "/handoff @bolt[bot] -- API is done")
    await stack.settle()
    assert assignees(stack, n) == ["bolt[bot]"]
    assert holders(stack, n) == [("bolt[bot]", "API is done")]
    assert any("@bolt[bot]" in s for s in said(stack, n))
    assert labels(stack, n) == ["status: in-progress"]


async def test_handoff_without_a_login_gets_usage(stack: Stack) -> None:
    n = await claimed(stack)
    stack.sandbox.person("ada[bot]", "Bot").comment(REPO, n, "/handoff -- take it")
    await stack.settle()
    [usage] = said(stack, n)
    assert "needs a login" in usage and assignees(stack, n) == ["ada[bot]"]


async def test_done_moves_to_validation_with_the_evidence(stack: Stack) -> None:
    n = await claimed(stack)
    stack.sandbox.person("ada[bot]", "Bot").comment(REPO, n, "/done -- tests in api/test_x.py")
    await stack.settle()
    assert labels(stack, n) == ["status: validation"]
    body, state = status(stack, n)
    assert state["done"][0]["evidence"] == "tests in api/test_x.py"
    assert "tests in api/test_x.py" in body


async def test_done_by_someone_who_does_not_hold_it_is_refused(stack: Stack) -> None:
    n = await claimed(stack)
    stack.sandbox.person("bolt[bot]", "Bot").comment(REPO, n, "/done")
    await stack.settle()
    [refusal] = said(stack, n)
    assert f"held by {shown('ada[bot]')}" in refusal
    assert labels(stack, n) == ["status: in-progress"]
    assert status(stack, n)[1]["done"] == []


async def test_done_in_a_pr_comment_reaches_the_linked_ticket(stack: Stack) -> None:
    n = await claimed(stack)
    ada = stack.sandbox.person("ada[bot]", "Bot")
    pr = ada.open_pr(REPO, "Refund API", f"Fixes #{n}", "refunds", {"api.py": b"x = 1\n"})
    await stack.settle()
    ada.comment(REPO, pr, "/done -- see the tests in this PR")
    await stack.settle()
    assert status(stack, n)[1]["done"][0]["evidence"] == "see the tests in this PR"
    assert any("see the tests in this PR" in s for s in said(stack, n))  # in the thread too
    # A claim command on a PR that links nothing is answered on the PR.
    other = ada.open_pr(REPO, "Chore", "no ticket", "chore", {"b.py": b"y = 2\n"})
    await stack.settle()
    ada.comment(REPO, other, "/done")
    await stack.settle()
    assert "links no ticket" in said(stack, other)[-1]


async def test_workload_lists_open_claims(stack: Stack) -> None:
    first = await claimed(stack)
    second = await claimed(stack)
    stack.sandbox.person("ann").comment(REPO, second, "/workload @ada[bot]")
    await stack.settle()
    [listing] = said(stack, second)
    assert f"#{first} Refunds" in listing and f"#{second} Refunds" in listing


async def test_workload_with_a_role_gets_usage(stack: Stack) -> None:
    n = await claimed(stack)
    stack.sandbox.person("ada[bot]", "Bot").comment(REPO, n, "/workload backend")
    await stack.settle()
    [usage] = said(stack, n)
    assert "takes no role" in usage


async def test_status_rewrites_the_status_comment(stack: Stack) -> None:
    n = await claimed(stack)
    mark = len(stack.sandbox.requests)
    stack.sandbox.person("ada[bot]", "Bot").comment(REPO, n, "/status")
    await stack.settle()
    patched = [r for r in stack.requests_since(mark) if re.search(r"/issues/comments/\d+$", r.path)]
    assert [r.method for r in patched] == ["PATCH"]
    assert said(stack, n) == []


async def test_status_with_arguments_gets_usage(stack: Stack) -> None:
    n = await claimed(stack)
    stack.sandbox.person("ada[bot]", "Bot").comment(REPO, n, "/status please")
    await stack.settle()
    [usage] = said(stack, n)
    assert "takes no role" in usage and assignees(stack, n) == ["ada[bot]"]


# --- staleness, PR news, activity --------------------------------------------------------------


def age(stack: Stack, **delta: float) -> None:
    """Move GitHub's (and so the app's) clock; the old installation token expires with it."""
    stack.sandbox.world.clock.advance(**delta)
    stack.app[DISPATCHER].client.forget_installation(1)


async def test_a_stale_claim_is_warned_then_released_at_the_configured_times(
    tmp_path: Path,
) -> None:
    config = b"claims:\n  stale_after: 2h\n  release_after: 5h\n"
    async with running_stack(tmp_path, files={".github/baton.yml": config}) as stack:
        n = await claimed(stack)
        age(stack, hours=1, minutes=59)
        await stack.sweep()
        assert said(stack, n) == []
        age(stack, minutes=2)
        await stack.sweep()
        [warning] = said(stack, n)
        assert "- @ada[bot] on this ticket" in warning and "will be released" in warning
        await stack.sweep()  # warned once only
        assert len(said(stack, n)) == 1 and assignees(stack, n) == ["ada[bot]"]
        age(stack, hours=3)
        await stack.sweep()
        assert assignees(stack, n) == [] and labels(stack, n) == ["status: ready"]
        assert "Released" in said(stack, n)[-1]
        assert violations(stack.sandbox.requests) == []


async def test_activity_of_the_holder_keeps_the_claim(tmp_path: Path) -> None:
    config = b"claims:\n  stale_after: 2h\n  release_after: 5h\n"
    async with running_stack(tmp_path, files={".github/baton.yml": config}) as stack:
        n = await claimed(stack)
        ada = stack.sandbox.person("ada[bot]", "Bot")
        age(stack, hours=4)
        ada.comment(REPO, n, "still on it")
        await stack.settle()
        # A draft keeps the ticket in progress (a PR ready for review: validation, swept alike).
        pr = ada.open_pr(
            REPO, "Refund API", f"Refs #{n}", "refunds", {"api.py": b"x = 1\n"}, draft=True
        )
        await stack.settle()
        age(stack, hours=4)
        ada.push(REPO, pr, {"api.py": b"x = 2\n"})
        await stack.settle()
        age(stack, hours=1, minutes=50)
        await stack.sweep()
        assert said(stack, n) == [] and assignees(stack, n) == ["ada[bot]"]
        age(stack, minutes=20)
        await stack.sweep()
        assert "will be released" in said(stack, n)[-1]
        assert violations(stack.sandbox.requests) == []


async def test_the_holders_comment_on_a_linked_pr_is_activity(tmp_path: Path) -> None:
    config = b"claims:\n  stale_after: 2h\n  release_after: 5h\n"
    async with running_stack(tmp_path, files={".github/baton.yml": config}) as stack:
        n = await claimed(stack)
        ada, bolt = (
            stack.sandbox.person("ada[bot]", "Bot"),
            stack.sandbox.person("bolt[bot]", "Bot"),
        )
        pr = ada.open_pr(REPO, "Refund API", f"Fixes #{n}", "refunds", {"api.py": b"x = 1\n"})
        await stack.settle()
        age(stack, hours=1, minutes=50)
        ada.comment(REPO, pr, "Rebased on main, tests pass")  # on the PR, not the ticket
        await stack.settle()
        age(stack, minutes=50)
        bolt.comment(REPO, pr, "Looks good")  # not the holder: not the claim's activity
        await stack.settle()
        age(stack, minutes=10)  # 2h50 since the claim and the PR, 1h since ada's comment
        await stack.sweep()
        assert said(stack, n) == [] and assignees(stack, n) == ["ada[bot]"]
        age(stack, hours=1, minutes=20)  # 2h20 since ada's comment, 1h30 since bolt's
        await stack.sweep()
        [warning] = said(stack, n)
        assert "- @ada[bot] on this ticket" in warning and "will be released" in warning
        assert violations(stack.sandbox.requests) == []


async def test_a_stale_claim_under_review_is_warned_then_released(tmp_path: Path) -> None:
    config = b"claims:\n  stale_after: 2h\n  release_after: 5h\n"
    async with running_stack(tmp_path, files={".github/baton.yml": config}) as stack:
        n = await claimed(stack)
        ada = stack.sandbox.person("ada[bot]", "Bot")
        ada.open_pr(REPO, "Refund API", f"Fixes #{n}", "refunds", {"api.py": b"x = 1\n"})
        await stack.settle()
        assert labels(stack, n) == ["status: validation"] and said(stack, n) == []
        age(stack, hours=2, minutes=1)
        await stack.sweep()
        [warning] = said(stack, n)
        assert "- @ada[bot] on this ticket" in warning and "will be released" in warning
        age(stack, hours=3)
        await stack.sweep()
        assert assignees(stack, n) == [] and holders(stack, n) == []
        assert "Released" in said(stack, n)[-1]
        assert labels(stack, n) == ["status: validation"]  # the PR still awaits review
        assert violations(stack.sandbox.requests) == []


async def test_a_verified_merge_reported_by_the_checks_shell_closes_the_ticket_as_done(
    stack: Stack,
) -> None:
    n = await claimed(stack)
    ctx = await stack.app[DISPATCHER].context(1, REPO)
    pr = tickets.LinkedPR(9, "Refund API", "ada[bot]", "open", verification="pending")
    await tickets.refresh_ticket(ctx, n, pr)
    assert labels(stack, n) == ["status: validation"]  # a PR ready for review
    await tickets.refresh_ticket(ctx, n, replace(pr, state="merged", verification="success"))
    await stack.settle()
    assert issue(stack, n).state == "closed" and issue(stack, n).state_reason == "completed"
    assert labels(stack, n) == ["status: done"]
    state = status(stack, n)[1]
    assert state["prs"][0]["state"] == "merged" and state["claims"] == []
    assert said(stack, n) == []  # no reopening: the merge was verified


async def test_a_pr_edited_to_link_another_ticket_leaves_the_old_ones_status(stack: Stack) -> None:
    n, other = await claimed(stack), await ready_ticket(stack)
    ada = stack.sandbox.person("ada[bot]", "Bot")
    pr = ada.open_pr(REPO, "Refund API", f"Fixes #{n}", "refunds", {"api.py": b"x = 1\n"})
    await stack.settle()
    assert [p["number"] for p in status(stack, n)[1]["prs"]] == [pr]
    assert labels(stack, n) == ["status: validation"]

    ada.edit_issue(REPO, pr, body=f"Refs #{other}")  # the body no longer links #n
    await stack.settle()
    assert status(stack, n)[1]["prs"] == [] and labels(stack, n) == ["status: in-progress"]
    assert [p["number"] for p in status(stack, other)[1]["prs"]] == [pr]

    ada.edit_issue(REPO, pr, title=f"Refund API, refs #{n}", body="")  # links by title only
    await stack.settle()
    assert [p["number"] for p in status(stack, n)[1]["prs"]] == [pr]
    assert status(stack, other)[1]["prs"] == []  # the body's old link is gone
    ada.edit_issue(REPO, pr, title="Refund API")
    await stack.settle()
    assert status(stack, n)[1]["prs"] == [] and said(stack, n) == []


# --- request economy -------------------------------------------------------------------------


async def test_a_claim_by_assignment_costs_at_most_five_requests_and_a_replay_none(
    tmp_path: Path,
) -> None:
    async with running_stack(tmp_path) as stack:  # the whole app, PR checks included
        bolt = stack.sandbox.person("bolt[bot]", "Bot")
        first, second = await ready_ticket(stack), await ready_ticket(stack)
        bolt.assign(REPO, first)  # warms the caches: token, config, labels
        await stack.settle()
        mark = len(stack.sandbox.requests)
        bolt.assign(REPO, second)
        await stack.settle()
        spent = stack.requests_since(mark)
        assert len(spent) <= 5, [(r.method, r.path) for r in spent]
        assert assignees(stack, second) == ["bolt[bot]"]
        assert labels(stack, second) == ["status: in-progress"]

        delivery = stack.sandbox.deliveries[-1]
        mark = len(stack.sandbox.requests)
        assert await stack.sandbox.post_delivery(delivery) == 200  # the same delivery again
        await stack.settle()
        assert stack.requests_since(mark) == []
        # The same event under a new delivery id is handled again, and changes nothing.
        assert await stack.sandbox.post_delivery(replace(delivery, id=str(uuid.uuid4()))) == 202
        await stack.settle()
        assert writes(stack.requests_since(mark)) == []
        assert violations(stack.sandbox.requests) == []


async def test_opening_a_ticket_costs_a_handful_of_requests(tmp_path: Path) -> None:
    async with running_stack(tmp_path, ONLY_TICKETS) as stack:
        await ready_ticket(stack)
        mark = len(stack.sandbox.requests)
        n = await ready_ticket(stack)
        spent = [
            (r.method, r.path.removeprefix(f"/repos/{REPO}")) for r in stack.requests_since(mark)
        ]
        assert spent == [
            ("GET", f"/issues/{n}"),
            ("POST", f"/issues/{n}/labels"),
            ("POST", f"/issues/{n}/comments"),
        ]
        assert violations(stack.sandbox.requests) == []


async def test_server_errors_are_retried_without_a_second_status_comment(stack: Stack) -> None:
    n = await ready_ticket(stack)
    stack.sandbox.inject("PATCH", r"/issues/comments/\d+$", 502)
    stack.sandbox.inject("POST", rf"/issues/{n}/labels$", 500)
    stack.sandbox.person("ada[bot]", "Bot").comment(REPO, n, "/claim -- retry me")
    await stack.settle()
    assert assignees(stack, n) == ["ada[bot]"] and labels(stack, n) == ["status: in-progress"]
    assert holders(stack, n) == [("ada[bot]", "retry me")]  # and still one status comment
    assert said(stack, n) == []


def test_the_issue_form_asks_for_acceptance_criteria_as_task_items() -> None:
    root = Path(__file__).resolve().parent.parent
    form = yaml.safe_load((root / ".github/ISSUE_TEMPLATE/ticket.yml").read_text())
    fields = {f.get("id"): f for f in form["body"]}
    criteria = fields["criteria"]
    # GitHub renders a field as `### <label>`: the heading Baton looks for by default.
    assert criteria["type"] == "textarea" and criteria["validations"]["required"] is True
    assert criteria["attributes"]["label"] == TicketsConfig().criteria_heading
    assert criteria["attributes"]["value"].startswith("- [ ] ")
    assert ".github/ISSUE_TEMPLATE/ticket.yml" in (root / "README.md").read_text()


# --- a quieter bot (#13) ----------------------------------------------------------------------


async def test_commands_are_acknowledged_by_reactions_without_bookkeeping_edits(
    stack: Stack,
) -> None:
    n = await ready_ticket(stack)
    ada = stack.sandbox.person("ada[bot]", "Bot")
    claim = ada.comment(REPO, n, "/claim -- on it")
    await stack.settle()
    assert reactions(stack, claim) == ["+1"] and said(stack, n) == []
    before, mark = status(stack, n)[0], len(stack.sandbox.requests)
    again = ada.comment(REPO, n, "/claim")  # already hers: nothing to show
    other = stack.sandbox.person("bolt[bot]", "Bot").comment(REPO, n, "/lgtm\n/cc @maya")
    await stack.settle()
    edits = [r for r in stack.requests_since(mark) if r.method == "PATCH"]
    assert edits == [] and status(stack, n)[0] == before  # only the handled ids would change
    assert reactions(stack, again) == ["+1"] and reactions(stack, other) == []
    assert said(stack, n) == []
    refresh = ada.comment(REPO, n, "/status")
    await stack.settle()
    assert reactions(stack, refresh) == ["+1"]
    assert any(r.method == "PATCH" for r in stack.requests_since(mark))


async def test_a_closed_ticket_does_not_invite_claims(stack: Stack) -> None:
    n = await ready_ticket(stack)
    stack.sandbox.grant(REPO, "maya", "write")
    stack.sandbox.person("maya").close(REPO, n)
    await stack.settle()
    body, state = status(stack, n)
    assert state["status"] == "done" and "free to `/claim`" not in body


async def test_an_assignment_github_lists_late_is_retried_not_waited_for(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    """The handler does not sleep holding the ticket: it applies what it knows (the assignee
    stays) and the delivery runs again (RetryLater), when the event is listed."""
    n = await ready_ticket(stack)
    stack.sandbox.world.repos[REPO].late_event_listings = 1
    stack.sandbox.person("ada[bot]", "Bot").assign(REPO, n)
    await stack.settle()
    assert assignees(stack, n) == ["ada[bot]"] and labels(stack, n) == ["status: in-progress"]
    assert holders(stack, n) == [("ada[bot]", "")]
    listed = [r for r in stack.sandbox.requests if r.path.endswith(f"/issues/{n}/events")]
    assert len(listed) >= 2  # listed again on the retry
    assert "an assignment not listed yet" in caplog.text
