"""The checks shell's decisions, over plain data: which check runs are Baton's, when an event
may change a gate, which open PRs are candidate rivals, what a closed PR tells its tickets,
which pushes get a contracts run. The shells (routes, gate, contracts_run) fetch, call these
and apply the answer; tests call them directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from app.checks.report import CONTRACTS_CHECK
from app.checks.verification import (
    PASSING_CONCLUSIONS,
    VERIFICATION_CHECK,
    CheckRun,
    CommitStatus,
    GateResult,
    OpenPR,
)
from app.config import RepoConfig
from app.tickets.status_comment import State

Json = dict[str, Any]
OURS = (CONTRACTS_CHECK, VERIFICATION_CHECK)
MAX_REASON = 200  # characters of what a PR waits for, on the ticket (`LinkedPR.reason`)
NO_COMMIT = "0" * 40  # `before` of a push that created the branch, `after` of one deleting it


# --- which runs are ours --------------------------------------------------------------------


def ours(item: Json, app_id: int) -> bool:
    """Whether a check run or suite was posted by this App: by the App's id, never by name
    (a CI job may post a run called `Baton / contracts`)."""
    return (item.get("app") or {}).get("id") == app_id


def latest(runs: Iterable[Json], name: str, app_id: int) -> Json | None:
    """Our newest run of `name`: the one that counts for branch protection."""
    mine = [r for r in runs if r.get("name") == name and ours(r, app_id)]
    return max(mine, key=lambda r: r["id"]) if mine else None


def with_run(runs: list[Json], run: Json) -> list[Json]:
    """`runs` with `run` added, or in place of its older copy."""
    return [r for r in runs if r["id"] != run["id"]] + [run]


def check_run(run: Json, app_id: int) -> CheckRun:
    """A check run as the gate reads it."""
    app = run.get("app") or {}
    return CheckRun(
        str(run["name"]),
        str(run["status"]),
        run.get("conclusion"),
        int(run["id"]),
        ours=ours(run, app_id),
        app=str(app.get("slug") or ""),
    )


def commit_statuses(combined: Json) -> tuple[CommitStatus, ...]:
    """The latest status per context, from the combined-status answer."""
    return tuple(
        CommitStatus(str(s.get("context") or ""), str(s.get("state") or "pending"))
        for s in combined.get("statuses") or []
    )


def check_states(
    runs: Sequence[Json], statuses: Sequence[CommitStatus], app_id: int
) -> tuple[tuple[str, str], ...]:
    """Latest run per name (status, or conclusion once completed) and each commit status, for
    the ticket's status comment; our gate aside (it has its own field)."""
    newest: dict[str, Json] = {}
    for run in sorted(runs, key=lambda r: r["id"]):
        check = check_run(run, app_id)
        if not (check.ours and check.name == VERIFICATION_CHECK):
            newest[check.label] = run
    states = {n: str(r.get("conclusion") or r["status"]) for n, r in newest.items()}
    for status in statuses:
        states.setdefault(status.context, status.state)
    return tuple(sorted(states.items()))


# --- when an event may change a gate ----------------------------------------------------------


def gate_may_change(runs: Sequence[Json], event: str, run: Json, app_id: int) -> bool:
    """Whether another app's check run (`event` created or completed) or suite (`suite`) can
    change the gate on its commit; most CI events cannot, and a CI run of 20 jobs would
    otherwise cost 40 evaluations. A started run matters to a passed gate; a finished one when
    it failed, when the gate is done (it may have failed on this very check) or when it was the
    last one running; a finished suite to a gate still waiting."""
    gate = latest(runs, VERIFICATION_CHECK, app_id)
    if gate is None:
        return True
    if event == "created":
        return gate.get("conclusion") == "success"
    if event == "suite":
        return gate.get("status") != "completed"
    if run.get("conclusion") not in PASSING_CONCLUSIONS:
        return True
    others = [r for r in runs if not ours(r, app_id) and r["id"] != run["id"]]
    return gate.get("status") == "completed" or all(r["status"] == "completed" for r in others)


def status_may_change(runs: Sequence[Json], state: str, app_id: int) -> bool:
    """Whether a commit status (`pending`, `success`, `failure`, `error`) can change the gate
    on its commit: a pending one a passed gate, a failing one any gate, a passing one a gate
    that has not passed (it may be waiting for this very context)."""
    gate = latest(runs, VERIFICATION_CHECK, app_id)
    if gate is None or state in ("failure", "error"):
        return True
    passed = gate.get("conclusion") == "success"
    return passed if state == "pending" else not passed


def has_gate(runs: Sequence[Json], app_id: int) -> bool:
    """Whether our gate is on the commit: only PR heads get one, so an event on a commit
    without it (default-branch CI) concerns no PR the app has seen (the sweep heals the rest)."""
    return latest(runs, VERIFICATION_CHECK, app_id) is not None


def label_matters(label: Json | None, config: RepoConfig) -> bool:
    """Whether a PR's label change can change its gate: only `verification.exempt_labels`."""
    name = str((label or {}).get("name") or "").lower()
    return name in {n.lower() for n in config.verification.exempt_labels}


# --- rivals -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    """An open PR as the open-PR listing shows it: its author and the tickets it links."""

    number: int
    author: str
    links: frozenset[int]


def known_open_prs(states: Iterable[State | None]) -> set[int] | None:
    """The open PRs the tickets' status comments list; None when one has none (unknown)."""
    found: set[int] = set()
    for state in states:
        if state is None:
            return None
        found |= {p.number for p in state.prs if p.state == "open"}
    return found


def other_open_prs(
    number: int, ticket: int, listed: Sequence[Listed] | None, state: State | None
) -> tuple[OpenPR, ...]:
    """The other open PRs linking `ticket`, the gate's candidate rivals (the gate keeps those
    whose author holds a role this PR works under): from the open-PR listing when the shell
    has it, else from the ticket's status comment, else none known."""
    if listed is not None:
        return tuple(
            OpenPR(p.number, p.author) for p in listed if p.number != number and ticket in p.links
        )
    if state is None:
        return ()
    return tuple(
        OpenPR(p.number, p.author) for p in state.prs if p.state == "open" and p.number != number
    )


# --- what the tickets learn -------------------------------------------------------------------


def verdict(gate: Json | None) -> str | None:
    """`Baton / verification` as the ticket records it: its conclusion, `pending` while it
    runs, None when there is none. A merged PR closes its tickets as done only on `success`."""
    if gate is None:
        return None
    return str(gate.get("conclusion") or "pending")


def waiting(result: GateResult) -> str:
    """What a PR's verification waits for, or why it fails, in a few words for the ticket
    (`LinkedPR.reason`); empty once it passed."""
    if result.conclusion == "success":
        return ""
    text = result.title
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


# --- pushes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Push:
    head: str
    base: str | None  # None: the branch is new, everything in it is new


PUSH_ID = "push:"  # external_id of a default-branch run: `push:<base sha>` (empty: no base)


def push_id(push: Push) -> str:
    """What a default-branch run keeps of its push, so a re-run can scan the same pair."""
    return PUSH_ID + (push.base or "")


def push_of_run(run: Json) -> Push | None:
    """The push a `Baton / contracts` run was posted for, or None for a PR head's run."""
    external = str(run.get("external_id") or "")
    if not external.startswith(PUSH_ID) or not run.get("head_sha"):
        return None
    return Push(str(run["head_sha"]), external.removeprefix(PUSH_ID) or None)


def default_branch_push(payload: Json) -> Push | None:
    """A push to the repository's default branch that leaves a head to scan, else None."""
    repo = payload.get("repository") or {}
    default = repo.get("default_branch") or "main"
    after, before = str(payload.get("after") or ""), str(payload.get("before") or "")
    if payload.get("ref") != f"refs/heads/{default}" or payload.get("deleted"):
        return None
    if not after or after == NO_COMMIT:
        return None
    return Push(after, None if not before or before == NO_COMMIT else before)
