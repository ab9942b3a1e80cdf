"""The `Baton / verification` gate: seven conditions over plain data, and its check-run output."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from app.checks.report import CONTRACTS_CHECK
from app.config import DEFAULT, RepoConfig
from app.markdown import table_cell
from app.tickets.claims import has_write

VERIFICATION_CHECK = "Baton / verification"

PASSING_CONCLUSIONS = frozenset({"success", "neutral", "skipped"})
MAX_DETAIL = 300  # characters of one row's detail
MAX_TITLE = 200


class Mark(StrEnum):
    PASS = "pass"
    WAIT = "wait"
    FAIL = "fail"

    @property
    def emoji(self) -> str:
        return {"pass": "✅", "wait": "⏳", "fail": "❌"}[self.value]


@dataclass(frozen=True)
class PullRequest:
    number: int
    author: str
    head_sha: str
    author_type: str = "User"
    draft: bool = False
    state: str = "open"
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class OpenPR:
    """Another open PR that links the same ticket."""

    number: int
    author: str


@dataclass(frozen=True)
class Ticket:
    """A linked issue of this repository that is a ticket (handlers drop PRs and non-tickets)."""

    number: int
    open: bool = True
    criteria_total: int = 0  # task items under the acceptance-criteria heading
    criteria_checked: int = 0
    roles: tuple[str, ...] = ()  # `role: NAME` labels; () is one unnamed role ""
    done_roles: frozenset[str] = frozenset()  # roles that reported /done ("" when unnamed)
    claims: Mapping[str, str] = field(default_factory=dict)  # role -> holder login
    other_prs: tuple[OpenPR, ...] = ()

    @property
    def role_names(self) -> tuple[str, ...]:
        return self.roles or ("",)

    def roles_held_by(self, login: str) -> set[str]:
        return {r for r, h in self.claims.items() if h.lower() == login.lower()}


@dataclass(frozen=True)
class CheckRun:
    name: str
    status: str  # queued | in_progress | completed | waiting | requested | pending
    conclusion: str | None = None
    id: int = 0  # of several runs with one name, the highest id is the current one
    ours: bool = False  # posted by this App (known by its id, not by the name)
    app: str = ""  # the posting App's slug

    @property
    def label(self) -> str:
        """The name a reader sees: another app's run named like ours says whose it is."""
        if self.ours or self.name not in (VERIFICATION_CHECK, CONTRACTS_CHECK):
            return self.name
        return f"{self.name} ({self.app or 'another app'})"


@dataclass(frozen=True)
class CommitStatus:
    """The latest commit status of one context (the statuses API, as older CI reports)."""

    context: str
    state: str  # pending | success | failure | error


@dataclass(frozen=True)
class Review:
    user: str
    state: str  # APPROVED | CHANGES_REQUESTED | COMMENTED | DISMISSED | PENDING
    commit_id: str
    submitted_at: str | None = None  # ISO 8601 as GitHub sends it
    user_type: str = "User"


@dataclass(frozen=True)
class GateInputs:
    pr: PullRequest
    tickets: tuple[Ticket, ...] = ()  # linked tickets, closing or not
    contracts: CheckRun | None = None  # `Baton / contracts` on the head, None if not created
    checks: tuple[CheckRun, ...] = ()  # every check run on the head; Baton's own are skipped
    reviews: tuple[Review, ...] = ()
    permissions: Mapping[str, str] = field(default_factory=dict)  # login -> admin|…|none
    config: RepoConfig = DEFAULT
    statuses: tuple[CommitStatus, ...] = ()  # the head's commit statuses, latest per context


@dataclass(frozen=True)
class Row:
    name: str
    mark: Mark
    detail: str
    short: str = ""  # for the title: "Waiting for <short>" or "Blocked: <short>"


@dataclass(frozen=True)
class GateResult:
    rows: tuple[Row, ...]
    status: str  # completed | in_progress
    conclusion: str | None  # success | failure | None while in progress
    title: str
    summary: str

    @property
    def output(self) -> dict[str, str]:
        return {"title": self.title, "summary": self.summary}


def _row(name: str, mark: Mark, detail: str, short: str = "") -> Row:
    return Row(name, mark, detail[:MAX_DETAIL], short)


Verdict = tuple[Mark, str, str]  # per ticket: mark, detail, short


def _worst(name: str, verdicts: list[Verdict], ok: str) -> Row:
    """One row from per-ticket verdicts: fails first, then waits, else pass."""
    for mark in (Mark.FAIL, Mark.WAIT):
        bad = [(d, short) for m, d, short in verdicts if m is mark]
        if bad:
            return _row(name, mark, "; ".join(d for d, _ in bad), bad[0][1])
    return _row(name, Mark.PASS, ok)


def _refs(tickets: tuple[Ticket, ...]) -> str:
    return ", ".join(f"#{t.number}" for t in tickets)


def _spec(t: Ticket) -> list[Verdict]:
    if t.criteria_total > 0:
        return []
    return [(Mark.WAIT, f"#{t.number} has no acceptance criteria", f"a spec on #{t.number}")]


def _evidence(t: Ticket) -> list[Verdict]:
    out: list[Verdict] = []
    n, done, total = t.number, t.criteria_checked, t.criteria_total
    if total > 0 and done < total:
        out.append(
            (Mark.WAIT, f"#{n}: {done} of {total} criteria ticked", f"criteria ticked on #{n}")
        )
    if missing := [r or "the assignee" for r in t.role_names if r not in t.done_roles]:
        out.append((Mark.WAIT, f"#{n}: no /done from {', '.join(missing)}", f"/done on #{n}"))
    return out


def rival_prs(pr: PullRequest, t: Ticket) -> list[OpenPR]:
    """The other open PRs on the ticket that work under a role this PR's author holds: their
    authors hold it too (a PR works under the roles its author holds)."""
    held = t.roles_held_by(pr.author)
    return [p for p in t.other_prs if p.number != pr.number and t.roles_held_by(p.author) & held]


def _claim(pr: PullRequest, t: Ticket) -> list[Verdict]:
    held = t.roles_held_by(pr.author)
    if not held:
        if any(r not in t.claims for r in t.role_names):
            hint = f"@{pr.author} to claim #{t.number}"
            return [(Mark.WAIT, f"@{pr.author} holds no claim on #{t.number}: `/claim` it", hint)]
        holders = ", ".join(sorted({f"@{t.claims[r]}" for r in t.role_names}))
        return [(Mark.FAIL, f"#{t.number} is claimed by {holders}", f"#{t.number} claimed")]
    if rivals := rival_prs(pr, t):
        nums = ", ".join(f"#{p.number}" for p in rivals)
        rival = f"{nums} also open for #{t.number}"
        return [(Mark.FAIL, rival, rival)]
    return []


def exemption(pr: PullRequest, config: RepoConfig) -> str | None:
    """Why the PR skips conditions 1-4 (`verification.exempt_authors`, `exempt_labels`)."""
    v = config.verification
    if pr.author.lower() in {a.lower() for a in v.exempt_authors}:
        return f"author @{pr.author}"
    wanted = {lb.lower() for lb in v.exempt_labels}
    if label := next((lb for lb in pr.labels if lb.lower() in wanted), None):
        return f"label `{label}`"
    return None


ADD_A_LINK = "add `Fixes #N` or `Refs #N` to the PR description"


def _ticket_rows(inputs: GateInputs) -> list[Row]:
    names = ("ticket", "spec", "evidence", "claim")
    if exempt := exemption(inputs.pr, inputs.config):
        return [_row(n, Mark.PASS, f"exempt ({exempt})") for n in names]
    live = tuple(t for t in inputs.tickets if t.open)
    closed = tuple(t for t in inputs.tickets if not t.open)
    if not live:
        if not inputs.config.verification.require_ticket:
            return [_row(n, Mark.PASS, "not required (no open ticket linked)") for n in names]
        if closed:
            short = f"No open ticket: {_refs(closed)} closed; {ADD_A_LINK} for an open one"
        else:
            short = f"No linked ticket: {ADD_A_LINK}"
        # One cause, said once: the other three rows wait for a ticket to read.
        first = _row("ticket", Mark.FAIL, short, short)
        return [first] + [_row(n, Mark.WAIT, "needs an open linked ticket") for n in names[1:]]
    extra = f" ({_refs(closed)} closed, ignored)" if closed else ""
    author = inputs.pr.author
    return [
        _row("ticket", Mark.PASS, f"links {_refs(live)}{extra}"),
        _worst("spec", [v for t in live for v in _spec(t)], "acceptance criteria written"),
        _worst("evidence", [v for t in live for v in _evidence(t)], "criteria ticked, all /done"),
        _worst(
            "claim",
            [v for t in live for v in _claim(inputs.pr, t)],
            f"@{author} holds the claim, no rival PR",
        ),
    ]


def _contracts_row(run: CheckRun | None) -> Row:
    if run is None or run.status != "completed":
        state = "not started" if run is None else run.status.replace("_", " ")
        return _row("contracts", Mark.WAIT, f"`{CONTRACTS_CHECK}` {state}", CONTRACTS_CHECK)
    if run.conclusion in PASSING_CONCLUSIONS:
        return _row("contracts", Mark.PASS, f"`{CONTRACTS_CHECK}`: {run.conclusion}")
    why = "new contract drift" if run.conclusion == "failure" else f"contracts {run.conclusion}"
    return _row("contracts", Mark.FAIL, f"`{CONTRACTS_CHECK}`: {why}", why)


def _checks_row(inputs: GateInputs) -> Row:
    if not inputs.config.verification.require_checks:
        return _row("checks", Mark.PASS, "not required")
    # A check is a name under one app: a re-run supersedes its own earlier run, never another
    # app's run of the same name (a newer success elsewhere does not hide a failure).
    newest: dict[tuple[str, str], CheckRun] = {}
    for run in inputs.checks:
        key = (run.app, run.name)
        if not run.ours and (key not in newest or run.id > newest[key].id):
            newest[key] = run
    latest = {run.label: run for run in sorted(newest.values(), key=lambda r: r.id)}
    if len(latest) < len(newest):  # two apps, one name: say whose each is
        latest = {f"{r.name} ({r.app or 'another app'})": r for r in newest.values()}
    # name -> passed (True), failed (False) or still running (None)
    verdicts: dict[str, bool | None] = {}
    for name, run in latest.items():
        # action_required waits on a person (e.g. approving a workflow run): not a failure yet.
        if run.status != "completed" or run.conclusion == "action_required":
            verdicts[name] = None
        else:
            verdicts[name] = run.conclusion in PASSING_CONCLUSIONS
    for status in inputs.statuses:
        if status.context not in verdicts:
            passed = {"success": True, "failure": False, "error": False}.get(status.state)
            verdicts[status.context] = passed
    if not verdicts:
        return _row("checks", Mark.PASS, "no other check runs or statuses on this commit")
    failing = [n for n, v in verdicts.items() if v is False]
    pending = [n for n, v in verdicts.items() if v is None]
    if failing:
        return _row("checks", Mark.FAIL, "failing: " + ", ".join(failing), f"{failing[0]} failing")
    if pending:
        return _row("checks", Mark.WAIT, "waiting for: " + ", ".join(pending), ", ".join(pending))
    runs, statuses = len(latest), len(verdicts) - len(latest)
    both = f"{runs} check run(s)" + (f" and {statuses} status(es)" if statuses else "")
    return _row("checks", Mark.PASS, both + " passed")


def review_states(reviews: tuple[Review, ...]) -> dict[str, Review]:
    """Each reviewer's latest deciding review: APPROVED or CHANGES_REQUESTED.

    COMMENTED and PENDING change nothing; DISMISSED withdraws the reviewer's verdict.
    """
    ordered = sorted(enumerate(reviews), key=lambda p: (p[1].submitted_at or "", p[0]))
    states: dict[str, Review] = {}
    for _, review in ordered:
        login = review.user.lower()
        if review.state in ("APPROVED", "CHANGES_REQUESTED"):
            states[login] = review
        elif review.state == "DISMISSED":
            states.pop(login, None)
    return states


def approvers_to_check(
    pr: PullRequest, reviews: tuple[Review, ...], config: RepoConfig = DEFAULT
) -> list[str]:
    """Logins whose repository permission the handler must fetch: human approvers of the head."""
    return sorted({r.user for r in _human_verdicts(pr, reviews, config) if r.state == "APPROVED"})


def _human_verdicts(
    pr: PullRequest, reviews: tuple[Review, ...], config: RepoConfig
) -> list[Review]:
    return [
        r
        for login, r in review_states(reviews).items()
        if login != pr.author.lower()
        and not config.is_agent(r.user, r.user_type)
        and (r.state == "CHANGES_REQUESTED" or r.commit_id == pr.head_sha)
    ]


def _review_row(inputs: GateInputs) -> Row:
    perms = {k.lower(): v for k, v in inputs.permissions.items()}
    verdicts = _human_verdicts(inputs.pr, inputs.reviews, inputs.config)
    blockers = [r.user for r in verdicts if r.state == "CHANGES_REQUESTED"]
    approvers = [
        r.user for r in verdicts if r.state == "APPROVED" and has_write(perms.get(r.user.lower()))
    ]
    need = inputs.config.verification.required_approvals
    if blockers:
        who = ", ".join(f"@{b}" for b in blockers)
        return _row("human review", Mark.WAIT, f"changes requested by {who}", f"{who} to approve")
    if len(approvers) < need:
        got = f"{len(approvers)} of {need} approvals of this commit"
        missing = need - len(approvers)
        return _row("human review", Mark.WAIT, got, f"{missing} approval{'s' * (missing > 1)}")
    who = ", ".join(f"@{a}" for a in approvers) or "none required"
    return _row("human review", Mark.PASS, f"approved by {who}")


def evaluate(inputs: GateInputs) -> GateResult:
    rows = (
        *_ticket_rows(inputs),
        _contracts_row(inputs.contracts),
        _checks_row(inputs),
        _review_row(inputs),
    )
    fails = [r for r in rows if r.mark is Mark.FAIL]
    waits = [r for r in rows if r.mark is Mark.WAIT]
    if fails:
        status, conclusion = "completed", "failure"
        causes = list(dict.fromkeys(r.short or r.name for r in fails if r.name != "ticket"))
        title = "Blocked: " + "; ".join(causes)
        if fails[0].name == "ticket":  # a missing ticket is said as it is, with what to add
            title = fails[0].short + ("; also blocked: " + "; ".join(causes) if causes else "")
    elif waits:
        status, conclusion = "in_progress", None
        title = "Waiting for " + "; ".join(dict.fromkeys(r.short or r.name for r in waits))
    else:
        status, conclusion = "completed", "success"
        title = "All conditions hold"
    if len(title) > MAX_TITLE:
        title = title[: MAX_TITLE - 1] + "…"
    return GateResult(rows, status, conclusion, title, render_summary(rows, inputs))


def render_summary(rows: tuple[Row, ...], inputs: GateInputs) -> str:
    lines = [
        "| | condition | detail |",
        "|---|---|---|",
        *(f"| {r.mark.emoji} | {r.name} | {table_cell(r.detail)} |" for r in rows),
    ]
    if inputs.pr.draft:
        lines += ["", "This pull request is a draft."]
    if inputs.config.problems:
        lines += ["", "**`.github/baton.yml` is invalid; the defaults are in force:**"]
        lines += [f"- {table_cell(str(p))[:MAX_DETAIL]}" for p in inputs.config.problems[:20]]
    return "\n".join(lines)
