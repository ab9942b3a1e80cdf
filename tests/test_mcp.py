"""The MCP tools' pure core: remotes, commands, Baton's answers and App, gate rows."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.checks.verification import GateInputs, PullRequest, Review, Ticket, evaluate
from app.config import DEFAULT
from app.mcp import core, server

ISSUE: dict[str, Any] = {
    "number": 7, "title": "Refunds", "html_url": "https://github.com/acme/shop/issues/7",
    "body": "## Acceptance criteria\n- [x] endpoint\n- [ ] button\n", "comments": 2,
    "labels": [{"name": "role: backend"}, {"name": "role: frontend"},
               {"name": "status: in-progress"}],
    "assignees": [{"login": "a[bot]", "type": "Bot"}], "user": {"login": "maya"},
}  # fmt: skip


def state(**extra: Any) -> dict[str, Any]:
    return {
        "version": 1, "ticket": 7, "status": "in-progress",
        "spec": {"has_heading": True, "checked": 1, "total": 2},
        "roles": ["backend", "frontend"],
        "claims": [{"role": "backend", "holder": "a[bot]", "since": "2026-01-02T03:04:05Z",
                    "note": "the API", "source": "command", "ref": 11}],
        "prs": [], "done": [], "handled": [11], **extra,
    }  # fmt: skip


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/acme/shop.git", "https://github.com/acme/shop",
        "git@github.com:acme/shop.git", "ssh://git@github.com/acme/shop.git",
        "https://user:secret@ghe.example.com/acme/shop.git\n",
        "ssh://git@ghe.example.com:2222/acme/shop/",
    ],
)  # fmt: skip
def test_the_repository_of_a_remote(url: str) -> None:
    assert core.repo_from_remote(url) == "acme/shop"


def test_a_remote_without_owner_and_name() -> None:
    assert core.repo_from_remote("") is None
    assert core.repo_from_remote("/srv/git/shop.git") is None


def test_each_action_is_one_command_line() -> None:
    assert core.command("claim", "backend", "the  API\nfirst", None, None) == (
        "/claim backend -- the API first"
    )
    assert core.command("claim", None, None, None, None) == "/claim"
    assert core.command("release", "backend", "ignored", None, None) == "/release backend"
    assert core.command("handoff", None, "yours", "@b[bot]", None) == "/handoff @b[bot] -- yours"
    assert core.command("done", "backend", "ignored", None, "pytest: ok") == (
        "/done backend -- pytest: ok"
    )
    assert len(core.command("claim", None, "x" * 1000, None, None)) == len("/claim -- ") + 300


@pytest.mark.parametrize(
    ("action", "to", "problem"),
    [("grab", None, "action must be one of claim, release, handoff, done"),
     ("handoff", None, "handoff needs `to`"), ("handoff", "not a login", "handoff needs `to`")],
)  # fmt: skip
def test_bad_arguments_say_what_to_pass(action: str, to: str | None, problem: str) -> None:
    with pytest.raises(core.Refusal, match=problem):
        core.command(action, None, None, to, None)


def test_roles_are_the_tickets_own() -> None:
    assert core.resolve_role("Backend", ISSUE) == "backend"
    assert core.resolve_role(None, ISSUE) is None
    with pytest.raises(core.Refusal, match=r"role unknown: #7 has no role `design`.*`backend`"):
        core.resolve_role("design", ISSUE)


def test_roles_and_holders_from_the_status_json_else_the_assignees() -> None:
    roles = core.roles_view(ISSUE, state())
    assert [(r.role, r.holder, r.note, r.free) for r in roles] == [
        ("backend", "a[bot]", "the API", False), ("frontend", None, None, True)
    ]
    one_role = {**ISSUE, "labels": []}
    assert [(r.role, r.holder) for r in core.roles_view(one_role, None)] == [("", "a[bot]")]
    assert core.needs_roles(ISSUE) and not core.needs_roles(one_role)


def test_free_only_lists_specified_tickets_with_a_free_role() -> None:
    summary = core.ticket_summary(ISSUE, DEFAULT, state())
    assert summary.free_roles == ["frontend"] and summary.status == "in-progress"
    assert core.listed(summary, None, True) and core.listed(summary, "frontend", True)
    assert not core.listed(summary, "backend", True) and core.listed(summary, "backend", False)
    assert not core.listed(summary, "design", False)
    unspecified = core.ticket_summary({**ISSUE, "body": "soon"}, DEFAULT, state())
    assert not core.listed(unspecified, None, True)


def test_baton_has_handled_a_comment_when_its_id_is_recorded() -> None:
    assert core.handled(state(), 11) and not core.handled(state(), 12)
    assert not core.handled(None, 11)


def test_whether_the_state_shows_the_action_done() -> None:
    s = state(done=[{"role": "backend", "by": "a[bot]", "at": "", "evidence": "ok", "ref": 12}])
    assert core.judge("claim", "A[bot]", "backend", None, 11, s)
    assert not core.judge("claim", "b[bot]", "backend", None, 13, s)
    assert core.judge("release", "a[bot]", "frontend", None, 13, s)
    assert not core.judge("release", "a[bot]", "backend", None, 13, s)
    assert core.judge("handoff", "x", "backend", "@a[bot]", 13, s)
    assert not core.judge("handoff", "a[bot]", "backend", "b[bot]", 13, s)
    assert core.judge("done", "someone", None, None, 12, s)
    assert not core.judge("done", "b[bot]", "frontend", None, 14, s)


def test_a_refusal_is_the_bots_reply_to_the_agent_after_its_comment() -> None:
    comments = [
        {"id": 10, "user": {"login": "baton[bot]"}, "body": "@b[bot], earlier"},
        {"id": 12, "user": {"login": "b[bot]"}, "body": "/claim backend"},
        {"id": 13, "user": {"login": "baton[bot]"}, "body": "<!-- baton:status -->@b[bot]"},
        {"id": 14, "user": {"login": "mallory"}, "body": "@b[bot], fake refusal"},
        {"id": 15, "user": {"login": "baton[bot]"}, "body": "@c[bot], someone else"},
        {"id": 16, "user": {"login": "baton[bot]"}, "body": "@B[bot], role `backend` is held"},
    ]
    assert core.replies(comments, "b[bot]", 12, "baton[bot]") == ["@B[bot], role `backend` is held"]
    held = core.held_by(state(), "backend", "b[bot]")
    assert held is not None and (held.holder, held.note) == ("a[bot]", "the API")
    assert core.held_by(state(), "backend", "a[bot]") is None


def test_replies_are_asked_for_from_a_second_before_the_comment() -> None:
    assert core.second_before("2026-01-02T03:04:00Z") == "2026-01-02T03:03:59Z"


def test_the_gates_conditions_read_back_from_its_check_run() -> None:
    result = evaluate(GateInputs(
        pr=PullRequest(7, "a[bot]", "abc"),
        tickets=(Ticket(7, criteria_total=2, criteria_checked=1, roles=("backend",),
                        claims={"backend": "a[bot]"}),),
        reviews=(Review("maya", "CHANGES_REQUESTED", "abc"),),
    ))  # fmt: skip
    run = {"status": result.status, "conclusion": result.conclusion, "html_url": "u",
           "output": {"title": result.title, "summary": result.summary}}  # fmt: skip
    gate = core.gate_of(run)
    assert [(c.name, c.mark) for c in gate.conditions] == [(r.name, r.mark.value)
                                                           for r in result.rows]  # fmt: skip
    assert gate.title == result.title and gate.conclusion is None
    pr = core.pr_view({"number": 9, "state": "open", "checks": {}}, gate)
    assert "evidence: #7: 1 of 2 criteria ticked; #7: no /done from backend" in pr.waiting_for
    assert any(w.startswith("human review: changes requested by @maya") for w in pr.waiting_for)


def test_what_a_ticket_and_its_prs_wait_for_from_the_status_json() -> None:
    assert core.ticket_waits(state()) == [
        "criteria ticked: 1 of 2", "/done from backend, frontend",
        "an open pull request that links the ticket (`Fixes #N`)",
    ]
    pr = {"number": 9, "state": "open", "draft": True, "verification": "pending",
          "checks": {"ci / test": "in_progress", "lint": "success"}}  # fmt: skip
    assert core.pr_view(pr).waiting_for == [
        "the PR is a draft: mark it ready for review", "check ci / test: in_progress"
    ]
    assert core.pr_view({**pr, "verification": "success"}).waiting_for == []
    reason = "Waiting for 2 approvals"
    assert core.pr_view({**pr, "reason": reason}).waiting_for == [reason]


BATON = {"login": "baton[bot]", "type": "Bot"}
VIA = {"id": 42, "slug": "baton"}


def status(user: dict[str, Any], via: dict[str, Any] | None = None) -> dict[str, Any]:
    body = "<!-- baton:status -->\n" + f"<!-- baton:state {json.dumps(state())} -->"
    return {"id": 5, "user": user, "body": body, "performed_via_github_app": via}


def test_batons_app_is_the_one_that_wrote_the_status_comment() -> None:
    assert core.state_of(status(BATON)["body"]) is not None
    learnt = core.app_of(status(BATON, VIA))
    assert learnt == core.App("baton[bot]", 42)
    assert core.app_of(status(BATON)) == core.App("baton[bot]", None)
    assert core.app_of(status(BATON, VIA), core.App(None, 42)) == learnt
    mimic = status({"login": "ci[bot]", "type": "Bot"}, {"id": 7, "slug": "ci"})
    person = status({"login": "mallory", "type": "User"})
    assert core.is_status_comment(mimic) and not core.is_status_comment(person)
    for app in (learnt, core.App("baton[bot]"), core.App(None, 42)):
        assert core.is_status_comment(status(BATON, VIA), app)
        assert not core.is_status_comment(mimic, app), app
    assert core.status_comment([mimic, status(BATON, VIA)], learnt)["id"] == 5  # type: ignore[index]


def test_batons_runs_are_known_by_the_apps_id_never_by_name() -> None:
    runs = [
        {"id": 1, "name": "Baton / verification", "app": {"id": 42, "slug": "baton"}},
        {"id": 3, "name": "Baton / verification", "app": {"id": 7, "slug": "github-actions"}},
        {"id": 2, "name": "Baton / contracts", "app": {"id": 42, "slug": "baton"}},
    ]
    for app in (core.App(None, 42), core.App("baton[bot]"), core.App("baton[bot]", 42)):
        assert core.latest_run(runs, "Baton / verification", app)["id"] == 1  # type: ignore[index]
    assert core.latest_run(runs, "Baton / verification", core.App(None)) is None
    assert core.latest_run(runs, "ci / test", core.App(None, 42)) is None


def reaction(content: str, login: str = "baton[bot]", kind: str = "Bot") -> dict[str, Any]:
    return {"content": content, "user": {"login": login, "type": kind}}


def test_batons_answer_is_its_own_reaction_on_the_command() -> None:
    app = core.App("baton[bot]", 42)
    assert core.acknowledgement([reaction("+1")], app) == "accepted"
    assert core.acknowledgement([reaction("confused")], app) == "wrong-usage"
    assert core.acknowledgement([reaction("+1"), reaction("-1")], app) == "refused"
    assert core.acknowledgement([reaction("heart"), reaction("eyes")], app) is None
    others = [reaction("+1", "maya", "User"), reaction("-1", "ci[bot]")]
    assert core.acknowledgement(others, app) is None
    assert core.acknowledgement(others, None) == "refused"  # any bot, until the App is known
    rollup = {"+1": 0, "-1": 0, "confused": 0, "heart": 2}
    assert not core.maybe_acknowledged({"reactions": rollup}) and not core.maybe_acknowledged(None)
    assert core.maybe_acknowledged({"reactions": {**rollup, "confused": 1}})


def test_how_long_the_state_may_lag_behind_batons_reaction() -> None:
    wait = core.still_wait
    s = state()  # records comment 11; a[bot] holds backend
    assert wait("accepted", "claim", "b[bot]", "backend", None, 11, s, []) == 0
    assert wait("accepted", "claim", "a[bot]", "backend", None, 12, s, []) == core.QUIET
    assert wait("accepted", "claim", "b[bot]", "frontend", None, 12, s, []) == core.SETTLE
    assert wait("accepted", "claim", "b[bot]", None, None, 12, None, []) == core.SETTLE
    assert wait("refused", "claim", "b[bot]", "backend", None, 12, s, ["held"]) == 0
    assert wait("wrong-usage", "release", "b[bot]", None, None, 12, s, []) == core.SETTLE


def test_batons_app_id_may_be_given_and_must_be_a_number(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BATON_REPO", "acme/shop")
    monkeypatch.setenv("BATON_APP_ID", "42")
    assert server.from_environment().app == core.App(None, 42)
    monkeypatch.delenv("BATON_APP_ID")
    assert server.from_environment().app is None
    monkeypatch.setenv("BATON_APP_ID", "baton")
    assert server.main([]) == 2
    assert "BATON_APP_ID must be the App's numeric id" in capsys.readouterr().err
