"""The one decision for any event on a ticket: desired labels, assignees, comments and state.

`plan` is pure and level-triggered: it recomputes the whole desired state from what GitHub shows
(issue, assignment events, the status comment) plus the commands being handled, and returns the
difference. Applying the plan and planning again gives an empty plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from app.config import RepoConfig
from app.tickets import messages as msg
from app.tickets.board import Board, Lookups
from app.tickets.claims import Actor, AssignmentEvent, WorkItem
from app.tickets.commands import CommandEvent, apply_command
from app.tickets.messages import StatusLabel
from app.tickets.model import (
    Ticket,
    guard_applies,
    is_ticket,
    parse_spec,
    roles_of,
    status_for,
    status_labels_on,
)
from app.tickets.status_comment import (
    MAX_HANDLED,
    MAX_HISTORY,
    LinkedPR,
    SpecSummary,
    State,
    parse,
    render,
)

NEEDS_SPEC_NOTICE = "needs-spec"


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
            or self.status_comment
            or self.reopen
        )


def _merge_prs(
    stored: Sequence[LinkedPR], prs: Sequence[LinkedPR] | None, unlink: Sequence[int]
) -> tuple[LinkedPR, ...]:
    by_number = {p.number: p for p in stored}
    by_number.update({p.number: p for p in prs or ()})
    return tuple(by_number[n] for n in sorted(by_number) if n not in set(unlink))


def plan(
    ticket: Ticket,
    config: RepoConfig,
    now: datetime,
    *,
    status_body: str | None = None,
    events: Sequence[AssignmentEvent] = (),
    commands: Sequence[CommandEvent] = (),
    prs: Sequence[LinkedPR] | None = None,
    unlink_prs: Sequence[int] = (),
    activity: Mapping[str, datetime] | None = None,
    permissions: Mapping[str, str] | None = None,
    workloads: Mapping[str, Sequence[WorkItem]] | None = None,
    closed_by_commit: bool = False,
    app_login: str,
) -> Plan:
    """Everything Baton wants done on `ticket` now. See the module docstring of
    `app.tickets.status_comment` for what `status_body` holds, and `Plan.needs` for the lookup loop.

    `closed_by_commit`: the issue's latest `closed` event names a commit (see
    `tickets.closed_by_commit`), i.e. a merged PR's closing keyword or a pushed commit closed it.
    Commands from comments recorded in the state's `handled` are skipped: a redelivery."""
    if not is_ticket(ticket, config):
        return Plan()
    stored = parse(status_body)
    base = stored or State(ticket=ticket.number)
    look = Lookups(permissions or {}, workloads or {})
    spec = parse_spec(ticket.body, config.tickets.criteria_heading)
    roles = roles_of(ticket.labels)
    linked = _merge_prs(base.prs, prs, unlink_prs)
    verified = any(p.verified_merge for p in linked)
    # Closed for a commit before the merged PR's own news arrived (another queue): that
    # delivery decides (done, or the guard), so nothing is reopened meanwhile.
    awaiting_pr = closed_by_commit and not any(p.state == "merged" for p in linked)
    handled = set(base.handled)  # comments whose commands were applied: a redelivery
    commands = [c for c in commands if not (c.comment_id and c.comment_id in handled)]
    new_ids = [c.comment_id for c in commands if c.comment_id]
    comments: list[str] = []
    reopen = False
    if guard_applies(ticket, verified) and not awaiting_pr:
        closer = ticket.closed_by or Actor("ghost")
        if config.is_agent(closer.login, closer.type):
            reopen, reason = True, msg.REOPEN_REASON_AGENT
        elif not look.writer(closer.login):
            reopen, reason = True, msg.REOPEN_REASON_PERMISSION
        if reopen:
            comments.append(msg.reopened(closer.login, reason))
    is_open = ticket.state == "open" or reopen

    work = Board(ticket, config, roles, base, stored is not None, look, app_login, now)
    if is_open:
        work.collect(events)
        for event in commands:
            apply_command(work, event)
        work.settle(activity or {})
        claims = work.final.claims()
        remove = [a.login for a in ticket.assignees if a.key not in work.keep()]
        add = [c.holder for c in claims if c.key not in {a.key for a in ticket.assignees}]
    else:
        claims, add = (), []
        everyone = [a.login for a in ticket.assignees]
        released = [c.holder for c in base.claims] if stored else everyone
        assigned = {a.key for a in ticket.assignees}
        remove = []
        if ticket.state_reason == "not_planned":
            remove = [h for h in dict.fromkeys(released) if h.lower() in assigned]
            if remove:
                work.comments.append(msg.released_on_close(remove))
        for event in commands:  # nothing to claim on a closed ticket: say so
            if event.command.name in msg.CLAIM_COMMANDS:
                work.comments.append(msg.ticket_closed(event.actor.login))
    comments += work.comments

    if not is_open:
        status = StatusLabel.DONE if ticket.state_reason != "not_planned" else None
    else:
        status = status_for(
            spec.ready,
            bool(claims),
            any(p.ready_for_review for p in linked),
            verified,
            roles,
            {d.role for d in work.done},
        )
    notices = list(base.notices)
    if is_open and status is StatusLabel.NEEDS_SPEC and NEEDS_SPEC_NOTICE not in notices:
        comments.append(msg.spec_missing(config.tickets.criteria_heading, spec.has_heading))
        notices.append(NEEDS_SPEC_NOTICE)
    present = status_labels_on(ticket.labels)
    wanted = status.value if status else None

    if look.missing_permissions or look.missing_workloads:
        return Plan(
            needs=Needs(frozenset(look.missing_permissions), frozenset(look.missing_workloads))
        )
    state = State(
        ticket=ticket.number,
        status=status.short if status else None,
        spec=SpecSummary(spec.has_heading, spec.checked, spec.total),
        roles=roles,
        claims=claims,
        prs=linked,
        done=tuple(work.done),
        notices=tuple(notices),
        history=tuple(sorted(work.history, key=lambda c: c.ended_at or now))[-MAX_HISTORY:],
        handled=tuple(dict.fromkeys([*base.handled, *new_ids]))[-MAX_HANDLED:],
    )
    body = render(state)
    return Plan(
        add_labels=(wanted,) if wanted and wanted not in present else (),
        remove_labels=tuple(lb for lb in present if lb != wanted),
        add_assignees=tuple(add),
        remove_assignees=tuple(remove),
        comments=tuple(comments),
        status_comment=body if body != status_body or work.force_status else None,
        reopen=reopen,
        state=state,
        incomplete=bool(work.pending),
    )
