"""The verification gate: seven conditions, review rules, wait vs fail, rendered output."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.checks.verification import (
    VERIFICATION_CHECK,
    CheckRun,
    CommitStatus,
    GateInputs,
    Mark,
    OpenPR,
    PullRequest,
    Review,
    Ticket,
    approvers_to_check,
    evaluate,
    exemption,
    review_states,
    rival_prs,
)
from app.config import ConfigProblem, RepoConfig, VerificationConfig

HEAD = "a" * 40
OLD = "b" * 40
PR = PullRequest(number=10, author="agent-1", head_sha=HEAD, author_type="Bot")
TICKET = Ticket(
    number=5,
    criteria_total=2,
    criteria_checked=2,
    roles=("backend",),
    done_roles=frozenset({"backend"}),
    claims={"backend": "agent-1"},
)
GOOD = GateInputs(
    pr=PR,
    tickets=(TICKET,),
    contracts=CheckRun("Baton / contracts", "completed", "success", id=1),
    checks=(CheckRun("ci", "completed", "success", id=2), CheckRun("lint", "completed", "skipped")),
    reviews=(Review("alice", "APPROVED", HEAD, "2026-11-25T10:00:00Z"),),
    permissions={"alice": "write"},
)
ROWS = ("ticket", "spec", "evidence", "claim", "contracts", "checks", "human review")


def marks(inputs: GateInputs) -> dict[str, Mark]:
    return {row.name: row.mark for row in evaluate(inputs).rows}


def with_ticket(**changes: object) -> GateInputs:
    return replace(GOOD, tickets=(replace(TICKET, **changes),))


def test_all_conditions_hold() -> None:
    result = evaluate(GOOD)
    assert [r.name for r in result.rows] == list(ROWS)
    assert all(r.mark is Mark.PASS for r in result.rows)
    assert (result.status, result.conclusion) == ("completed", "success")


BREAKS = {
    "ticket": (replace(GOOD, tickets=()), Mark.FAIL),
    "spec": (with_ticket(criteria_total=0, criteria_checked=0), Mark.WAIT),
    "evidence": (with_ticket(criteria_checked=1), Mark.WAIT),
    "claim": (with_ticket(claims={"backend": "agent-2"}), Mark.FAIL),
    "contracts": (replace(GOOD, contracts=CheckRun("Baton / contracts", "completed", "failure")),
                  Mark.FAIL),
    "checks": (replace(GOOD, checks=(CheckRun("ci", "completed", "failure"),)), Mark.FAIL),
    "human review": (replace(GOOD, reviews=()), Mark.WAIT),
}  # fmt: skip


@pytest.mark.parametrize("row", ROWS)
def test_each_condition_alone_keeps_the_gate_from_success(row: str) -> None:
    inputs, expected = BREAKS[row]
    result = evaluate(inputs)
    got = marks(inputs)
    assert got[row] is expected
    # Only the broken condition moves (a missing ticket takes its three dependants with it).
    dependants = {"spec", "evidence", "claim"} if row == "ticket" else set()
    assert {n for n, m in got.items() if m is not Mark.PASS} == {row} | dependants
    assert result.conclusion != "success"
    if row == "ticket":  # one cause, said once, with what to add
        assert (result.status, result.conclusion) == ("completed", "failure")
        assert {n for n, m in got.items() if m is Mark.WAIT} == dependants
        assert result.title == (
            "No linked ticket: add `Fixes #N` or `Refs #N` to the PR description"
        )
    elif expected is Mark.FAIL:
        assert (result.status, result.conclusion) == ("completed", "failure")
        assert result.title.startswith("Blocked: ")
    else:
        assert (result.status, result.conclusion) == ("in_progress", None)
        assert result.title.startswith("Waiting for ")


def test_unfinished_roles_wait_for_done() -> None:
    inputs = with_ticket(roles=("backend", "frontend"), claims={"backend": "agent-1"})
    row = evaluate(inputs).rows[2]
    assert row.mark is Mark.WAIT and "frontend" in row.detail
    unnamed = with_ticket(roles=(), done_roles=frozenset(), claims={"": "agent-1"})
    assert marks(unnamed)["evidence"] is Mark.WAIT


def test_unnamed_role_done_passes() -> None:
    inputs = with_ticket(roles=(), done_roles=frozenset({""}), claims={"": "agent-1"})
    assert all(m is Mark.PASS for m in marks(inputs).values())


def test_unclaimed_ticket_waits_for_a_claim() -> None:
    result = evaluate(with_ticket(claims={}))
    assert result.rows[3].mark is Mark.WAIT
    assert "agent-1 to claim #5" in result.title


def test_claim_held_by_another_fails_even_when_the_author_could_wait() -> None:
    result = evaluate(with_ticket(claims={"backend": "agent-2"}))
    assert result.conclusion == "failure"
    assert "@agent-2" in result.rows[3].detail


def test_second_open_pr_for_same_ticket_and_role_fails() -> None:
    same = with_ticket(other_prs=(OpenPR(11, "agent-1"),))
    assert marks(same)["claim"] is Mark.FAIL
    assert "#11" in evaluate(same).rows[3].detail
    # Another holder working on another role of the ticket is not a rival.
    other_role = with_ticket(
        roles=("backend", "frontend"),
        done_roles=frozenset({"backend", "frontend"}),
        claims={"backend": "agent-1", "frontend": "agent-2"},
        other_prs=(OpenPR(12, "agent-2"), OpenPR(10, "agent-1")),
    )
    assert marks(other_role)["claim"] is Mark.PASS
    # A PR by someone holding no claim does not block the holder.
    assert marks(with_ticket(other_prs=(OpenPR(13, "mallory"),)))["claim"] is Mark.PASS


def test_closed_ticket_alone_fails_but_is_ignored_next_to_an_open_one() -> None:
    closed = replace(TICKET, number=3, open=False)
    assert marks(replace(GOOD, tickets=(closed,)))["ticket"] is Mark.FAIL
    result = evaluate(replace(GOOD, tickets=(closed, TICKET)))
    assert result.conclusion == "success"
    assert "#3 closed" in result.rows[0].detail


def test_a_closed_ticket_alone_says_so_in_the_title() -> None:
    closed = replace(TICKET, number=3, open=False)
    result = evaluate(replace(GOOD, tickets=(closed,), contracts=None))
    assert result.title == (
        "No open ticket: #3 closed; add `Fixes #N` or `Refs #N` to the PR description"
        " for an open one"
    )


def test_a_missing_ticket_and_another_violation_are_both_in_the_title() -> None:
    drift = CheckRun("Baton / contracts", "completed", "failure")
    result = evaluate(replace(GOOD, tickets=(), contracts=drift))
    assert result.title == (
        "No linked ticket: add `Fixes #N` or `Refs #N` to the PR description;"
        " also blocked: new contract drift"
    )


EXEMPT = RepoConfig(
    verification=VerificationConfig(exempt_authors=("Dependabot[bot]",), exempt_labels=("docs",))
)


@pytest.mark.parametrize(
    ("pr", "why"),
    [
        (replace(PR, author="dependabot[bot]"), "exempt (author @dependabot[bot])"),
        (replace(PR, labels=("bug", "Docs")), "exempt (label `Docs`)"),
    ],
)
def test_exempt_prs_skip_the_ticket_conditions(pr: PullRequest, why: str) -> None:
    inputs = replace(GOOD, pr=pr, tickets=(), config=EXEMPT)
    result = evaluate(inputs)
    assert result.conclusion == "success"
    assert [r.detail for r in result.rows[:4]] == [why] * 4
    # Conditions 5-7 still hold them.
    assert evaluate(replace(inputs, reviews=())).status == "in_progress"
    drift = CheckRun("Baton / contracts", "completed", "failure")
    assert evaluate(replace(inputs, contracts=drift)).conclusion == "failure"


def test_not_exempt_without_a_match() -> None:
    pr = replace(PR, author="renovate[bot]", labels=("documentation",))
    assert evaluate(replace(GOOD, pr=pr, tickets=(), config=EXEMPT)).conclusion == "failure"
    assert exemption(pr, EXEMPT) is None


def test_rivals_are_open_prs_whose_authors_hold_a_role_of_this_pr() -> None:
    ticket = replace(
        TICKET,
        roles=("backend", "frontend"),
        claims={"backend": "agent-1", "frontend": "agent-2"},
        other_prs=(OpenPR(11, "Agent-1"), OpenPR(12, "agent-2"), OpenPR(10, "agent-1")),
    )
    assert rival_prs(PR, ticket) == [OpenPR(11, "Agent-1")]
    # A PR whose author holds nothing has no role to rival on.
    assert rival_prs(replace(PR, author="mallory"), ticket) == []


def test_require_ticket_false_passes_ticket_rows_when_none_linked() -> None:
    config = RepoConfig(verification=VerificationConfig(require_ticket=False))
    result = evaluate(replace(GOOD, tickets=(), config=config))
    assert result.conclusion == "success"
    assert all("not required" in r.detail for r in result.rows[:4])
    # A linked ticket is still checked.
    broken = replace(GOOD, config=config, tickets=(replace(TICKET, criteria_checked=0),))
    assert marks(broken)["evidence"] is Mark.WAIT


def test_require_checks_false_ignores_failing_checks() -> None:
    config = RepoConfig(verification=VerificationConfig(require_checks=False))
    inputs = replace(GOOD, config=config, checks=(CheckRun("ci", "completed", "failure"),))
    assert evaluate(inputs).conclusion == "success"


@pytest.mark.parametrize(
    ("run", "expected"),
    [
        (CheckRun("ci", "queued"), Mark.WAIT),
        (CheckRun("ci", "in_progress"), Mark.WAIT),
        (CheckRun("ci", "completed", "action_required"), Mark.WAIT),
        (CheckRun("ci", "completed", "neutral"), Mark.PASS),
        (CheckRun("ci", "completed", "timed_out"), Mark.FAIL),
        (CheckRun("ci", "completed", "cancelled"), Mark.FAIL),
    ],
)
def test_other_check_states(run: CheckRun, expected: Mark) -> None:
    assert marks(replace(GOOD, checks=(run,)))["checks"] is expected


def test_failing_check_beats_pending_one_and_reruns_supersede() -> None:
    pending_and_failing = (CheckRun("a", "in_progress"), CheckRun("b", "completed", "failure"))
    assert evaluate(replace(GOOD, checks=pending_and_failing)).conclusion == "failure"
    rerun = (
        CheckRun("ci", "completed", "failure", id=1),
        CheckRun("ci", "completed", "success", id=2),
    )
    assert marks(replace(GOOD, checks=rerun))["checks"] is Mark.PASS


def test_baton_checks_are_not_other_checks() -> None:
    own = (
        CheckRun(VERIFICATION_CHECK, "in_progress", ours=True),
        CheckRun("Baton / contracts", "queued", ours=True),
    )
    assert marks(replace(GOOD, checks=own))["checks"] is Mark.PASS


def test_another_apps_run_named_like_ours_is_another_check() -> None:
    """Known by the App, not the name: a CI job's `Baton / contracts` is one more CI check,
    shown with the app that posted it."""
    ci = CheckRun("Baton / contracts", "completed", "failure", id=9, app="github-actions")
    result = evaluate(replace(GOOD, checks=(ci,)))
    assert marks(replace(GOOD, checks=(ci,)))["checks"] is Mark.FAIL
    assert "Baton / contracts (github-actions) failing" in result.title
    passing = replace(ci, conclusion="success")
    assert evaluate(replace(GOOD, checks=(passing,))).conclusion == "success"


def test_a_newer_run_of_another_app_does_not_hide_a_failure() -> None:
    failed = CheckRun("build", "completed", "failure", id=1, app="circleci")
    other = CheckRun("build", "completed", "success", id=2, app="github-actions")
    result = evaluate(replace(GOOD, checks=(failed, other)))
    assert result.conclusion == "failure"
    assert "build (circleci) failing" in result.title
    rerun = replace(failed, id=3, conclusion="success")  # its own re-run does supersede it
    assert evaluate(replace(GOOD, checks=(failed, other, rerun))).conclusion == "success"


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        (("success",), Mark.PASS),
        (("pending",), Mark.WAIT),
        (("failure",), Mark.FAIL),
        (("error",), Mark.FAIL),
        (("success", "pending"), Mark.WAIT),
        (("pending", "error"), Mark.FAIL),
    ],
)
def test_commit_statuses_count_like_check_runs(states: tuple[str, ...], expected: Mark) -> None:
    statuses = tuple(CommitStatus(f"ci/{i}", s) for i, s in enumerate(states))
    inputs = replace(GOOD, statuses=statuses)
    assert marks(inputs)["checks"] is expected
    row = evaluate(inputs).rows[5]
    if expected is Mark.PASS:
        assert row.detail == "2 check run(s) and 1 status(es) passed"
    else:
        assert "ci/" in row.detail and "ci/" in evaluate(inputs).title


def test_statuses_alone_and_not_required() -> None:
    only = replace(GOOD, checks=(), statuses=(CommitStatus("jenkins", "pending"),))
    assert evaluate(only).title == "Waiting for jenkins"
    config = RepoConfig(verification=VerificationConfig(require_checks=False))
    assert evaluate(replace(only, config=config)).conclusion == "success"


@pytest.mark.parametrize(
    ("contracts", "expected"),
    [
        (None, Mark.WAIT),
        (CheckRun("Baton / contracts", "in_progress"), Mark.WAIT),
        (CheckRun("Baton / contracts", "completed", "failure"), Mark.FAIL),
        (CheckRun("Baton / contracts", "completed", "neutral"), Mark.PASS),
    ],
)
def test_contracts_row(contracts: CheckRun | None, expected: Mark) -> None:
    assert marks(replace(GOOD, contracts=contracts))["contracts"] is expected


def test_waits_name_what_they_wait_for() -> None:
    inputs = replace(GOOD, contracts=None, reviews=(), checks=(CheckRun("ci", "queued"),))
    result = evaluate(inputs)
    assert result.status == "in_progress" and result.conclusion is None
    assert "Baton / contracts" in result.title and "ci" in result.title
    assert "1 approval" in result.title


def test_a_violation_outranks_waiting() -> None:
    inputs = replace(with_ticket(claims={"backend": "agent-2"}), reviews=(), contracts=None)
    result = evaluate(inputs)
    assert (result.status, result.conclusion) == ("completed", "failure")
    assert "#5 claimed" in result.title


# --- human review ---


def review_mark(reviews: tuple[Review, ...], **changes: object) -> Mark:
    return marks(replace(GOOD, reviews=reviews, **changes))["human review"]


def test_bot_approval_does_not_count() -> None:
    bot = Review("helper[bot]", "APPROVED", HEAD, "2026-11-25T10:00:00Z", user_type="Bot")
    assert review_mark((bot,), permissions={"helper[bot]": "admin"}) is Mark.WAIT


def test_configured_agent_approval_does_not_count() -> None:
    config = RepoConfig(agents=("Alice",))
    assert review_mark(GOOD.reviews, config=config) is Mark.WAIT


def test_approval_of_an_older_commit_does_not_count() -> None:
    old = Review("alice", "APPROVED", OLD, "2026-11-25T10:00:00Z")
    assert review_mark((old,)) is Mark.WAIT


def test_approval_needs_write_permission() -> None:
    for permission in ("read", "triage", "none"):
        assert review_mark(GOOD.reviews, permissions={"alice": permission}) is Mark.WAIT
    assert review_mark(GOOD.reviews, permissions={}) is Mark.WAIT
    for permission in ("write", "maintain", "admin"):
        assert review_mark(GOOD.reviews, permissions={"ALICE": permission}) is Mark.PASS


def test_author_cannot_approve_own_pr() -> None:
    own = Review("Agent-1", "APPROVED", HEAD, "2026-11-25T10:00:00Z")
    assert review_mark((own,), permissions={"agent-1": "admin"}) is Mark.WAIT


def test_changes_requested_blocks_until_that_human_approves() -> None:
    bob_no = Review("bob", "CHANGES_REQUESTED", OLD, "2026-11-25T09:00:00Z")
    perms = {"alice": "write", "bob": "write"}
    # Alice's approval of the head does not lift Bob's request.
    assert review_mark((bob_no, *GOOD.reviews), permissions=perms) is Mark.WAIT
    # A later comment by Bob changes nothing.
    bob_comment = Review("bob", "COMMENTED", HEAD, "2026-11-25T11:00:00Z")
    assert review_mark((bob_no, bob_comment, *GOOD.reviews), permissions=perms) is Mark.WAIT
    # Bob approving later lifts it.
    bob_yes = Review("bob", "APPROVED", HEAD, "2026-11-25T12:00:00Z")
    assert review_mark((bob_no, bob_yes, *GOOD.reviews), permissions=perms) is Mark.PASS
    # ...but not when the approval came first (order by submitted_at, not list order).
    early = replace(bob_yes, submitted_at="2026-11-25T08:00:00Z")
    assert review_mark((bob_no, early), permissions=perms) is Mark.WAIT


def test_dismissed_change_request_no_longer_blocks() -> None:
    dismissed = Review("bob", "DISMISSED", OLD, "2026-11-25T09:00:00Z")
    assert review_mark((dismissed, *GOOD.reviews)) is Mark.PASS
    states = review_states(
        (Review("bob", "APPROVED", HEAD, "1"), replace(dismissed, submitted_at="2"))
    )
    assert states == {}


def test_agent_change_request_does_not_block() -> None:
    bot = Review("helper[bot]", "CHANGES_REQUESTED", HEAD, "2026-11-25T11:00:00Z", user_type="Bot")
    assert review_mark((bot, *GOOD.reviews)) is Mark.PASS


def test_required_approvals() -> None:
    two = RepoConfig(verification=VerificationConfig(required_approvals=2))
    assert review_mark(GOOD.reviews, config=two) is Mark.WAIT
    carol = Review("carol", "APPROVED", HEAD, "2026-11-25T10:30:00Z")
    perms = {"alice": "write", "carol": "maintain"}
    assert review_mark((*GOOD.reviews, carol), config=two, permissions=perms) is Mark.PASS
    zero = RepoConfig(verification=VerificationConfig(required_approvals=0))
    assert review_mark((), config=zero) is Mark.PASS


def test_approvers_to_check_lists_only_human_head_approvers() -> None:
    reviews = (
        Review("alice", "APPROVED", HEAD, "1"),
        Review("bob", "APPROVED", OLD, "2"),
        Review("helper[bot]", "APPROVED", HEAD, "3", user_type="Bot"),
        Review("carol", "CHANGES_REQUESTED", HEAD, "4"),
        Review("agent-1", "APPROVED", HEAD, "5"),
    )
    assert approvers_to_check(PR, reviews) == ["alice"]


# --- output ---


def test_summary_has_a_row_per_condition_with_marks() -> None:
    inputs = replace(GOOD, contracts=None, checks=(CheckRun("ci|x", "completed", "failure"),))
    result = evaluate(inputs)
    lines = result.summary.splitlines()
    assert lines[0].startswith("| |")
    table = [line for line in lines[2:9]]
    assert [line.split(" | ")[1] for line in table] == list(ROWS)
    assert table[4].startswith("| ⏳ |") and table[5].startswith("| ❌ |")
    assert table[0].startswith("| ✅ |")
    assert "ci\\|x" in table[5]
    assert result.output == {"title": result.title, "summary": result.summary}


def test_output_stays_bounded_with_huge_inputs() -> None:
    many = tuple(CheckRun(f"check-{i}-" + "x" * 200, "queued", id=i) for i in range(2000))
    problems = tuple(ConfigProblem("bad " * 500, i) for i in range(100))
    inputs = replace(GOOD, checks=many, config=RepoConfig(problems=problems))
    result = evaluate(inputs)
    assert len(result.title) <= 200
    assert len(result.summary) < 65_535
    assert ".github/baton.yml" in result.summary


check_runs = st.builds(
    CheckRun,
    name=st.sampled_from(["ci", "lint", "Baton / contracts", VERIFICATION_CHECK]),
    status=st.sampled_from(["queued", "in_progress", "completed"]),
    conclusion=st.sampled_from([None, "success", "failure", "neutral", "action_required"]),
    id=st.integers(0, 5),
)
review_items = st.builds(
    Review,
    user=st.sampled_from(["alice", "bob", "agent-1", "helper[bot]"]),
    state=st.sampled_from(["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED"]),
    commit_id=st.sampled_from([HEAD, OLD]),
    submitted_at=st.sampled_from(["1", "2", "3"]),
)


@given(
    checks=st.lists(check_runs, max_size=4),
    contracts=st.none() | check_runs,
    reviews=st.lists(review_items, max_size=5),
    tickets=st.lists(st.sampled_from([TICKET, replace(TICKET, open=False)]), max_size=2),
)
def test_status_follows_the_marks(
    checks: list[CheckRun],
    contracts: CheckRun | None,
    reviews: list[Review],
    tickets: list[Ticket],
) -> None:
    inputs = GateInputs(
        PR,
        tuple(tickets),
        contracts,
        tuple(checks),
        tuple(reviews),
        {"alice": "admin", "bob": "read"},
    )
    result = evaluate(inputs)
    found = {r.mark for r in result.rows}
    assert len(result.rows) == 7
    if Mark.FAIL in found:
        assert (result.status, result.conclusion) == ("completed", "failure")
    elif Mark.WAIT in found:
        assert (result.status, result.conclusion) == ("in_progress", None)
    else:
        assert (result.status, result.conclusion) == ("completed", "success")
