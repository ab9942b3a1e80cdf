"""Claims: who holds which role of a ticket, decided from GitHub's own record of assignments.

Pure: the handler passes the issue's `assigned`/`unassigned` events, the stored claims and the
new requests; `resolve` replays them in the order GitHub recorded them (created_at, then id), so
the same holder wins whatever order the deliveries arrived in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from app.config import ClaimsConfig
from app.markdown import inert

MAX_NOTE = 300  # characters kept of a note or evidence
WRITE_PERMISSIONS = frozenset({"admin", "maintain", "write"})


def has_write(permission: str | None) -> bool:
    """`permission` as `GET /repos/{o}/{r}/collaborators/{u}/permission` answers it."""
    return (permission or "").lower() in WRITE_PERMISSIONS


def may_act(actor: str, holder: str | None, *, agent: bool, writer: Callable[[], bool]) -> bool:
    """SPEC 5, for every way of acting on a claim (assignment, unassignment, `/claim`,
    `/release`, `/handoff`, `/done`): its holder, or a human with write permission; never an
    agent on another's claim, whatever its permission. `holder` None: no one holds it, so
    only a human writer may act for someone else. `writer` is asked last (it may cost a
    lookup)."""
    if holder is not None and actor.lower() == holder.lower():
        return True
    return not agent and writer()


@dataclass(frozen=True)
class Actor:
    """A GitHub account: `login` and `type` (`User`, `Bot`, `Organization`)."""

    login: str
    type: str = "User"

    @property
    def key(self) -> str:
        return self.login.lower()  # logins are case-insensitive

    @classmethod
    def from_github(cls, user: Mapping[str, Any] | None) -> Actor | None:
        if not user or not user.get("login"):
            return None
        return cls(str(user["login"]), str(user.get("type") or "User"))


@dataclass(frozen=True)
class Claim:
    """(ticket, role, holder, since, note) and what the bot remembers about it."""

    role: str
    holder: str
    since: datetime
    note: str = ""
    source: Literal["assignment", "command"] = "assignment"
    override: bool = False  # a handoff: takes the role even when it is held
    pinned: bool = False  # the role was named (/claim ROLE, /handoff @X ROLE)
    ref: int = 0  # id of the issue event or comment that made it (tie-break)
    activity_at: datetime | None = None  # last activity of the holder seen by the bot
    warned_at: datetime | None = None  # when the stale warning was posted
    ticket: int = 0
    ended_at: datetime | None = None  # set on history: a command's claim that has ended

    @property
    def key(self) -> str:
        return self.holder.lower()


@dataclass(frozen=True)
class AssignmentEvent:
    """One `assigned`/`unassigned` item of `GET /repos/{o}/{r}/issues/{n}/events`."""

    id: int
    kind: Literal["assigned", "unassigned"]
    created_at: datetime
    actor: Actor  # who did it (`assigner`, else `actor`)
    assignee: Actor

    @classmethod
    def from_github(cls, event: Mapping[str, Any]) -> AssignmentEvent | None:
        """None for other event kinds or incomplete items."""
        kind = event.get("event")
        actor = Actor.from_github(event.get("assigner") or event.get("actor"))
        assignee = Actor.from_github(event.get("assignee"))
        when = parse_time(event.get("created_at"))
        if kind not in ("assigned", "unassigned") or not (actor and assignee and when):
            return None
        return cls(int(event.get("id") or 0), kind, when, actor, assignee)


@dataclass(frozen=True)
class WorkItem:
    """An open claim of an agent on another ticket (for the limit and `/workload`)."""

    ticket: int
    title: str = ""

    def describe(self, role: str | None = None) -> str:
        """A Markdown list item's text: the ticket's number links it, the title is inert."""
        text = f"#{self.ticket} {inert(self.title, 120)}".rstrip()
        return text if role is None else f"{text} ({inert(role, 60) or 'the ticket'})"


def parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ordered(events: Iterable[AssignmentEvent]) -> list[AssignmentEvent]:
    return sorted(events, key=lambda e: (e.created_at, e.id, e.kind, e.assignee.key))


@dataclass(frozen=True)
class Run:
    """One unbroken assignment of a person: from its `assigned` event until unassigned."""

    start: AssignmentEvent
    end: datetime | None = None  # None: still assigned


def assignment_runs(events: Iterable[AssignmentEvent]) -> list[Run]:
    runs: list[Run] = []
    current: dict[str, AssignmentEvent] = {}
    for event in _ordered(events):
        if event.kind == "assigned":
            current.setdefault(event.assignee.key, event)
        elif (start := current.pop(event.assignee.key, None)) is not None:
            runs.append(Run(start, event.created_at))
    return runs + [Run(start) for start in current.values()]


def current_runs(events: Iterable[AssignmentEvent]) -> dict[str, AssignmentEvent]:
    """login -> the `assigned` event that started its current, unbroken assignment."""
    return {r.start.assignee.key: r.start for r in assignment_runs(events) if r.end is None}


def unassigned_after(
    events: Iterable[AssignmentEvent], login: str, when: datetime
) -> datetime | None:
    """When `login` was first unassigned after `when`, if ever."""
    key = login.lower()
    times = [
        e.created_at
        for e in events
        if e.kind == "unassigned" and e.assignee.key == key and e.created_at > when
    ]
    return min(times, default=None)


@dataclass(frozen=True)
class Request:
    """A claim asking for a role; `new` ones (not yet accepted) obey the agent limit.

    A request with `until` is history: an assignment that has ended. It is replayed so that
    what happened before a late delivery is decided as it was, but it wins nothing now."""

    claim: Claim
    new: bool = False
    until: datetime | None = None

    @property
    def order(self) -> tuple[datetime, int, int, str]:
        # As GitHub recorded it; an assignment before a command in the same second.
        source = 0 if self.claim.source == "assignment" else 1
        return (self.claim.since, source, self.claim.ref, self.claim.key)


LossReason = Literal["held", "full", "limit", "displaced"]


@dataclass(frozen=True)
class Loss:
    claim: Claim
    reason: LossReason
    winner: Claim | None = None  # who holds the role instead ("held", "displaced")


@dataclass(frozen=True)
class Resolution:
    holders: Mapping[str, Claim]  # role -> winning claim
    losses: tuple[Loss, ...] = ()
    roles: tuple[str, ...] = field(default=())

    def held_by(self, login: str) -> list[Claim]:
        return [c for c in self.holders.values() if c.key == login.lower()]

    def claims(self) -> tuple[Claim, ...]:
        return tuple(self.holders[r] for r in self.roles if r in self.holders)


def resolve(
    roles: Sequence[str], requests: Iterable[Request], capacity: Mapping[str, int]
) -> Resolution:
    """Replay the requests in recorded order: the first takes a role, a later one loses,
    unless it is a handoff (override), which displaces the holder.

    A request without a named role takes the role it had (its `role`) when that is free, else
    the first free one, so accepted claims keep their role as others come and go. A handoff
    without a named role takes the first free role, else the most recently claimed one. Both
    depend only on what was claimed before, so a late delivery of an earlier claim (which
    pushes out the latest claimant) leads to the same holders as handling all in time.

    `capacity[login]`: how many claims on this ticket a new request of that agent may bring it
    to (`max_per_agent` minus its claims elsewhere); logins absent have no limit.
    """
    holders: dict[str, Claim] = {}
    ends: dict[str, datetime | None] = {}  # role -> when its holder's assignment ended
    losses: list[Loss] = []
    for request in sorted(requests, key=lambda r: r.order):
        claim, now = request.claim, request.until is None
        if request.until is not None and request.until <= claim.since:
            continue
        for held, end in list(ends.items()):
            if end is not None and end <= claim.since:
                del holders[held], ends[held]
        free = [r for r in roles if r not in holders]
        known = claim.role in roles
        if claim.pinned and known:
            role: str | None = claim.role
        elif known and claim.role in free and not claim.override:
            role = claim.role  # the role it held before, while still free
        elif free:
            role = free[0]
        elif claim.override and roles:
            # Several roles, all held: a handoff takes the most recently claimed one.
            role = max(holders, key=lambda r: Request(holders[r]).order)
        else:
            role = roles[0] if len(roles) == 1 else None  # one role: it is simply held
        mine = sum(1 for c in holders.values() if c.key == claim.key)
        if request.new and claim.key in capacity and mine + 1 > capacity[claim.key]:
            losses.append(Loss(claim, "limit"))
            continue
        if role is None:
            losses += [Loss(claim, "full")] if now else []
            continue
        placed = _with_role(claim, role)
        if role not in holders:
            holders[role], ends[role] = placed, request.until
        elif claim.override:
            if ends[role] is None:
                losses.append(Loss(holders[role], "displaced", placed))
            holders[role], ends[role] = placed, request.until
        elif now:
            losses.append(Loss(placed, "held", holders[role]))
    current = {role: c for role, c in holders.items() if ends[role] is None}
    return Resolution(current, tuple(losses), tuple(roles))


def _with_role(claim: Claim, role: str) -> Claim:
    if claim.role == role:
        return claim
    return Claim(**{**claim.__dict__, "role": role})


Staleness = Literal["active", "warn", "release"]


def activity_step(config: ClaimsConfig) -> timedelta:
    """How far activity must move before it is written down: 1/24 of `stale_after`, at most an
    hour. Every comment by a holder would otherwise edit the status comment for hidden JSON
    alone; staleness is then judged at most this much early."""
    return timedelta(seconds=max(1.0, min(3600.0, config.stale_after / 24)))


def idle_since(claim: Claim) -> datetime:
    """The holder's last sign of life: the claim itself, or later activity."""
    return max(claim.since, claim.activity_at or claim.since)


def staleness(claim: Claim, now: datetime, config: ClaimsConfig) -> Staleness:
    """A limit of 0 switches that step off."""
    last = idle_since(claim)
    idle = (now - last).total_seconds()
    if config.release_after and idle >= config.release_after:
        return "release"
    warned = claim.warned_at is not None and claim.warned_at >= last
    if config.stale_after and idle >= config.stale_after and not warned:
        return "warn"
    return "active"
