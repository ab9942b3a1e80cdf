"""The tools' results: typed, so their JSON schemas (with these descriptions) reach the client."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Mark = Literal["pass", "wait", "fail"]
Outcome = Literal["accepted", "refused", "wrong-usage", "timeout"]


class Spec(BaseModel):
    ready: bool = Field(description="True when the ticket has acceptance criteria: claimable")
    checked: int = Field(description="acceptance criteria ticked (`- [x]`)")
    total: int = Field(description="acceptance criteria in all")


class Role(BaseModel):
    role: str = Field(description='role name (a `role: NAME` label); "" is the one unnamed role')
    holder: str | None = Field(description="login holding the role, null when free")
    since: str | None = Field(default=None, description="claimed at (UTC), when known")
    note: str | None = Field(default=None, description="the holder's note: what they are doing")
    free: bool = Field(description="nobody holds it: it can be claimed")


class TicketSummary(BaseModel):
    number: int = Field(description="issue number: pass it to the other tools")
    title: str
    url: str = Field(description="the issue on GitHub")
    status: str | None = Field(
        description="needs-spec | ready | in-progress | validation | done (the status label)"
    )
    spec: Spec
    roles: list[Role] = Field(description="every role with its holder")
    free_roles: list[str] = Field(description="roles nobody holds")


class TicketList(BaseModel):
    repo: str = Field(description="owner/name")
    tickets: list[TicketSummary]
    more: bool = Field(description="true when more tickets exist than were listed")


class Criterion(BaseModel):
    text: str
    checked: bool


class Claim(BaseModel):
    role: str
    holder: str
    since: str = Field(description="UTC time the claim started")
    note: str = Field(description="the holder's note")
    source: str = Field(description="assignment | command")


class DoneReport(BaseModel):
    role: str
    by: str
    at: str
    evidence: str


class Condition(BaseModel):
    name: str = Field(
        description="ticket | spec | evidence | claim | contracts | checks | human review"
    )
    mark: Mark = Field(description="pass; wait (on people or other checks); fail (a violation)")
    detail: str


class Gate(BaseModel):
    """The `Baton / verification` check run on the PR's head commit: what the merge waits for."""

    status: str = Field(description="queued | in_progress | completed")
    conclusion: str | None = Field(description="success | failure | null while waiting")
    title: str = Field(description="what it waits for, or why it is blocked")
    conditions: list[Condition]
    url: str | None = None


class PullRequest(BaseModel):
    number: int
    title: str
    author: str
    state: str = Field(description="open | closed | merged")
    draft: bool
    verification: str | None = Field(
        description="conclusion of `Baton / verification`: success | failure | pending | null"
    )
    checks: dict[str, str] = Field(description="check run name -> status or conclusion")
    waiting_for: list[str] = Field(description="what the PR still waits for, in words")
    gate: Gate | None = Field(
        default=None, description="the verification's conditions (get_ticket only)"
    )


class Ticket(BaseModel):
    number: int
    title: str
    url: str
    state: str = Field(description="open | closed")
    status: str | None = Field(description="needs-spec | ready | in-progress | validation | done")
    spec: Spec
    criteria: list[Criterion] = Field(description="the acceptance criteria, in order")
    roles: list[Role]
    claims: list[Claim] = Field(description="current claims, from Baton's status comment")
    done: list[DoneReport] = Field(description="roles reported done, with their evidence")
    pull_requests: list[PullRequest] = Field(description="linked PRs")
    baton_state: dict[str, Any] | None = Field(
        description="the status comment's JSON as Baton wrote it (null before Baton saw it)"
    )


class WorkItem(BaseModel):
    ticket: int
    title: str
    url: str
    role: str
    since: str | None
    note: str
    status: str | None
    waiting_for: list[str] = Field(description="what the ticket waits for before it can close")
    pull_requests: list[PullRequest]


class Workload(BaseModel):
    login: str = Field(description="the agent: the account of GITHUB_TOKEN")
    repo: str
    claims: list[WorkItem] = Field(description="your open claims in this repository")


class HandoffResult(BaseModel):
    outcome: Outcome = Field(
        description="accepted: Baton recorded it; refused: see reason; timeout: Baton had not "
        "answered within waited_seconds (call get_ticket later)"
    )
    action: str
    ticket: int
    role: str | None
    reason: str | None = Field(description="why it was refused, as Baton replied")
    held_by: Claim | None = Field(
        default=None, description="for a refused claim: who holds the role, since when, note"
    )
    comment_url: str = Field(description="your command comment on GitHub")
    waited_seconds: float
    status: str | None = Field(description="the ticket's status afterwards")
    roles: list[Role] = Field(description="every role afterwards")
    done: list[DoneReport]


class ApiSpec(BaseModel):
    source: str = Field(description='"working tree" or the ref read through GitHub')
    commit: str | None = Field(description="the commit read, when from GitHub")
    endpoints: int
    document: dict[str, Any] = Field(description="OpenAPI 3.1 of the provided endpoints")


class CheckRunRecord(BaseModel):
    """The `Baton / contracts` run GitHub has on record for that commit."""

    status: str
    conclusion: str | None
    title: str
    url: str | None = None


class Finding(BaseModel):
    code: str = Field(description="unknown-endpoint, method-not-allowed, removed-endpoint, ...")
    severity: Literal["error", "warning", "notice"]
    file: str
    line: int
    message: str = Field(description="what is wrong and what to change")
    method: str
    endpoint: str = Field(description="normalised path template, parameters as {}")
    key: list[str] = Field(description="identity across scans (no line number)")
    new: bool | None = Field(
        default=None, description="not on the base (PR base, or the default branch); null: no base"
    )


class Mismatches(BaseModel):
    source: str = Field(description='"working tree", a ref, or "PR #N"')
    commit: str | None
    base: str | None = Field(description="what `new` compares against, when anything")
    version: int = Field(description="version of the `baton scan --format json` schema")
    summary: dict[str, int] = Field(description="as `baton scan --format json` counts")
    findings: list[Finding]
    check_run: CheckRunRecord | None = Field(
        default=None, description="the latest `Baton / contracts` run on that commit, if any"
    )
