"""The claims of one open ticket while a plan is being made: requests from the stored state,
from GitHub's assignment events and from commands; the final resolution and its messages. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Literal

from app.config import RepoConfig
from app.tickets import messages as msg
from app.tickets.claims import (
    AssignmentEvent,
    Claim,
    Loss,
    Request,
    Resolution,
    WorkItem,
    activity_step,
    assignment_runs,
    has_write,
    idle_since,
    may_act,
    resolve,
    staleness,
    unassigned_after,
)
from app.tickets.model import Ticket, roles_of
from app.tickets.status_comment import DoneReport, State

# How a handled command is acknowledged on its comment (a reaction, SPEC 5). A comment with
# several commands gets the strongest: refused over wrong usage over accepted.
Outcome = Literal["+1", "confused", "-1"]
ACCEPTED: Outcome = "+1"
USAGE: Outcome = "confused"
REFUSED: Outcome = "-1"
_STRENGTH = {ACCEPTED: 0, USAGE: 1, REFUSED: 2}


class People:
    """What the plan knows of people: permissions and open claims elsewhere. Lazily filled: a
    miss is recorded, and the plan asks for it (`Plan.needs`) instead of acting."""

    def __init__(self, permissions: Mapping[str, str], workloads: Mapping[str, Sequence[WorkItem]]):
        self.permissions = {k.lower(): v for k, v in permissions.items()}
        self.workloads = {k.lower(): list(v) for k, v in workloads.items()}
        self.missing_permissions: set[str] = set()
        self.missing_workloads: set[str] = set()

    def known(self, login: str) -> bool:
        return login.lower() in self.permissions

    def writer(self, login: str) -> bool:
        key = login.lower()
        if key not in self.permissions:
            self.missing_permissions.add(key)
        return has_write(self.permissions.get(key))

    def workload(self, login: str) -> list[WorkItem]:
        key = login.lower()
        if key not in self.workloads:
            self.missing_workloads.add(key)
        return self.workloads.get(key, [])


def identity(claim: Claim) -> tuple[object, ...]:
    """Which request a resolved claim came from (resolving may change an unpinned role)."""
    role = claim.role if claim.pinned else None
    return (claim.key, claim.source, claim.ref, claim.since, role, claim.ended_at)


class Board:
    """Mutable only while one plan is made; `plan` reads `final`, `comments`, `done`."""

    def __init__(
        self,
        ticket: Ticket,
        config: RepoConfig,
        roles: tuple[str, ...],
        base: State,
        known: bool,
        people: People,
        app_login: str,
        now: datetime,
    ):
        self.ticket, self.config, self.roles, self.base = ticket, config, roles, base
        self.known, self.people, self.app, self.now = known, people, app_login.lower(), now
        self.requests: list[Request] = []
        self.types: dict[str, str] = {a.key: a.type for a in ticket.assignees}
        self.pending: set[str] = set()  # assignees whose `assigned` event is not visible yet
        self.handed_by: dict[tuple[str, int], str] = {}  # (holder, ref) -> who handed off
        self.done: list[DoneReport] = list(base.done)
        self.comments: list[str] = []
        self.force_status = False
        self.active: dict[str, datetime] = {}  # login -> activity seen in this plan
        self.final = Resolution({}, roles=roles)
        self.history: list[Claim] = list(base.history)  # ended claims made by commands
        self.outcomes: dict[int, Outcome] = {}  # comment id -> its acknowledgement
        self.refused: list[AssignmentEvent] = []  # unassignments of a holder by someone else

    def collect(self, events: Sequence[AssignmentEvent]) -> None:
        """Requests from the stored claims, then from GitHub's assignments: the current ones the
        state does not know, and the ended ones as history."""
        events = self._authorized(events)
        refused = {e.assignee.key: e.created_at for e in self.refused}  # kept despite it
        assigned = {a.key for a in self.ticket.assignees}
        stored_holders: set[str] = set()
        self.requests += [Request(h, until=h.ended_at) for h in self.history]
        for c in self.base.claims:
            # A stored claim ends when GitHub shows its holder unassigned after it began; a
            # command's claim also lives while the bot's assignment is on its way.
            ended = unassigned_after(events, c.holder, c.since)
            kept = refused.get(c.key, c.since) > c.since  # unassigned by someone who may not
            if ended is not None:
                self.end(c, ended)
            elif c.key in assigned or c.source == "command" or kept:
                self.requests.append(Request(c))
                stored_holders.add(c.key)
        open_runs: set[str] = set()
        for run in assignment_runs(events):
            person, by = run.start.assignee, run.start.actor
            if run.end is not None and by.key == self.app:
                continue  # the bot assigned a command's claim: its history is stored
            if run.end is None:
                open_runs.add(person.key)
                if person.key in stored_holders or person.key not in assigned:
                    continue
            # A handoff: someone allowed to act on any claim (a human writer) assigned another.
            self.types.setdefault(by.key, by.type)
            override = by.key not in (person.key, self.app) and self.may_act(by.login, None)
            claim = Claim(
                self.roles[0],
                person.login,
                run.start.created_at,
                override=override,
                ref=run.start.id,
                ticket=self.ticket.number,
            )
            if override:
                self.handed_by[(claim.key, claim.ref)] = by.login
            # On first sight of a ticket its assignees are taken as they are (no limit).
            new = self.known and run.end is None
            self.requests.append(Request(claim, new=new, until=run.end))
        self.pending = assigned - open_runs - stored_holders

    def _authorized(self, events: Sequence[AssignmentEvent]) -> list[AssignmentEvent]:
        """The events that count: an unassignment of someone by another (not the app) counts
        only if that actor may act on their claim; the others are kept in `refused`."""
        kept = []
        for e in events:
            if e.kind == "unassigned" and e.actor.key not in (e.assignee.key, self.app):
                self.types.setdefault(e.actor.key, e.actor.type)
                if not self.may_act(e.actor.login, e.assignee.login):
                    self.refused.append(e)
                    continue
            kept.append(e)
        return kept

    def may_act(self, actor: str, holder: str | None) -> bool:
        """The one authority rule (`claims.may_act`) with what this plan knows of `actor`."""
        return may_act(
            actor, holder, agent=self.is_agent(actor), writer=lambda: self.people.writer(actor)
        )

    def acknowledge(self, comment_id: int, outcome: Outcome) -> None:
        if comment_id:
            before = self.outcomes.get(comment_id)
            if before is None or _STRENGTH[outcome] > _STRENGTH[before]:
                self.outcomes[comment_id] = outcome

    def is_agent(self, login: str) -> bool:
        kind = self.types.get(login.lower()) or ("Bot" if login.endswith("[bot]") else "User")
        return self.config.is_agent(login, kind)

    def resolution(self) -> Resolution:
        capacity: dict[str, int] = {}
        for r in self.requests:
            if r.new and self.is_agent(r.claim.holder):
                listed = self.people.workload(r.claim.holder)
                elsewhere = [w for w in listed if w.ticket != self.ticket.number]
                capacity[r.claim.key] = self.config.claims.max_per_agent - len(elsewhere)
        return resolve(self.roles, self.requests, capacity)

    def end(self, claim: Claim, at: datetime) -> None:
        """A claim ended: a command's claim is kept as history (assignments have events)."""
        if claim.source == "command" and claim.ended_at is None:
            ended = replace(claim, ended_at=max(at, claim.since))
            if ended not in self.history:
                self.history.append(ended)
                self.requests.append(Request(ended, until=ended.ended_at))

    def add(self, claim: Claim, new: bool = True) -> None:
        self.requests.append(Request(claim, new))

    def drop(self, claims: Sequence[Claim]) -> None:
        gone = {identity(c) for c in claims}
        self.requests = [r for r in self.requests if identity(r.claim) not in gone]

    def update(self, claim: Claim, note: str) -> None:
        self.drop([claim])
        self.add(replace(claim, note=note), new=False)

    def settle(self, activity: Mapping[str, datetime]) -> None:
        """The final resolution and its messages, then activity and staleness of the winners."""
        result = self.resolution()
        self.comments += [self._told(loss, result) for loss in result.losses]
        for loss in result.losses:  # a /claim (or /handoff) that did not take is refused
            if loss.reason != "displaced" and loss.claim.source == "command":
                self.acknowledge(loss.claim.ref, REFUSED)
        assigned = {a.key for a in self.ticket.assignees}
        for event in self.refused:  # the holder is assigned again: tell who tried
            claim = next((c for c in result.holders.values() if c.key == event.assignee.key), None)
            if claim is not None and claim.key not in assigned:
                self.comments.append(msg.not_holder(event.actor.login, claim.role, claim.holder))
        displacers = {identity(loss.winner) for loss in result.losses if loss.winner}
        for claim in result.holders.values():  # a /handoff of a free role: tell the new holder
            by = self.handed_by.get((claim.key, claim.ref))
            if by and claim.source == "command" and identity(claim) not in displacers:
                self.comments.append(msg.handed(claim.holder, claim.role, by))
        for loss in result.losses:
            if loss.reason == "displaced" and loss.winner is not None:
                self.end(loss.claim, loss.winner.since)
        seen = {k.lower(): v for k, v in activity.items()}
        done_roles = {d.role for d in self.done}
        holders: dict[str, Claim] = {}
        warned: list[tuple[str, str, str]] = []  # (holder, role, idle for)
        released: list[tuple[str, str, str]] = []
        left = self.config.claims.release_after
        for role, claim in result.holders.items():
            times = (claim.activity_at, seen.get(claim.key), self.active.get(claim.key))
            last = max([t for t in times if t] or [claim.since])
            if not self.known:  # first sight of this ticket: watch from now, do not punish
                last = max(last, self.now)
            if last - idle_since(claim) >= activity_step(self.config.claims):
                claim = replace(claim, activity_at=last)
            # A role reported done waits on others, not on its holder.
            verdict = (
                "active" if role in done_roles else staleness(claim, self.now, self.config.claims)
            )
            idle_for = (self.now - idle_since(claim)).total_seconds()
            idle = msg.span(idle_for)
            if verdict == "release":
                released.append((claim.holder, role, idle))
                self.end(claim, self.now)
                continue
            if verdict == "warn":
                warned.append((claim.holder, role, idle))
                left = min(left, self.config.claims.release_after - idle_for)
                claim = replace(claim, warned_at=self.now)
            holders[role] = claim
        if warned or released:  # one comment per ticket names every role
            self.comments.append(msg.stale(warned, released, msg.span(max(left, 0))))
        self.final = Resolution(holders, result.losses, self.roles)

    def _told(self, loss: Loss, result: Resolution) -> str:
        claim, winner = loss.claim, loss.winner
        if loss.reason == "limit":
            current = [
                w.describe()
                for w in self.people.workload(claim.holder)
                if w.ticket != self.ticket.number
            ]
            current += [
                WorkItem(self.ticket.number).describe(c.role)
                for c in result.held_by(claim.holder)
            ]
            return msg.claim_limit(claim.holder, self.config.claims.max_per_agent, current)
        if loss.reason == "full":
            held = [(c.role, c.holder, c.note) for c in result.claims()]
            return msg.claim_no_free_role(claim.holder, held)
        assert winner is not None
        if loss.reason == "displaced":
            by = self.handed_by.get((winner.key, winner.ref), "a maintainer")
            return msg.displaced(claim.holder, winner.holder, winner.role, by)
        return msg.claim_held(claim.holder, claim.role, winner.holder, winner.note)

    def keep(self) -> set[str]:
        """Assignees to keep: holders, and those whose assignment is not visible yet."""
        return {c.key for c in self.final.holders.values()} | self.pending


def holders_of(ticket: Ticket, state: State | None) -> dict[str, str]:
    """role -> holder, as the tickets shell recorded it in the status comment; before there is
    one, a lone assignee holds the lone role (the first plan will say so too)."""
    if state is not None:
        return {c.role: c.holder for c in state.claims if c.ended_at is None}
    roles = roles_of(ticket.labels)
    if len(roles) == 1 and len(ticket.assignees) == 1:
        return {roles[0]: ticket.assignees[0].login}
    return {}
