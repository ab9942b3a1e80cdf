"""The checks shell's decisions, called directly (app/checks/decisions.py): whose runs, when an
event may change a gate, rivals, what a closed PR tells its tickets, which pushes are scanned."""

from __future__ import annotations

from typing import Any

import pytest

from app.checks.decisions import (
    NO_COMMIT,
    Listed,
    Push,
    check_run,
    check_states,
    commit_statuses,
    default_branch_push,
    gate_may_change,
    has_gate,
    known_open_prs,
    label_matters,
    latest,
    other_open_prs,
    ours,
    push_id,
    push_of_run,
    status_may_change,
    verdict,
    waiting,
    with_run,
)
from app.checks.report import CONTRACTS_CHECK
from app.checks.verification import (
    VERIFICATION_CHECK,
    CommitStatus,
    GateInputs,
    OpenPR,
    PullRequest,
    evaluate,
)
from app.config import RepoConfig, VerificationConfig
from app.tickets.status_comment import LinkedPR, State

US, CI = 4242, 15368
Json = dict[str, Any]


def run(
    id: int, name: str, status: str = "completed", conclusion: str | None = "success",
    app: int = CI,
) -> Json:  # fmt: skip
    slug = "baton" if app == US else "github-actions"
    return {"id": id, "name": name, "status": status, "conclusion": conclusion,
            "app": {"id": app, "slug": slug}}  # fmt: skip


def gate(status: str = "completed", conclusion: str | None = "success", id: int = 2) -> Json:
    return run(id, VERIFICATION_CHECK, status, conclusion, US)


# --- whose runs -------------------------------------------------------------------------------


def test_our_runs_are_known_by_the_app_id_not_the_name() -> None:
    theirs = run(9, CONTRACTS_CHECK, app=CI)
    mine = run(3, CONTRACTS_CHECK, app=US)
    assert ours(mine, US) and not ours(theirs, US)
    assert not ours({"name": CONTRACTS_CHECK}, US)  # no app: not ours
    assert latest([mine, theirs], CONTRACTS_CHECK, US) == mine  # the newer id is theirs
    assert latest([theirs], CONTRACTS_CHECK, US) is None
    newer = run(5, CONTRACTS_CHECK, "in_progress", None, US)
    assert latest([mine, newer, theirs], CONTRACTS_CHECK, US) == newer
    assert check_run(theirs, US).label == "Baton / contracts (github-actions)"
    assert check_run(mine, US).ours and check_run(mine, US).label == CONTRACTS_CHECK


def test_with_run_replaces_an_older_copy() -> None:
    old = run(3, "ci", "in_progress", None)
    assert with_run([old, run(4, "x")], run(3, "ci")) == [run(4, "x"), run(3, "ci")]


def test_check_states_for_the_ticket() -> None:
    runs = [
        run(1, "ci", "completed", "failure"),
        run(7, "ci", "in_progress", None),  # a re-run supersedes
        run(3, CONTRACTS_CHECK, app=US),
        run(4, CONTRACTS_CHECK, conclusion="failure"),  # CI's, named like ours
        gate(),  # our gate has its own field
        run(5, VERIFICATION_CHECK, conclusion="neutral"),
    ]
    statuses = (CommitStatus("jenkins", "pending"), CommitStatus("ci", "success"))
    assert dict(check_states(runs, statuses, US)) == {
        "ci": "in_progress",  # a run and a status of one name: the run
        CONTRACTS_CHECK: "success",
        "Baton / contracts (github-actions)": "failure",
        "Baton / verification (github-actions)": "neutral",
        "jenkins": "pending",
    }


def test_commit_statuses_from_the_combined_answer() -> None:
    combined = {"state": "pending", "statuses": [{"context": "ci/a", "state": "error"}, {}]}
    assert commit_statuses(combined) == (
        CommitStatus("ci/a", "error"),
        CommitStatus("", "pending"),
    )
    assert commit_statuses({"state": "pending", "statuses": []}) == ()


# --- when the gate may change -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("gate_run", "event", "event_run", "others", "expected"),
    [
        (None, "created", run(9, "ci", "queued", None), [], True),  # no gate yet
        (gate(), "created", run(9, "ci", "queued", None), [], True),  # a passed gate waits now
        (gate("in_progress", None), "created", run(9, "ci", "queued", None), [], False),
        (gate("completed", "failure"), "created", run(9, "ci", "queued", None), [], False),
        (gate("in_progress", None), "completed", run(9, "ci", conclusion="failure"), [], True),
        (gate(), "completed", run(9, "ci", conclusion="timed_out"), [], True),
        # A success: a finished gate may have failed on this very check.
        (gate("completed", "failure"), "completed", run(9, "ci"), [], True),
        # A waiting gate: only when it was the last one running.
        (gate("in_progress", None), "completed", run(9, "ci"),
         [run(8, "lint", "in_progress", None)], False),
        (gate("in_progress", None), "completed", run(9, "ci"), [run(8, "lint")], True),
        # Our own runs still running do not count as CI running.
        (gate("in_progress", None), "completed", run(9, "ci"),
         [run(3, CONTRACTS_CHECK, "in_progress", None, US)], True),
        (gate("in_progress", None), "suite", run(9, "ci"), [], True),
        (gate(), "suite", run(9, "ci"), [], False),
    ],
)  # fmt: skip
def test_gate_may_change_on_a_check_event(
    gate_run: Json | None, event: str, event_run: Json, others: list[Json], expected: bool
) -> None:
    runs = [*([gate_run] if gate_run else []), *others, event_run]
    assert gate_may_change(runs, event, event_run, US) is expected


@pytest.mark.parametrize(
    ("gate_run", "state", "expected"),
    [
        (None, "success", True),
        (gate(), "pending", True),
        (gate(), "success", False),
        (gate(), "failure", True),
        (gate(), "error", True),
        (gate("in_progress", None), "pending", False),
        (gate("in_progress", None), "success", True),
        (gate("completed", "failure"), "success", True),
    ],
)
def test_gate_may_change_on_a_commit_status(
    gate_run: Json | None, state: str, expected: bool
) -> None:
    assert status_may_change([gate_run] if gate_run else [], state, US) is expected


def test_only_a_commit_with_our_gate_concerns_a_pr() -> None:
    assert has_gate([gate()], US)
    assert not has_gate([run(3, CONTRACTS_CHECK, app=US)], US)  # a default-branch record
    assert not has_gate([run(2, VERIFICATION_CHECK)], US)  # CI's, named like ours


def test_only_exempt_labels_matter_to_the_gate() -> None:
    config = RepoConfig(verification=VerificationConfig(exempt_labels=("Docs",)))
    assert label_matters({"name": "docs"}, config)
    assert not label_matters({"name": "bug"}, config)
    assert not label_matters(None, config)
    assert not label_matters({"name": "docs"}, RepoConfig())


# --- rivals -----------------------------------------------------------------------------------


def test_other_open_prs_come_from_the_listing_first() -> None:
    listed = [
        Listed(10, "me", frozenset({5})),
        Listed(11, "ann", frozenset({5, 6})),
        Listed(12, "bob", frozenset({6})),
    ]
    state = State(ticket=5, prs=(LinkedPR(13, author="cy"), LinkedPR(14, state="closed")))
    assert other_open_prs(10, 5, listed, state) == (OpenPR(11, "ann"),)
    # Without the listing: the ticket's status comment (open ones, this PR aside).
    assert other_open_prs(10, 5, None, state) == (OpenPR(13, "cy"),)
    assert other_open_prs(13, 5, None, state) == ()
    assert other_open_prs(10, 5, None, None) == ()


def test_known_open_prs_are_unknown_without_a_status_comment() -> None:
    a = State(ticket=1, prs=(LinkedPR(7), LinkedPR(8, state="merged")))
    b = State(ticket=2, prs=(LinkedPR(9),))
    assert known_open_prs([a, b]) == {7, 9}
    assert known_open_prs([a, None]) is None
    assert known_open_prs([State(ticket=3)]) == set()


# --- what the tickets learn -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gate_run", "recorded", "closes"),
    [
        (gate(), "success", True),
        (gate("completed", "failure"), "failure", False),
        (gate("in_progress", None), "pending", False),
        (None, None, False),
    ],
)
def test_a_merged_pr_closes_its_ticket_as_verified_only_on_success(
    gate_run: Json | None, recorded: str | None, closes: bool
) -> None:
    assert verdict(gate_run) == recorded
    merged = LinkedPR(7, state="merged", verification=verdict(gate_run))
    assert merged.verified_merge is closes
    assert not LinkedPR(7, state="closed", verification=verdict(gate_run)).verified_merge


def test_waiting_is_the_gate_title_until_it_passes() -> None:
    pr = PullRequest(1, "ann", "a" * 40)
    result = evaluate(GateInputs(pr))
    assert waiting(result) == result.title
    assert waiting(result).startswith("No linked ticket")
    done = evaluate(
        GateInputs(
            pr,
            config=RepoConfig(
                verification=VerificationConfig(required_approvals=0, require_ticket=False)
            ),
            contracts=check_run(run(3, CONTRACTS_CHECK, app=US), US),
        )
    )
    assert done.conclusion == "success" and waiting(done) == ""


# --- pushes -----------------------------------------------------------------------------------


def push(**changes: Any) -> Json:
    payload = {
        "ref": "refs/heads/trunk",
        "before": "b" * 40,
        "after": "a" * 40,
        "deleted": False,
        "repository": {"default_branch": "trunk"},
    }
    return payload | changes


def test_a_push_run_remembers_its_base_for_a_re_run() -> None:
    for pushed in (Push("a" * 40, "b" * 40), Push("a" * 40, None)):
        run = {"head_sha": pushed.head, "external_id": push_id(pushed)}
        assert push_of_run(run) == pushed
    assert push_of_run({"head_sha": "a" * 40, "external_id": ""}) is None  # a PR head's run
    assert push_of_run({"head_sha": "a" * 40, "external_id": None}) is None


def test_default_branch_pushes_are_scanned_against_the_previous_head() -> None:
    assert default_branch_push(push()) == Push("a" * 40, "b" * 40)
    assert default_branch_push(push(before=NO_COMMIT)) == Push("a" * 40, None)  # a new branch
    assert default_branch_push(push(ref="refs/heads/topic")) is None
    assert default_branch_push(push(ref="refs/tags/trunk")) is None
    assert default_branch_push(push(deleted=True, after=NO_COMMIT)) is None
    assert default_branch_push(push(after=NO_COMMIT)) is None

