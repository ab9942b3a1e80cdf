"""Claims: earliest as GitHub recorded wins, handoffs, the agent limit, staleness, release."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.config import ClaimsConfig, RepoConfig
from app.tickets.claims import (
    Actor,
    AssignmentEvent,
    Claim,
    Request,
    WorkItem,
    activity_step,
    current_runs,
    may_act,
    resolve,
    staleness,
)
from app.tickets.plan import Inputs, plan
from app.tickets.status_comment import parse
from tests.test_tickets import AGENT, ALICE, APP, BOB, MAINT, T0, World, at, world

CAROL = Actor("carol")
WRITERS = {"bob": "write", "carol": "write", "dan": "write", "erin": "write", "maint": "write"}


def team(**kw) -> World:  # type: ignore[no-untyped-def]
    """A ticket by alice in a repository where the humans below have write permission."""
    return world(permissions=dict(WRITERS), **kw)


def test_assignment_event_from_github_json() -> None:
    raw = {
        "id": 5,
        "event": "assigned",
        "created_at": "2026-03-01T12:00:00Z",
        "actor": {"login": "x"},
        "assigner": {"login": "m"},
        "assignee": {"login": "b", "type": "Bot"},
    }
    event = AssignmentEvent.from_github(raw)
    assert event == AssignmentEvent(5, "assigned", T0, Actor("m"), Actor("b", "Bot"))
    assert AssignmentEvent.from_github({**raw, "event": "labeled"}) is None
    assert AssignmentEvent.from_github({**raw, "created_at": "nonsense"}) is None


def test_current_runs_follow_recorded_order_not_list_order() -> None:
    a = AssignmentEvent(1, "assigned", at(1), BOB, BOB)
    u = AssignmentEvent(2, "unassigned", at(2), BOB, BOB)
    b = AssignmentEvent(3, "assigned", at(3), BOB, BOB)
    assert current_runs([b, u, a])["bob"] == b
    assert current_runs([u, a]) == {}


def test_resolve_first_wins_and_override_displaces() -> None:
    first = Claim("", "bob", at(1))
    second = Claim("", "carol", at(2))
    result = resolve(("",), [Request(second), Request(first)], {})
    assert result.holders[""].holder == "bob" and result.losses[0].reason == "held"
    handoff = Claim("", "dan", at(3), override=True)
    result = resolve(("",), [Request(first), Request(handoff)], {})
    assert result.holders[""].holder == "dan" and result.losses[0].reason == "displaced"


def test_self_assignment_claims_and_later_one_is_unassigned_and_told() -> None:
    w = team()
    w.run(T0)
    w.run(at(1), "/claim -- taking the parser", by=BOB, comment_at=at(1))
    w.assign(CAROL, when=at(2))
    p = w.run(at(2))
    assert w.holders == {"": "bob"} and p.remove_assignees == ("carol",)
    assert (
        "@carol" in p.comments[0]
        and "@bob" in p.comments[0]
        and "taking the parser" in p.comments[0]
    )
    assert w.settled(at(3))


def test_earlier_recorded_assignment_wins_even_if_handled_later() -> None:
    # Both assignments happened; the handler sees the events in any list order.
    w = world()
    w.run(T0)
    w.assign(CAROL, when=at(2))
    w.assign(BOB, when=at(1))
    w.events.reverse()
    w.run(at(3))
    assert w.holders == {"": "bob"} and [a.login for a in w.ticket.assignees] == ["bob"]


def test_a_claim_command_recorded_earlier_beats_an_assignment_handled_first() -> None:
    w = team()
    w.run(T0)
    w.assign(CAROL, when=at(2))
    w.run(at(2))
    assert w.holders == {"": "carol"}
    p = w.run(at(3), "/claim", by=BOB, comment_at=at(1))  # delivery of an earlier comment
    assert w.holders == {"": "bob"} and "carol" in p.remove_assignees
    assert w.settled(at(4))


def test_handoff_by_maintainer_assignment_overrides_and_both_are_told() -> None:
    w = world(permissions={"maint": "write"})
    w.run(T0)
    w.assign(BOB, when=at(1))
    w.run(at(1))
    w.assign(CAROL, by=MAINT, when=at(2))
    p = w.run(at(2))
    assert w.holders == {"": "carol"} and p.remove_assignees == ("bob",)
    assert "@bob" in p.comments[0] and "@carol" in p.comments[0] and "@maint" in p.comments[0]
    assert w.settled(at(3))


def test_assignment_by_someone_without_write_is_not_a_handoff() -> None:
    w = world(permissions={"dave": "triage"})
    w.run(T0)
    w.assign(BOB, when=at(1))
    w.run(at(1))
    w.assign(CAROL, by=Actor("dave"), when=at(2))
    w.assign(Actor("erin"), by=AGENT, when=at(3))
    w.run(at(3))
    assert w.holders == {"": "bob"} and [a.login for a in w.ticket.assignees] == ["bob"]


def test_second_claimant_takes_a_free_role() -> None:
    w = world(labels=("role: api", "role: ui"))
    w.run(T0)
    w.assign(BOB, when=at(1))
    w.assign(CAROL, when=at(2))
    w.run(at(2))
    assert w.holders == {"api": "bob", "ui": "carol"}
    w.assign(Actor("dan"), when=at(3))
    p = w.run(at(3))
    assert "every role" in p.comments[0] and p.remove_assignees == ("dan",)


def test_agent_limit_refuses_with_the_list_and_humans_have_none() -> None:
    busy = [WorkItem(1, "one"), WorkItem(2, "two"), WorkItem(3, "three")]
    w = world(workloads={"coder[bot]": busy, "bob": busy * 3})
    w.run(T0)
    w.assign(AGENT, when=at(1))
    p = w.run(at(1))
    assert p.remove_assignees == ("coder[bot]",) and "#2 two" in p.comments[0]
    assert w.holders == {} and w.settled(at(2))
    w.assign(BOB, when=at(3))
    w.run(at(3))
    assert w.holders == {"": "bob"}


def test_agents_from_config_count_and_already_accepted_claims_are_kept() -> None:
    config = RepoConfig(agents=("robo",), claims=ClaimsConfig(max_per_agent=1))
    w = world(config=config, workloads={"robo": []})
    w.run(T0)
    w.assign(Actor("robo"), when=at(1))
    w.run(at(1))
    assert w.holders == {"": "robo"}
    w.workloads = {"robo": [WorkItem(8)]}  # a claim elsewhere since: this one stays
    assert w.settled(at(2))


def test_stale_warning_once_then_release() -> None:
    w = world()
    w.run(T0)
    w.assign(BOB, when=T0)
    w.run(T0)
    p = w.run(T0 + timedelta(hours=25))
    assert len(p.comments) == 1 and "released in 23 hours" in p.comments[0]
    assert "no activity for 1 day" in p.comments[0]
    assert w.plan(T0 + timedelta(hours=30)).comments == ()  # warned once
    p = w.run(T0 + timedelta(hours=49))
    assert p.remove_assignees == ("bob",) and "Released" in p.comments[0]
    assert w.holders == {} and w.status == ["status: ready"]
    assert w.settled(T0 + timedelta(hours=50))


def test_activity_postpones_staleness_and_rearms_the_warning() -> None:
    w = world()
    w.run(T0)
    w.assign(BOB, when=T0)
    w.run(T0)
    w.run(T0 + timedelta(hours=25))
    later = T0 + timedelta(hours=40)
    w.run(later, activity={"Bob": T0 + timedelta(hours=30)})
    assert w.plan(T0 + timedelta(hours=49)).remove_assignees == ()
    p = w.plan(T0 + timedelta(hours=55))
    assert len(p.comments) == 1 and "no activity" in p.comments[0]


def test_activity_is_written_down_only_once_it_moves_a_step() -> None:
    """A holder's every comment does not edit the status comment for hidden JSON alone."""
    assert activity_step(ClaimsConfig()) == timedelta(hours=1)
    assert activity_step(ClaimsConfig(stale_after=48)) == timedelta(seconds=2)
    w = world()
    w.run(T0)
    w.assign(BOB, when=T0)
    w.run(T0)
    soon = T0 + timedelta(minutes=59)
    assert w.plan(soon, activity={"bob": soon}).status_comment is None
    later = T0 + timedelta(minutes=61)
    w.run(later, activity={"bob": later})
    assert parse(w.body).claims[0].activity_at == later  # type: ignore[union-attr]


def test_staleness_rules_and_zero_switches_off() -> None:
    claim = Claim("", "bob", T0)
    config = ClaimsConfig(stale_after=10, release_after=20)
    assert staleness(claim, T0 + timedelta(seconds=9), config) == "active"
    assert staleness(claim, T0 + timedelta(seconds=10), config) == "warn"
    warned = replace(claim, warned_at=T0 + timedelta(seconds=10))
    assert staleness(warned, T0 + timedelta(seconds=15), config) == "active"
    assert staleness(warned, T0 + timedelta(seconds=20), config) == "release"
    off = ClaimsConfig(stale_after=0, release_after=0)
    assert staleness(claim, T0 + timedelta(days=99), off) == "active"


def test_first_sight_does_not_release_old_assignments() -> None:
    w = world()
    w.assign(BOB, when=T0)
    p = w.run(T0 + timedelta(days=30))
    assert p.remove_assignees == () and w.holders == {"": "bob"}


def test_assignee_without_visible_event_is_left_alone() -> None:
    w = world()
    w.run(T0)
    w.assign(BOB, when=at(1))
    w.ticket = replace(w.ticket, assignees=(*w.ticket.assignees, CAROL))  # event not listed yet
    p = w.run(at(2))
    assert p.incomplete and p.remove_assignees == () and w.holders == {"": "bob"}


# --- properties ---------------------------------------------------------------------------

PEOPLE = [BOB, CAROL, Actor("dan"), AGENT, Actor("erin")]


@st.composite
def claim_stories(draw):  # type: ignore[no-untyped-def]
    """Distinct people self-assign, `/claim`, or are assigned by a maintainer (a handoff) at
    distinct minutes; each delivery is handled promptly or late, the late ones in any order."""
    people = draw(st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=4, unique=True))
    n = len(people)
    minutes = draw(st.lists(st.integers(1, 50), min_size=n, max_size=n, unique=True))
    how = draw(st.lists(st.sampled_from(["assign", "claim", "handoff"]), min_size=n, max_size=n))
    prompt = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    order = draw(st.permutations(range(n)))
    roles = draw(st.sampled_from([(), ("role: api",), ("role: api", "role: ui")]))
    story = sorted(zip(minutes, people, how, strict=True), key=lambda s: s[0])
    return story, prompt, order, roles


def _play(story, prompt, order, roles) -> World:  # type: ignore[no-untyped-def]
    """GitHub records each action at its minute; the handler fetches the issue and its events
    when it handles a delivery, but a comment's command only arrives with its delivery."""
    w = team(labels=roles)
    w.run(T0)

    def deliver(i: int, now: datetime) -> None:
        minute, person, how = story[i]
        if how == "claim":
            w.run(now, "/claim", by=person, comment_at=at(minute))
        else:
            w.run(now)

    late = []
    for i, (minute, person, how) in enumerate(story):
        if how != "claim":
            w.assign(person, by=MAINT if how == "handoff" else person, when=at(minute))
        if prompt[i]:
            deliver(i, at(minute + 0.5))
        else:
            late.append(i)
    now = at(60)
    for i in order:
        if i in late:
            deliver(i, now)
            now += timedelta(minutes=1)
    w.run(now)
    return w


@settings(max_examples=400, deadline=None)
@given(claim_stories())
def test_same_holders_whatever_the_delivery_order(args) -> None:  # type: ignore[no-untyped-def]
    """Deliveries handled promptly, late, or late in any order: the same holders per role."""
    story, prompt, order, roles = args
    in_time = _play(story, [True] * len(story), order, roles)
    shuffled = _play(story, prompt, order, roles)
    assert shuffled.holders == in_time.holders
    if all(how != "handoff" for _, _, how in story):
        assert story[0][1].login in shuffled.holders.values()  # the earliest always holds
    holders = set(shuffled.holders.values())
    assert {a.login for a in shuffled.ticket.assignees} == holders
    assert len(shuffled.status) == 1
    assert shuffled.settled(at(200))


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(PEOPLE), st.integers(1, 30), st.booleans(), st.booleans()),
        max_size=6,
    ),
    st.permutations(range(6)),
)
def test_same_holder_for_any_event_list_order(steps, perm) -> None:  # type: ignore[no-untyped-def]
    """(Un)assignments by the person or a maintainer; one plan sees the events in any order."""
    w = world(permissions={"maint": "write"})
    for person, minute, on, by_maint in steps:
        by = MAINT if by_maint else person
        (w.assign if on else w.unassign)(person, by=by, when=at(minute))
    reference = w.plan(at(40))
    w.events = [w.events[i] for i in perm if i < len(w.events)] + w.events[6:]
    shuffled = w.plan(at(40))
    assert shuffled == reference
    assert len(reference.state.claims if reference.state else ()) <= 1


def test_app_login_is_never_treated_as_a_handoff() -> None:
    w = world()
    w.run(T0)
    w.assign(BOB, by=APP, when=at(1))  # the bot assigned bob but its state was lost
    w.assign(ALICE, when=at(2))
    w.run(at(2))
    assert w.holders == {"": "bob"} and w.lookups == 0


def test_handoff_assignment_with_every_role_held_takes_the_latest_claimed_role() -> None:
    w = team(labels=("role: api", "role: ui"))
    w.run(T0)
    w.assign(BOB, when=at(1))
    w.assign(CAROL, when=at(2))
    w.run(at(2))
    w.assign(Actor("dan"), by=MAINT, when=at(3))
    p = w.run(at(3))
    assert w.holders == {"api": "bob", "ui": "dan"} and p.remove_assignees == ("carol",)
    assert w.settled(at(4))


def test_a_role_reported_done_is_not_released_for_idleness() -> None:
    w = world(labels=("role: api", "role: ui"))
    w.run(T0)
    w.run(T0, "/claim api")
    w.run(T0, "/done api -- merged the endpoint")
    p = w.run(T0 + timedelta(days=5))
    assert p.remove_assignees == () and w.holders == {"api": "alice"}


def test_a_plan_that_needs_lookups_does_nothing_else() -> None:
    w = world()
    w.run(T0)
    w.ticket = replace(w.ticket, state="closed", state_reason="completed", closed_by=BOB)
    p = plan(Inputs(w.ticket, w.config, at(1), APP.login, status_body=w.body, events=w.events))
    assert p.needs.permissions == {"bob"} and p.empty and p.state is None


def test_late_claim_then_handoff_single_role() -> None:
    """A `/claim` recorded first but delivered last still counts; the later handoff wins."""
    w = team()
    w.run(T0)
    w.assign(BOB, when=at(2))
    w.run(at(2.5))
    w.assign(CAROL, by=MAINT, when=at(3))
    w.run(at(3.5))
    p = w.run(at(60), "/claim", by=Actor("dan"), comment_at=at(1))
    assert w.holders == {"": "carol"} and p.add_assignees == ()
    assert "@dan" in p.comments[0] and "handed off to @carol" in p.comments[0]
    assert w.settled(at(61))


def test_released_command_claims_are_kept_as_bounded_history() -> None:
    w = team()
    w.run(T0)
    for i in range(25):
        w.run(at(2 * i + 1), f"/claim -- round {i}", by=BOB)
        w.run(at(2 * i + 2), "/release", by=BOB)

    state = parse(w.body)
    assert state is not None and state.claims == () and len(state.history) == 20
    assert state.history[-1].note == "round 24" and state.history[-1].ended_at == at(50)
    assert w.settled(at(60))


# --- one authority rule (SPEC 5, #9.1) --------------------------------------------------------


def test_may_act_the_holder_or_a_human_writer_never_an_agent_on_anothers_claim() -> None:
    asked: list[str] = []

    def writer(answer: bool) -> Callable[[], bool]:
        return lambda: asked.append("looked up") or answer

    assert may_act("Ada", "ada", agent=True, writer=writer(False))  # its holder, any case
    assert may_act("maya", "ada", agent=False, writer=writer(True))
    assert not may_act("bolt[bot]", "ada", agent=True, writer=writer(True))  # even with write
    assert not may_act("eve", "ada", agent=False, writer=writer(False))
    assert may_act("maya", None, agent=False, writer=writer(True))  # a free role: a writer
    assert not may_act("bolt[bot]", None, agent=True, writer=writer(True))
    assert len(asked) == 3  # never looked up for the holder or an agent


def test_every_path_refuses_an_agent_on_anothers_claim() -> None:
    """/release, /handoff, /done by an agent with write permission, and its unassignment of
    the holder: the claim stays, and the agent is told (a -1 on its commands)."""
    w = team(labels=("role: api", "role: ui"))
    w.permissions["coder[bot]"] = "write"
    w.run(T0)
    w.run(at(1), "/claim api -- mine", by=BOB)
    for minute, text in enumerate(("/release api", "/handoff @coder[bot] api", "/done api"), 2):
        p = w.run(at(minute), text, by=AGENT)
        assert p.reactions == ((w.comment_ids, "-1"),) and "only its holder" in p.comments[0]
        assert w.holders == {"api": "bob"} and parse(w.body).done == ()  # type: ignore[union-attr]
    w.unassign(BOB, by=AGENT, when=at(6))
    p = w.run(at(6))
    assert p.add_assignees == ("bob",) and w.holders == {"api": "bob"}
    assert "@coder[bot]" in p.comments[0] and w.settled(at(7))
    w.unassign(BOB, by=MAINT, when=at(8))  # a human writer may
    w.run(at(8))
    assert w.holders == {} and w.settled(at(9))


def test_one_stale_comment_names_every_role() -> None:
    w = team(labels=("role: api", "role: ui"))
    w.run(T0)
    w.assign(BOB, when=T0)
    w.assign(ALICE, when=T0)
    w.run(T0)
    p = w.run(T0 + timedelta(hours=25))
    [comment] = p.comments
    assert "@bob" in comment and "@alice" in comment and "`api`" in comment and "`ui`" in comment
    p = w.run(T0 + timedelta(hours=49))
    [comment] = p.comments
    assert comment.startswith("Released") and comment.count("\n- ") == 2
