"""The tools' results: typed, so their JSON schemas (with these descriptions) reach the client.
Each description is written for an agent that has never seen Baton."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Mark = Literal["pass", "wait", "fail"]
Outcome = Literal["accepted", "refused", "wrong-usage", "timeout"]
STATUSES = "needs-spec | ready | in-progress | validation | done"


class Spec(BaseModel):
    """Whether the ticket says when it is finished: its acceptance criteria."""

    ready: bool = Field(
        description="true when the ticket has acceptance criteria (a checklist under its "
        "criteria heading): only then can it be claimed and verified"
    )
    checked: int = Field(description="criteria ticked (`- [x]`) so far")
    total: int = Field(description="criteria in all; 0 means the ticket is not specified yet")


class Role(BaseModel):
    """One part of a ticket that one person or agent holds at a time."""

    role: str = Field(
        description='the role\'s name, from a `role: NAME` label (e.g. "backend"); "" for a '
        "ticket without role labels, which has one unnamed role"
    )
    holder: str | None = Field(description="GitHub login holding the role; null when free")
    since: str | None = Field(default=None, description="when the claim began (UTC, ISO 8601)")
    note: str | None = Field(
        default=None, description="the holder's one-line note: what they are doing"
    )
    free: bool = Field(description="true when nobody holds it: you may claim it")


class TicketSummary(BaseModel):
    number: int = Field(description="the ticket's issue number: pass it to the other tools")
    title: str = Field(description="the issue's title")
    url: str = Field(description="the issue on GitHub, for people")
    status: str | None = Field(
        description=f"the ticket's status label: {STATUSES}; null before Baton labelled it"
    )
    spec: Spec
    roles: list[Role] = Field(description="every role with its holder")
    free_roles: list[str] = Field(description="names of the roles nobody holds")


class TicketList(BaseModel):
    repo: str = Field(description="the repository, owner/name")
    tickets: list[TicketSummary] = Field(description="open tickets, newest first")
    more: bool = Field(
        description="true when the repository has more open issues than were read (500): "
        "narrow the list with `status` or `role`"
    )


class Criterion(BaseModel):
    text: str = Field(description="what must hold, as the ticket words it")
    checked: bool = Field(description="ticked (`- [x]`) in the ticket's description")


class Claim(BaseModel):
    role: str = Field(description='the role held ("" for the one unnamed role)')
    holder: str = Field(description="GitHub login of the holder")
    since: str = Field(description="when the claim began (UTC, ISO 8601)")
    note: str = Field(description="the holder's note: what they are doing")
    source: str = Field(
        description="how it was claimed: assignment (assigned on GitHub) | command (`/claim`)"
    )


class DoneReport(BaseModel):
    role: str = Field(description='the role reported done ("" for the one unnamed role)')
    by: str = Field(description="GitHub login that reported it")
    at: str = Field(description="when (UTC, ISO 8601)")
    evidence: str = Field(description="the proof given with `/done`")


class Condition(BaseModel):
    name: str = Field(
        description="ticket (the PR links an open ticket) | spec (the ticket has acceptance "
        "criteria) | evidence (every criterion ticked, /done from every role) | claim (the "
        "PR's author holds a role, no rival PR) | contracts (`Baton / contracts` passed) | "
        "checks (the other CI checks) | human review (approvals)"
    )
    mark: Mark = Field(
        description="pass; wait (on people or on other checks still running); fail (a "
        "violation the PR's author must fix)"
    )
    detail: str = Field(description="what exactly passes, waits or fails")


class Gate(BaseModel):
    """The `Baton / verification` check run on the PR's head commit: what the merge waits for."""

    status: str = Field(description="queued | in_progress | completed")
    conclusion: str | None = Field(
        description="success (mergeable) | failure (something to fix) | null while waiting"
    )
    title: str = Field(description="what it waits for, or why it is blocked, in one line")
    conditions: list[Condition] = Field(description="each condition of the merge, in order")
    url: str | None = Field(default=None, description="the check run on GitHub, for people")


class PullRequest(BaseModel):
    number: int = Field(description="the pull request's number")
    title: str = Field(description="its title")
    author: str = Field(description="GitHub login that opened it")
    state: str = Field(description="open | closed | merged")
    draft: bool = Field(description="true while a draft (verification waits until ready)")
    verification: str | None = Field(
        description="conclusion of `Baton / verification`: success | failure | pending | null "
        "(not run yet)"
    )
    checks: dict[str, str] = Field(
        description="the PR's check runs as Baton last saw them: name -> status or conclusion"
    )
    waiting_for: list[str] = Field(
        description="what the PR still waits for, in words; empty when nothing"
    )
    gate: Gate | None = Field(
        default=None,
        description="the verification's conditions, read from its check run (get_ticket only, "
        "open PRs; null when Baton has not run it yet)",
    )


class Ticket(BaseModel):
    number: int = Field(description="the ticket's issue number")
    title: str = Field(description="the issue's title")
    url: str = Field(description="the issue on GitHub, for people")
    state: str = Field(description="open | closed")
    status: str | None = Field(description=f"the status label: {STATUSES}")
    spec: Spec
    criteria: list[Criterion] = Field(description="the acceptance criteria, in order")
    roles: list[Role] = Field(description="every role with its holder, note and since when")
    claims: list[Claim] = Field(description="current claims, from Baton's status comment")
    done: list[DoneReport] = Field(description="roles reported done, with their evidence")
    pull_requests: list[PullRequest] = Field(
        description="PRs linking the ticket (`Fixes #N`), most important first"
    )
    baton_state: dict[str, Any] | None = Field(
        description="the status comment's JSON exactly as Baton wrote it (null before Baton "
        "saw the ticket); the fields above are read from it"
    )


class WorkItem(BaseModel):
    ticket: int = Field(description="the ticket's issue number")
    title: str = Field(description="the issue's title")
    url: str = Field(description="the issue on GitHub, for people")
    role: str = Field(description='the role you hold ("" for the one unnamed role)')
    since: str | None = Field(description="when your claim began (UTC, ISO 8601)")
    note: str = Field(description="your note on the claim")
    status: str | None = Field(description=f"the ticket's status: {STATUSES}")
    waiting_for: list[str] = Field(
        description="what the ticket still waits for before it can close (criteria, /done "
        "from each role, a linked PR)"
    )
    pull_requests: list[PullRequest] = Field(
        description="the ticket's open PRs, and yours whatever their state"
    )


class Workload(BaseModel):
    login: str = Field(description="you: the GitHub account of GITHUB_TOKEN")
    repo: str = Field(description="the repository, owner/name")
    claims: list[WorkItem] = Field(
        description="every role you hold in this repository (open tickets only)"
    )


class HandoffResult(BaseModel):
    outcome: Outcome = Field(
        description="Baton's answer, from its reaction on your comment: accepted (done; "
        "`roles` and `done` show the state after); refused (not allowed or not possible: "
        "`reason` says why, `held_by` who is in the way); wrong-usage (Baton could not apply "
        "the command as written: `reason` says how to write it); timeout (no answer within "
        "`waited_seconds`: call get_ticket later to see whether it took)"
    )
    action: str = Field(description="the action asked: claim | release | handoff | done")
    ticket: int = Field(description="the ticket's issue number")
    role: str | None = Field(description="the role named, as the ticket spells it; null: none")
    reason: str | None = Field(
        description="for refused and wrong-usage: Baton's reply to you, in its words"
    )
    held_by: Claim | None = Field(
        default=None,
        description="for a refused claim: the claim in the way (who holds the role, since "
        "when, their note): pick another role or ticket, or ask them to hand it off",
    )
    comment_url: str = Field(description="your command comment on GitHub")
    waited_seconds: float = Field(description="how long Baton took to answer")
    status: str | None = Field(description=f"the ticket's status afterwards: {STATUSES}")
    roles: list[Role] = Field(description="every role and its holder afterwards")
    done: list[DoneReport] = Field(description="the done reports afterwards")


class ApiSpec(BaseModel):
    source: str = Field(
        description='what was read: "working tree" (your checkout) or the ref read through '
        "GitHub"
    )
    commit: str | None = Field(description="the commit read, when known; null otherwise")
    endpoints: int = Field(description="how many endpoints the backend provides")
    document: dict[str, Any] = Field(
        description="OpenAPI 3.1 of the provided endpoints; each operation's `x-baton-source` "
        "gives the file and line that defines it"
    )


class CheckRunRecord(BaseModel):
    """The `Baton / contracts` run GitHub has on record for that commit."""

    status: str = Field(description="queued | in_progress | completed")
    conclusion: str | None = Field(
        description="success | failure (new errors) | null while running"
    )
    title: str = Field(description="its one-line summary")
    url: str | None = Field(default=None, description="the check run on GitHub, for people")


class Finding(BaseModel):
    code: str = Field(
        description="what kind: unknown-endpoint (a call to a path no provider serves), "
        "method-not-allowed (a method the endpoint does not allow), removed-endpoint (removed "
        "while still called), breaking-change (an incompatible OpenAPI change), "
        "unused-endpoint, unresolved-call (a URL that could not be worked out), "
        "trailing-slash, or a notice about the scan itself (oversized-file, unparsable-file, ...)"
    )
    severity: Literal["error", "warning", "notice"] = Field(
        description="error: a new one fails the PR's `Baton / contracts`; warning and notice "
        "never fail it"
    )
    file: str = Field(description="path of the file, from the repository's root")
    line: int = Field(description="line in that file (1-based)")
    message: str = Field(description="what is wrong and what to change")
    method: str = Field(description="HTTP method of the call or endpoint (* for any)")
    endpoint: str = Field(description="normalised path template, parameters as {}")
    key: list[str] = Field(description="identity across scans (no line number)")
    new: bool | None = Field(
        default=None,
        description="true: not on the base (what a PR adds); false: already there; null: no "
        "base was compared",
    )


class Mismatches(BaseModel):
    source: str = Field(description='what was scanned: "working tree", a ref, or "PR #N"')
    commit: str | None = Field(description="the commit scanned, when known; null otherwise")
    base: str | None = Field(description="what `new` compares against; null: nothing")
    version: int = Field(description="version of the `baton scan --format json` schema")
    summary: dict[str, int] = Field(description="counts, as `baton scan --format json` gives")
    findings: list[Finding] = Field(description="every finding, by file and line")
    check_run: CheckRunRecord | None = Field(
        default=None,
        description="Baton's latest `Baton / contracts` run on that commit (a ref or PR); "
        "null for the working tree, when there is none, or when Baton's App is not known yet",
    )
