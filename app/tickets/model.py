"""Tickets: which issues are tickets, their spec, roles, status label and closing guard. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.config import RepoConfig
from app.markdown import prose_lines
from app.tickets.claims import Actor
from app.tickets.messages import ROLE_PREFIX, UNNAMED_ROLE, StatusLabel

MAX_BODY = 65_536  # GitHub's limit on an issue body
MAX_ITEMS = 200
MAX_ROLES = 10  # GitHub allows 10 assignees per issue

_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_TASK = re.compile(r"^\s{0,12}(?:[-*+]|\d{1,9}[.)])[ \t]+\[([ xX])\](?:[ \t]+(.*))?$")


@dataclass(frozen=True)
class Ticket:
    """The parts of an issue (REST `GET /repos/{o}/{r}/issues/{n}`) that Baton decides on."""

    number: int
    author: Actor
    title: str = ""
    body: str = ""
    labels: tuple[str, ...] = ()
    assignees: tuple[Actor, ...] = ()
    state: str = "open"  # open | closed
    state_reason: str | None = None  # completed | not_planned | reopened | None
    closed_by: Actor | None = None
    is_pull_request: bool = False

    @classmethod
    def from_github(cls, issue: Mapping[str, Any]) -> Ticket:
        raw = issue.get("labels") or []
        labels = [lb if isinstance(lb, str) else lb.get("name", "") for lb in raw]
        assignees = [Actor.from_github(a) for a in issue.get("assignees") or []]
        return cls(
            number=int(issue["number"]),
            author=Actor.from_github(issue.get("user")) or Actor("ghost"),
            title=str(issue.get("title") or ""),
            body=str(issue.get("body") or "")[:MAX_BODY],
            labels=tuple(lb for lb in labels if lb),
            assignees=tuple(a for a in assignees if a),
            state=str(issue.get("state") or "open"),
            state_reason=issue.get("state_reason"),
            closed_by=Actor.from_github(issue.get("closed_by")),
            is_pull_request="pull_request" in issue,
        )


@dataclass(frozen=True)
class Criterion:
    text: str
    checked: bool


@dataclass(frozen=True)
class Spec:
    has_heading: bool
    items: tuple[Criterion, ...] = ()

    @property
    def ready(self) -> bool:
        return self.has_heading and bool(self.items)

    @property
    def checked(self) -> int:
        return sum(1 for i in self.items if i.checked)

    @property
    def total(self) -> int:
        return len(self.items)


def is_ticket(ticket: Ticket, config: RepoConfig) -> bool:
    """Every issue, or only those with `tickets.label` when it is set."""
    if ticket.is_pull_request:
        return False
    wanted = config.tickets.label
    return wanted is None or any(lb.lower() == wanted.lower() for lb in ticket.labels)


def _heading_text(text: str) -> str:
    # Issue forms and people write `### Acceptance criteria`, `## **Acceptance criteria:**`.
    return text.strip().strip("*_").strip().rstrip(":").strip().lower()


def parse_spec(body: str | None, heading: str) -> Spec:
    """The task items under the first heading named `heading` (any level, any case) that has
    some; the section runs to the next heading of the same or a higher level."""
    wanted = _heading_text(heading)
    found_heading = False
    level = 0  # 0: outside a criteria section
    items: list[Criterion] = []
    for line in prose_lines((body or "")[:MAX_BODY]):
        head = _HEADING.match(line)
        if head:
            depth = len(head.group(1))
            if level and depth <= level:
                if items:
                    break
                level = 0
            if not level and _heading_text(head.group(2) or "") == wanted:
                found_heading, level = True, depth
            continue
        task = _TASK.match(line) if level else None
        text = (task.group(2) or "").strip()[:500] if task else ""
        if task and text:  # an empty `- [ ]` (an untouched form prefill) is no criterion
            items.append(Criterion(text, task.group(1) != " "))
            if len(items) >= MAX_ITEMS:
                break
    return Spec(found_heading, tuple(items))


def roles_of(labels: Iterable[str]) -> tuple[str, ...]:
    """`role: NAME` labels (any case) -> names in label order; none -> the unnamed role."""
    roles: list[str] = []
    for label in labels:
        if label.lower().startswith(ROLE_PREFIX):
            name = label[len(ROLE_PREFIX) :].strip()
            if name and name.lower() not in {r.lower() for r in roles}:
                roles.append(name)
    return tuple(roles[:MAX_ROLES]) or (UNNAMED_ROLE,)


def status_for(
    spec_ready: bool,
    claimed: bool,
    pr_ready_for_review: bool,
    verified_merge: bool,
    roles: Sequence[str],
    done_roles: Iterable[str],
) -> StatusLabel:
    """The status label of an open ticket, most advanced stage first."""
    if verified_merge:
        return StatusLabel.DONE
    if pr_ready_for_review or set(roles) <= set(done_roles):
        return StatusLabel.VALIDATION
    if claimed:
        return StatusLabel.IN_PROGRESS
    return StatusLabel.READY if spec_ready else StatusLabel.NEEDS_SPEC


def status_labels_on(labels: Iterable[str]) -> list[str]:
    """The status labels present, as spelled on the issue."""
    return [lb for lb in labels if StatusLabel.from_name(lb) and lb.lower().startswith("status:")]


def closed_by_commit(events: Iterable[Mapping[str, Any]]) -> bool:
    """Whether the latest `closed` item of `GET /repos/{o}/{r}/issues/{n}/events` has a
    `commit_id`: GitHub records the commit when a pushed commit or a merged PR's closing
    keyword closed the issue."""

    def order(e: Mapping[str, Any]) -> tuple[str, int]:
        number = e.get("id")
        return str(e.get("created_at") or ""), number if isinstance(number, int) else 0

    closes = [e for e in events if e.get("event") == "closed"]
    latest = max(closes, key=order, default=None)
    return bool(latest and latest.get("commit_id"))


def guard_applies(ticket: Ticket, verified_merge: bool) -> bool:
    """Whether a closed ticket needs the closing guard's judgement of who closed it."""
    return (
        ticket.state == "closed"
        and ticket.state_reason in (None, "completed")
        and not verified_merge
        and ticket.closed_by is not None
    )
