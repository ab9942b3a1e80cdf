"""Tickets: spec parsing, roles, the status label machine, the closing guard, idempotency.

`World` (also used by test_claims and test_commands) is a tiny in-memory GitHub for one issue:
it runs the real decision loop (`decide`), answers its lookups, and applies the plan as GitHub
would, recording the `assigned`/`unassigned` events the bot's own changes cause.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.config import RepoConfig, TicketsConfig
from app.tickets.board import holders_of
from app.tickets.claims import Actor, AssignmentEvent, WorkItem
from app.tickets.commands import from_comment
from app.tickets.messages import StatusLabel
from app.tickets.model import Ticket, closed_by_commit, parse_spec, roles_of, status_labels_on
from app.tickets.plan import Inputs, Plan, closes_as_verified, decide, needs_events, plan
from app.tickets.status_comment import LinkedPR, parse

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
APP = Actor("baton[bot]", "Bot")
ALICE = Actor("alice")
BOB = Actor("bob")
MAINT = Actor("maint")
AGENT = Actor("coder[bot]", "Bot")
SPEC = "Intro\n\n## Acceptance criteria\n- [ ] one\n- [x] two\n"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@dataclass
class World:
    ticket: Ticket
    config: RepoConfig = field(default_factory=RepoConfig)
    events: list[AssignmentEvent] = field(default_factory=list)
    body: str | None = None
    posted: list[str] = field(default_factory=list)
    permissions: dict[str, str] = field(default_factory=dict)
    workloads: dict[str, list[WorkItem]] = field(default_factory=dict)
    prs: list[LinkedPR] | None = None
    next_id: int = 1000
    comment_ids: int = 500_000  # each new comment gets the next; a retry passes its own
    lookups: int = 0  # rounds of lookups
    asked: set[str] = field(default_factory=set)  # permissions looked up

    def _event(self, kind: str, who: Actor, by: Actor, when: datetime) -> AssignmentEvent:
        self.next_id += 1
        event = AssignmentEvent(self.next_id, kind, when, by, who)  # type: ignore[arg-type]
        self.events.append(event)
        return event

    def assign(self, who: Actor, by: Actor | None = None, when: datetime = T0) -> None:
        if who.key not in {a.key for a in self.ticket.assignees}:
            self.ticket = replace(self.ticket, assignees=(*self.ticket.assignees, who))
            self._event("assigned", who, by or who, when)

    def unassign(self, who: Actor, by: Actor | None = None, when: datetime = T0) -> None:
        kept = tuple(a for a in self.ticket.assignees if a.key != who.key)
        if len(kept) != len(self.ticket.assignees):
            self.ticket = replace(self.ticket, assignees=kept)
            self._event("unassigned", who, by or who, when)

    def plan(
        self,
        now: datetime,
        comment: str | None = None,
        by: Actor = ALICE,
        comment_at: datetime | None = None,
        pr: int | None = None,
        comment_id: int | None = None,
        **kw: object,
    ) -> Plan:
        """The real decision loop (`decide`), its lookups answered from this world."""
        if comment and comment_id is None:
            self.comment_ids += 1
        cid = comment_id or self.comment_ids
        commands = from_comment(comment, by, comment_at or now, cid, pr) if comment else []
        inputs = Inputs(
            self.ticket, self.config, now, APP.login, status_body=self.body,
            events=tuple(self.events), commands=commands, prs=self.prs,
            **kw,  # type: ignore[arg-type]
        )  # fmt: skip
        return asyncio.run(decide(inputs, self))[0]

    async def permission(self, login: str) -> str:
        if login not in self.asked:
            self.lookups += 1
        self.asked.add(login)
        return self.permissions.get(login, "read")

    async def workload(self, login: str) -> list[WorkItem]:
        return self.workloads.get(login, [])

    def apply(self, p: Plan, now: datetime) -> None:
        if p.reopen:
            self.ticket = replace(
                self.ticket, state="open", state_reason="reopened", closed_by=None
            )
        self.posted += p.comments
        for login in p.remove_assignees:
            self.unassign(Actor(login), APP, now)
        for login in p.add_assignees:
            self.assign(Actor(login, "Bot" if login.endswith("[bot]") else "User"), APP, now)
        labels = [lb for lb in self.ticket.labels if lb not in p.remove_labels]
        self.ticket = replace(self.ticket, labels=(*labels, *p.add_labels))
        if p.status_comment is not None:
            self.body = p.status_comment

    def run(self, now: datetime, comment: str | None = None, **kw: object) -> Plan:
        p = self.plan(now, comment, **kw)  # type: ignore[arg-type]
        self.apply(p, now)
        return p

    def settled(self, now: datetime) -> bool:
        """Planning again from the resulting state changes nothing."""
        return self.plan(now).empty

    @property
    def status(self) -> list[str]:
        return status_labels_on(self.ticket.labels)

    @property
    def holders(self) -> dict[str, str]:
        state = parse(self.body)
        assert state is not None
        return {c.role: c.holder for c in state.claims}


def world(body: str = SPEC, labels: tuple[str, ...] = (), author: Actor = ALICE, **kw) -> World:
    return World(Ticket(7, author, "Do it", body, labels), **kw)


# --- spec parsing -------------------------------------------------------------------------


def test_spec_any_heading_level_and_case() -> None:
    for level in range(1, 7):
        spec = parse_spec(f"{'#' * level} ACCEPTANCE Criteria\n- [ ] a\n", "Acceptance criteria")
        assert spec.ready and spec.total == 1 and spec.checked == 0


def test_spec_issue_form_rendering_and_item_styles() -> None:
    body = (
        "### Summary\n\nStuff\n\n### Acceptance criteria\n\n"
        "- [ ] dash\n* [x] star\n1. [X] numbered\n2) [ ] paren\n  - [ ] nested\n\n"
        "### Notes\n\n- [ ] not a criterion\n"
    )
    spec = parse_spec(body, "Acceptance criteria")
    assert [i.text for i in spec.items] == ["dash", "star", "numbered", "paren", "nested"]
    assert (spec.checked, spec.total) == (2, 5)


def test_spec_missing_pieces() -> None:
    assert not parse_spec("no heading\n- [ ] a", "Acceptance criteria").has_heading
    heading_only = parse_spec("## Acceptance criteria\nplain text\n", "Acceptance criteria")
    assert heading_only.has_heading and not heading_only.ready
    before = parse_spec("- [ ] early\n## Acceptance criteria\n", "Acceptance criteria")
    assert before.total == 0
    assert parse_spec(None, "Acceptance criteria").total == 0


def test_spec_ignores_fenced_code_and_honours_subsections_and_config() -> None:
    body = "## Acceptance criteria\n```\n- [ ] in code\n```\n#### Backend\n- [ ] api\n## Other\n"
    assert [i.text for i in parse_spec(body, "Acceptance criteria").items] == ["api"]
    assert parse_spec("## **Done when:**\n- [ ] x\n", "Done when").ready
    fenced = "```\n## Acceptance criteria\n- [ ] x\n```\n"
    assert not parse_spec(fenced, "Acceptance criteria").has_heading


def test_spec_is_bounded() -> None:
    huge = "## Acceptance criteria\n" + "- [ ] x\n" * 100_000
    spec = parse_spec(huge, "Acceptance criteria")
    assert spec.total == 200


def test_roles_from_labels() -> None:
    assert roles_of(["bug", "Role: Backend", "role: frontend", "ROLE: backend"]) == (
        "Backend",
        "frontend",
    )
    assert roles_of(["bug"]) == ("",)


def test_ticket_from_github_issue_json() -> None:
    issue = {
        "number": 3,
        "title": "T",
        "body": None,
        "user": {"login": "a", "type": "User"},
        "labels": [{"name": "role: api"}, "x"],
        "assignees": [{"login": "b", "type": "Bot"}],
        "state": "closed",
        "state_reason": "not_planned",
        "closed_by": {"login": "m"},
    }
    t = Ticket.from_github(issue)
    assert (t.number, t.body, t.labels, t.assignees) == (
        3,
        "",
        ("role: api", "x"),
        (Actor("b", "Bot"),),
    )
    assert t.closed_by == Actor("m") and not t.is_pull_request
    assert Ticket.from_github({**issue, "pull_request": {}}).is_pull_request


def test_status_labels_have_colours() -> None:
    for label in StatusLabel:
        assert len(label.color) == 6 and label.value.startswith("status: ")


# --- the status label machine ---------------------------------------------------------------


def test_opened_without_spec_gets_needs_spec_and_one_template_comment() -> None:
    w = world(body="Please fix")
    p = w.run(T0)
    assert w.status == ["status: needs-spec"]
    assert len(p.comments) == 1 and "## Acceptance criteria\n- [ ]" in p.comments[0]
    assert w.body is not None and w.body.startswith("<!-- baton:status -->")
    w.ticket = replace(w.ticket, body="Please fix\n## Acceptance criteria\n")  # edited, no items
    assert w.run(at(1)).comments == ()  # the notice is posted once
    w.ticket = replace(w.ticket, body=SPEC)
    p = w.run(at(2))
    assert w.status == ["status: ready"] and p.remove_labels == ("status: needs-spec",)
    assert w.settled(at(3))


def test_claim_moves_to_in_progress_and_release_back_to_ready() -> None:
    w = world()
    w.run(T0)
    w.assign(BOB, when=at(1))
    w.run(at(1))
    assert w.status == ["status: in-progress"] and w.holders == {"": "bob"}
    w.unassign(BOB, when=at(2))
    w.run(at(2))
    assert w.status == ["status: ready"] and w.holders == {}


def test_validation_from_ready_pr_or_every_role_done() -> None:
    w = world(labels=("role: api", "role: ui"))
    w.run(T0)
    w.prs = [LinkedPR(9, "Fix", "bob", draft=True)]
    w.run(at(1))
    assert w.status == ["status: ready"]
    w.prs = [LinkedPR(9, "Fix", "bob", draft=False)]
    w.run(at(2))
    assert w.status == ["status: validation"]

    v = world(labels=("role: api", "role: ui"), permissions={"maint": "write"})
    v.run(T0)
    v.run(at(1), "/done api -- tests pass", by=MAINT)
    assert v.status == ["status: ready"]
    v.run(at(2), "/done ui -- screenshot", by=MAINT)
    assert v.status == ["status: validation"] and v.settled(at(3))


def test_done_on_verified_merge_and_closing_keeps_done() -> None:
    w = world()
    w.run(T0)
    w.prs = [LinkedPR(9, "Fix", "bob", state="merged", verification="success")]
    w.run(at(1))
    assert w.status == ["status: done"]
    w.ticket = replace(w.ticket, state="closed", state_reason="completed", closed_by=AGENT)
    p = w.run(at(2))
    assert not p.reopen and w.status == ["status: done"] and w.settled(at(3))


def test_closed_not_planned_releases_claims_and_removes_status_labels() -> None:
    w = world()
    w.run(T0)
    w.assign(BOB, when=at(1))
    w.run(at(1))
    w.ticket = replace(w.ticket, state="closed", state_reason="not_planned", closed_by=MAINT)
    p = w.run(at(2))
    assert w.status == [] and w.ticket.assignees == () and "@bob" in p.comments[0]
    assert w.holders == {} and w.settled(at(3))


def test_closing_guard_reopens_when_an_agent_closes_without_verified_merge() -> None:
    w = world()
    w.run(T0)
    w.ticket = replace(w.ticket, state="closed", state_reason="completed", closed_by=AGENT)
    p = w.run(at(1))
    assert p.reopen and "Reopened" in p.comments[0] and w.status == ["status: ready"]
    assert w.settled(at(2))


def test_closing_guard_checks_write_permission_of_humans() -> None:
    w = world(permissions={"bob": "triage", "maint": "maintain"})
    w.run(T0)
    w.ticket = replace(w.ticket, state="closed", state_reason="completed", closed_by=BOB)
    assert w.run(at(1)).reopen and w.lookups == 1
    w.ticket = replace(w.ticket, state="closed", state_reason="completed", closed_by=MAINT)
    p = w.run(at(2))
    assert not p.reopen and w.status == ["status: done"]
    w.ticket = replace(w.ticket, state="closed", state_reason=None, closed_by=BOB)  # old issues
    assert w.plan(at(3)).reopen


def test_closing_guard_waits_for_the_pr_when_a_merge_commit_closed_the_ticket() -> None:
    w = world()
    w.run(T0)
    w.prs = [LinkedPR(9, "Fix", "coder[bot]", verification="success")]
    w.run(at(1))
    w.prs = None
    # The agent merged the PR: GitHub closed the ticket; the issue's news comes first.
    w.ticket = replace(w.ticket, state="closed", state_reason="completed", closed_by=AGENT)
    p = w.run(at(2), closed_by_commit=True)
    assert not p.reopen and w.status == ["status: done"]
    assert w.plan(at(2)).reopen  # closed by hand: judged at once
    # Merged without a passing verification: once the PR is known, the guard judges.
    w.prs = [LinkedPR(9, "Fix", "coder[bot]", state="merged", verification="failure")]
    assert w.plan(at(3), closed_by_commit=True).reopen
    w.prs = [LinkedPR(9, "Fix", "coder[bot]", state="merged", verification="success")]
    p = w.run(at(3), closed_by_commit=True)
    assert not p.reopen and w.status == ["status: done"] and w.settled(at(4))


def test_closed_by_commit_reads_the_latest_closed_issue_event() -> None:
    def closed(i: int, commit: str | None) -> dict[str, object]:
        return {
            "id": i,
            "event": "closed",
            "created_at": f"2026-03-0{i}T00:00:00Z",
            "commit_id": commit,
        }

    reopened = {"id": 3, "event": "reopened", "created_at": "2026-03-03T00:00:00Z"}
    assert closed_by_commit([closed(1, None), reopened, closed(4, "abc123")])
    assert not closed_by_commit([closed(4, None), closed(1, "abc123"), reopened])
    assert not closed_by_commit([reopened]) and not closed_by_commit([])


def test_only_labelled_issues_are_tickets_when_configured() -> None:
    config = RepoConfig(tickets=TicketsConfig(label="ticket"))
    w = world(config=config)
    assert w.plan(T0).empty
    w.ticket = replace(w.ticket, labels=("Ticket",))
    assert w.plan(T0).add_labels == ("status: ready",)
    pr = replace(w.ticket, is_pull_request=True)
    assert plan(Inputs(pr, config, T0, APP.login)).empty


def test_custom_heading_and_extra_status_labels_are_cleaned() -> None:
    config = RepoConfig(tickets=TicketsConfig(criteria_heading="Done when"))
    w = world(
        body="# done WHEN\n- [ ] x", labels=("status: ready", "Status: Done", "bug"), config=config
    )
    p = w.run(T0)
    assert p.remove_labels == ("Status: Done",) and w.status == ["status: ready"]


# --- idempotency, property-based -----------------------------------------------------------

bodies = st.sampled_from(
    ["", "text", SPEC, "## Acceptance criteria\n", "# acceptance criteria\n* [x] a"]
)
label_sets = st.lists(
    st.sampled_from(["role: api", "role: ui", "status: done", "status: ready", "bug"]), max_size=4
).map(lambda x: tuple(dict.fromkeys(x)))
pr_states = st.sampled_from(
    [
        None,
        ("open", True, None),
        ("open", False, None),
        ("merged", False, "success"),
        ("merged", False, "failure"),
    ]
)
closes = st.sampled_from(
    [None, ("completed", AGENT), ("completed", BOB), ("completed", MAINT), ("not_planned", BOB)]
)


@settings(max_examples=150, deadline=None)
@given(
    bodies,
    label_sets,
    pr_states,
    closes,
    st.lists(st.sampled_from([BOB, AGENT, MAINT]), max_size=3),
)
def test_planning_is_idempotent_and_leaves_one_status_label(
    body, labels, pr, close, people
) -> None:
    w = world(body=body, labels=labels, permissions={"maint": "admin", "bob": "read"})
    w.run(T0)
    for i, person in enumerate(people):
        w.assign(person, when=at(i + 1))
    if pr:
        w.prs = [LinkedPR(5, "x", "bob", state=pr[0], draft=pr[1], verification=pr[2])]
    w.run(at(5))
    if close:
        w.ticket = replace(w.ticket, state="closed", state_reason=close[0], closed_by=close[1])
        w.run(at(6))
    assert w.settled(at(6))
    if w.ticket.state == "open":
        assert len(w.status) == 1
        assert w.status[0].lower() in {s.value for s in StatusLabel}
    elif w.ticket.state_reason == "not_planned":
        assert w.status == []


def test_empty_task_items_are_not_criteria() -> None:
    body = "### Acceptance criteria\n\n- [ ] \n- [ ]\n- [ ]   \n"
    assert not parse_spec(body, "Acceptance criteria").ready
    body += "- [x] refunds work\n"
    assert parse_spec(body, "Acceptance criteria").total == 1


def test_who_holds_what_for_the_gate() -> None:
    ticket = Ticket(7, ALICE, assignees=(BOB,))
    assert holders_of(ticket, None) == {"": "bob"}  # a lone assignee holds the lone role
    assert holders_of(replace(ticket, labels=("role: a", "role: b")), None) == {}
    assert holders_of(replace(ticket, assignees=(BOB, MAINT)), None) == {}
    w = world(labels=("role: api",))
    w.run(T0)
    w.run(at(1), "/claim -- x", by=AGENT)
    assert holders_of(w.ticket, parse(w.body)) == {"api": "coder[bot]"}


def test_events_are_read_only_when_a_claim_could_need_them() -> None:
    ticket = Ticket(7, ALICE)
    assert not needs_events(ticket, has_status=False)
    assert needs_events(ticket, has_status=True)
    assert needs_events(replace(ticket, assignees=(BOB,)), has_status=False)
    assert needs_events(replace(ticket, state="closed"), has_status=False)


def test_a_verified_merge_closes_an_open_ticket() -> None:
    ticket = Ticket(7, ALICE)
    merged = LinkedPR(9, "Fix", "bob", "merged", verification="success")
    assert closes_as_verified(ticket, [merged])
    assert not closes_as_verified(ticket, [replace(merged, verification="failure")])
    assert not closes_as_verified(ticket, [replace(merged, state="open")])
    assert not closes_as_verified(replace(ticket, state="closed"), [merged])
