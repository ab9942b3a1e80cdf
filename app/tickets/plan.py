"""The one decision for any event on a ticket: desired labels, assignees, comments and state.

`plan` is pure and level-triggered: it recomputes the whole desired state from what GitHub shows
(issue, assignment events, the status comment) plus the commands being handled, and returns the
difference. Applying the plan and planning again gives an empty plan. `decide` is the loop the
shell runs: plan, look up what the plan asks for (`Plan.needs`), plan again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from app.config import RepoConfig
from app.tickets import messages as msg
from app.tickets.board import REFUSED, Board, Outcome, People
from app.tickets.claims import Actor, AssignmentEvent, Claim, WorkItem
from app.tickets.commands import CommandEvent, apply_command
from app.tickets.messages import StatusLabel
from app.tickets.model import (
    Spec,
    Ticket,
    guard_applies,
    is_ticket,
    parse_spec,
    roles_of,
    status_for,
    status_labels_on,
)
from app.tickets.status_comment import (
    LinkedPR,
    SpecSummary,
    State,
    fit,
    parse,
    rank_prs,
    same_record,
)

NEEDS_SPEC_NOTICE = "needs-spec"
LOOKUP_ROUNDS = 3


@dataclass(frozen=True)
class Inputs:
    """Everything a plan decides on. `status_body`: the status comment (see
    `app.tickets.status_comment`). `closed_by_commit`: the issue's latest `closed` event names
    a commit (see `model.closed_by_commit`): a merged PR's closing keyword or a pushed commit
    closed it. `prs`: PR news, merged into the stored ones by number; `unlink_prs`: PRs that no
    longer link the ticket. `permissions`, `workloads`: lookups made so far."""

    ticket: Ticket
    config: RepoConfig
    now: datetime
    app_login: str
    status_body: str | None = None
    events: Sequence[AssignmentEvent] = ()
    closed_by_commit: bool = False
    commands: Sequence[CommandEvent] = ()
    prs: Sequence[LinkedPR] | None = None
    unlink_prs: Sequence[int] = ()
    activity: Mapping[str, datetime] = field(default_factory=dict)
    permissions: Mapping[str, str] = field(default_factory=dict)
    workloads: Mapping[str, Sequence[WorkItem]] = field(default_factory=dict)


@dataclass(frozen=True)
class Needs:
    """Data the plan could not do without: look it up, add it, and plan again."""

    permissions: frozenset[str] = frozenset()  # logins (lower case) to look up
    workloads: frozenset[str] = frozenset()  # logins whose open claims elsewhere are needed

    def __bool__(self) -> bool:
        return bool(self.permissions or self.workloads)


@dataclass(frozen=True)
class Plan:
    add_labels: tuple[str, ...] = ()
    remove_labels: tuple[str, ...] = ()
    add_assignees: tuple[str, ...] = ()
    remove_assignees: tuple[str, ...] = ()
    comments: tuple[str, ...] = ()  # to post on the ticket, in order
    reactions: tuple[tuple[int, Outcome], ...] = ()  # (comment id, reaction) acknowledgements
    status_comment: str | None = None  # new body of the status comment; None: unchanged
    reopen: bool = False
    state: State | None = None  # what `status_comment` stores
    needs: Needs = field(default_factory=Needs)
    incomplete: bool = False  # an assignee had no `assigned` event yet: plan again later

    @property
    def empty(self) -> bool:
        return not (
            self.add_labels
            or self.remove_labels
            or self.add_assignees
            or self.remove_assignees
            or self.comments
            or self.reactions
            or self.status_comment
            or self.reopen
        )


# --- the steps of one plan ----------------------------------------------------------------


@dataclass
class _Draft:
    """What the steps of one plan build up."""

    stored: State | None
    base: State
    spec: Spec
    roles: tuple[str, ...]
    prs: tuple[LinkedPR, ...]
    commands: list[CommandEvent]
    comments: list[str] = field(default_factory=list)
    reopen: bool = False
    claims: tuple[Claim, ...] = ()
    add: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return any(p.verified_merge for p in self.prs)


def _merge_prs(
    stored: Sequence[LinkedPR], prs: Sequence[LinkedPR] | None, unlink: Sequence[int]
) -> tuple[LinkedPR, ...]:
    by_number = {p.number: p for p in stored}
    by_number.update({p.number: p for p in prs or ()})
    return tuple(by_number[n] for n in sorted(by_number) if n not in set(unlink))


def _start(i: Inputs) -> _Draft:
    """The stored state, the spec and roles, the linked PRs, and the commands not yet handled
    (a comment recorded in the state's `handled` is a redelivery)."""
    stored = parse(i.status_body)
    base = stored or State(ticket=i.ticket.number)
    handled = set(base.handled)
    return _Draft(
        stored=stored,
        base=base,
        spec=parse_spec(i.ticket.body, i.config.tickets.criteria_heading),
        roles=roles_of(i.ticket.labels),
        prs=_merge_prs(base.prs, i.prs, i.unlink_prs),
        commands=[c for c in i.commands if not (c.comment_id and c.comment_id in handled)],
    )


def _closing_guard(i: Inputs, d: _Draft, people: People) -> None:
    """A ticket closed as completed without a verified merge, by an agent or by someone
    without write permission, is reopened. Closed for a commit before the merged PR's own
    news arrived (another queue): that delivery decides (done, or the guard)."""
    awaiting_pr = i.closed_by_commit and not any(p.state == "merged" for p in d.prs)
    if not guard_applies(i.ticket, d.verified) or awaiting_pr:
        return
    closer = i.ticket.closed_by or Actor("ghost")
    if i.config.is_agent(closer.login, closer.type):
        reason = msg.REOPEN_REASON_AGENT
    elif not people.writer(closer.login):
        reason = msg.REOPEN_REASON_PERMISSION
    else:
        return
    d.reopen = True
    d.comments.append(msg.reopened(closer.login, reason))


def _claims_open(i: Inputs, d: _Draft, board: Board) -> None:
    """Claims from the state, GitHub's assignments and the commands; who to (un)assign."""
    board.collect(i.events)
    for event in d.commands:
        apply_command(board, event)
    board.settle(i.activity)
    d.claims = board.final.claims()
    assigned = {a.key for a in i.ticket.assignees}
    d.remove = [a.login for a in i.ticket.assignees if a.key not in board.keep()]
    d.add = [c.holder for c in d.claims if c.key not in assigned]


def _claims_closed(i: Inputs, d: _Draft, board: Board) -> None:
    """Closed as not planned: claims released. Nothing to claim on a closed ticket."""
    if i.ticket.state_reason == "not_planned":
        everyone = [a.login for a in i.ticket.assignees]
        released = [c.holder for c in d.base.claims] if d.stored else everyone
        assigned = {a.key for a in i.ticket.assignees}
        d.remove = [h for h in dict.fromkeys(released) if h.lower() in assigned]
        if d.remove:
            board.comments.append(msg.released_on_close(d.remove))
    for event in d.commands:
        if event.command.name in msg.CLAIM_COMMANDS:
            board.acknowledge(event.comment_id, REFUSED)
            board.comments.append(msg.ticket_closed(event.actor.login))


def _status(i: Inputs, d: _Draft, board: Board, is_open: bool) -> StatusLabel | None:
    if not is_open:
        return StatusLabel.DONE if i.ticket.state_reason != "not_planned" else None
    return status_for(
        d.spec.ready,
        bool(d.claims),
        any(p.ready_for_review for p in d.prs),
        d.verified,
        d.roles,
        {r.role for r in board.done},
    )


def _notices(i: Inputs, d: _Draft, status: StatusLabel | None, is_open: bool) -> tuple[str, ...]:
    """One-off comments, posted once (the state remembers them)."""
    notices = list(d.base.notices)
    if is_open and status is StatusLabel.NEEDS_SPEC and NEEDS_SPEC_NOTICE not in notices:
        d.comments.append(msg.spec_missing(i.config.tickets.criteria_heading, d.spec.has_heading))
        notices.append(NEEDS_SPEC_NOTICE)
    return tuple(notices)


def plan(i: Inputs) -> Plan:
    """Everything Baton wants done on the ticket now, or what it needs to know first."""
    if not is_ticket(i.ticket, i.config):
        return Plan()
    d = _start(i)
    people = People(i.permissions, i.workloads)
    _closing_guard(i, d, people)
    is_open = i.ticket.state == "open" or d.reopen
    board = Board(i.ticket, i.config, d.roles, d.base, d.stored is not None, people,
                  i.app_login, i.now)  # fmt: skip
    (_claims_open if is_open else _claims_closed)(i, d, board)
    d.comments += board.comments
    status = _status(i, d, board, is_open)
    notices = _notices(i, d, status, is_open)
    if people.missing_permissions or people.missing_workloads:
        return Plan(needs=Needs(frozenset(people.missing_permissions),
                                frozenset(people.missing_workloads)))  # fmt: skip
    new_ids = [c.comment_id for c in d.commands if c.comment_id]
    state, body = fit(
        State(
            ticket=i.ticket.number,
            status=status.short if status else None,
            spec=SpecSummary(d.spec.has_heading, d.spec.checked, d.spec.total),
            roles=d.roles,
            claims=d.claims,
            prs=rank_prs(d.prs, [c.holder for c in d.claims]),
            done=tuple(board.done),
            notices=notices,
            history=tuple(sorted(board.history, key=lambda c: c.ended_at or i.now)),
            handled=tuple(dict.fromkeys([*d.base.handled, *new_ids])),
        ),
        i.now,
    )
    # The comment is edited when what it shows changes, on `/status`, and when replies are
    # posted (the handled ids keep a redelivery from repeating them); bookkeeping alone waits.
    write = not same_record(state, d.stored) or board.force_status or bool(d.comments)
    wanted = status.value if status else None
    present = status_labels_on(i.ticket.labels)
    return Plan(
        add_labels=(wanted,) if wanted and wanted not in present else (),
        remove_labels=tuple(lb for lb in present if lb != wanted),
        add_assignees=tuple(d.add),
        remove_assignees=tuple(d.remove),
        comments=tuple(d.comments),
        reactions=tuple(board.outcomes.items()),
        status_comment=body if write and body != i.status_body else None,
        reopen=d.reopen,
        state=state,
        incomplete=bool(board.pending),
    )


# --- the decision loop ----------------------------------------------------------------------


class Lookup(Protocol):
    """What the decision loop may ask about people (the shell reads GitHub; tests answer
    from memory)."""

    async def permission(self, login: str) -> str: ...

    async def workload(self, login: str) -> list[WorkItem]: ...


async def decide(inputs: Inputs, lookup: Lookup) -> tuple[Plan, Inputs]:
    """Plan, look up what the plan asks for, plan again (a few rounds at most). Returns the
    plan and the inputs with every lookup made, for planning again without asking twice."""
    for _ in range(LOOKUP_ROUNDS + 1):
        result = plan(inputs)
        if not result.needs:
            return result, inputs
        permissions = dict(inputs.permissions)
        workloads = dict(inputs.workloads)
        for login in sorted(result.needs.permissions - permissions.keys()):
            permissions[login] = await lookup.permission(login)
        for login in sorted(result.needs.workloads - workloads.keys()):
            workloads[login] = await lookup.workload(login)
        inputs = replace(inputs, permissions=permissions, workloads=workloads)
    raise RuntimeError(f"#{inputs.ticket.number}: the plan kept asking for lookups")


def needs_events(ticket: Ticket, has_status: bool) -> bool:
    """Whether the plan needs the issue's events: not for an open ticket with no assignees and
    no status comment (no claim, current or past, to order); a closed one needs them all the
    same (was it closed by a merge commit?)."""
    return bool(ticket.assignees) or has_status or ticket.state != "open"


def closes_as_verified(ticket: Ticket, news: Sequence[LinkedPR]) -> bool:
    """An open ticket whose PR news is a merge with a passing verification is closed as
    completed by the app (SPEC 4: merged with a passing verification: done)."""
    return ticket.state == "open" and any(p.verified_merge for p in news)
