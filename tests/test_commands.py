"""Slash commands: parsing, permission rule, and what each command does to a ticket."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.config import RepoConfig
from app.tickets.claims import Actor, WorkItem, has_write
from app.tickets.commands import Command, from_comment, parse_commands
from app.tickets.plan import Plan
from app.tickets.status_comment import parse
from tests.test_tickets import AGENT, ALICE, BOB, MAINT, T0, World, at, world

CAROL = Actor("carol")


def only_recorded(w: World, p: Plan) -> bool:
    """The plan's state is the stored one plus the comment noted as handled."""
    before, after = parse(w.body), p.state
    assert before is not None and after is not None
    return replace(after, handled=before.handled) == before and after.handled != before.handled


def test_parse_each_command_shape() -> None:
    body = (
        "Hi\n/claim api -- I take the API\n  /release\n/handoff @carol-x ui -- over to you\n"
        "/done -- see https://ci/run/1 -- all green\n/workload @Bob\n/status\n/Claim"
    )
    assert parse_commands(body) == [
        Command("claim", "api", None, "I take the API", "/claim api -- I take the API"),
        Command("release", None, None, "", "/release"),
        Command("handoff", "ui", "carol-x", "over to you", "/handoff @carol-x ui -- over to you"),
        Command(
            "done",
            None,
            None,
            "see https://ci/run/1 -- all green",
            "/done -- see https://ci/run/1 -- all green",
        ),
        Command("workload", None, "Bob", "", "/workload @Bob"),
        Command("status", None, None, "", "/status"),
        Command("claim", None, None, "", "/Claim"),
    ]


def test_parse_ignores_code_quotes_prose_and_mid_line() -> None:
    body = (
        "```\n/claim\n```\n~~~~\n/claim\n~~~\nstill code\n~~~~\n> /claim\n  > /release\n"
        "see /claim here\n/usr/bin/env is fine\n\n    /claim (indented code)\n\n/done\n"
        "<!--\n/claim\n-->\ntext <!--\n/release\n--> and `inline\n/claim\n` code\n"
        "/lgtm\n/cc @someone\n/help\n"
    )
    assert [c.name for c in parse_commands(body)] == ["done"]
    assert parse_commands(None) == [] and parse_commands("") == []


def test_parse_errors_and_unknown_commands() -> None:
    assert parse_commands("/handoff ui")[0].error is not None
    assert parse_commands("/handoff @bad!login")[0].error is not None
    assert parse_commands("/workload bob")[0].error is not None
    assert parse_commands("/assign me\n/lgtm\n/cc @x") == []  # other bots' commands


def test_parse_is_bounded() -> None:
    assert len(parse_commands("/status\n" * 1000)) == 10
    assert len(parse_commands("/claim " + "x" * 5000)[0].role or "") == 993
    assert len(parse_commands("/claim -- " + "n" * 5000)[0].text) == 300


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_parse_never_fails_and_only_reports_line_starts(text: str) -> None:
    for command in parse_commands(text):
        assert command.line.startswith("/")


def test_has_write() -> None:
    assert [
        has_write(p) for p in ("admin", "maintain", "write", "triage", "read", "none", None)
    ] == [
        True,
        True,
        True,
        False,
        False,
        False,
        False,
    ]


def test_permission_rule_author_agent_writer_and_refusal() -> None:
    w = world(permissions={"maint": "write", "bob": "read"})
    w.run(T0)
    p = w.run(at(1), "/claim", by=BOB)
    assert "only maintainers" in p.comments[0] and w.ticket.assignees == () and w.lookups == 1
    for actor in (ALICE, AGENT):  # author and agent: no lookup needed
        v = world()
        v.run(T0)
        v.run(at(1), "/claim", by=actor)
        assert v.holders == {"": actor.login} and v.asked == set()


def test_claim_with_role_and_note_then_repeat_updates_note_only() -> None:
    w = world(labels=("role: api", "role: ui"))
    w.run(T0)
    p = w.run(at(1), "/claim UI -- doing the form")
    assert p.add_assignees == ("alice",) and w.holders == {"ui": "alice"}
    assert "doing the form" in (w.body or "") and w.settled(at(2))
    p = w.run(at(3), "/claim ui")  # counts as activity, nothing else
    assert (p.comments, p.add_assignees, p.add_labels) == ((), (), ())
    p = w.run(at(4), "/claim ui -- form and table")
    assert p.comments == () and p.status_comment and "form and table" in p.status_comment


def test_claim_taken_role_is_refused_with_holder_and_note() -> None:
    w = world(labels=("role: api",), permissions={"bob": "write"})
    w.run(T0)
    w.run(at(1), "/claim -- the endpoints", by=AGENT)
    p = w.run(at(2), "/claim api", by=BOB)
    assert "@coder[bot]" in p.comments[0] and "the endpoints" in p.comments[0]
    assert p.add_assignees == () and w.holders == {"api": "coder[bot]"}


def test_unknown_command_or_role_gives_usage_and_changes_nothing() -> None:
    w = world(labels=("role: api",))
    w.run(T0)
    for text in ("/assign me", "/lgtm", "/cc @maint", "/help"):
        assert w.plan(at(1), text).empty  # not Baton's: ignored silently
    for text, usage in (("/claim backend", "/claim [ROLE]"), ("/handoff nobody", "/handoff @")):
        p = w.plan(at(1), text)
        assert p.add_assignees == () and only_recorded(w, p)
        assert len(p.comments) == 1 and usage in p.comments[0]
        assert "/release" not in p.comments[0]  # that command's usage only
        assert p.reactions == ((w.comment_ids, "confused"),)
    assert "`api`" in w.plan(at(1), "/claim backend").comments[0]


def test_release_own_claim_and_maintainer_release_of_another() -> None:
    w = world(permissions={"maint": "admin", "bob": "read"})
    w.run(T0)
    w.run(at(1), "/claim")
    p = w.run(at(2), "/release")
    assert p.remove_assignees == ("alice",) and w.holders == {} and w.status == ["status: ready"]
    assert w.settled(at(3))
    w.assign(BOB, when=at(4))
    w.run(at(4))
    refused = w.plan(at(5), "/release", by=AGENT)
    assert "only its holder or a maintainer" in refused.comments[0] and refused.add_assignees == ()
    w.run(at(6), "/release", by=MAINT)
    assert w.holders == {} and w.ticket.assignees == ()


def test_handoff_by_holder_tells_both_and_non_holder_is_refused() -> None:
    w = world(permissions={"carol": "read"})
    w.run(T0)
    w.run(at(1), "/claim")
    p = w.plan(at(2), "/handoff @bob", by=AGENT)
    assert "only its holder" in p.comments[0] and p.add_assignees == ()
    p = w.run(at(3), "/handoff @bob -- please finish the tests")
    assert p.add_assignees == ("bob",) and p.remove_assignees == ("alice",)
    assert "@alice" in p.comments[0] and "@bob" in p.comments[0]
    assert w.holders == {"": "bob"} and "please finish the tests" in (w.body or "")
    assert w.settled(at(4))


def test_handoff_to_an_agent_over_the_limit_is_refused() -> None:
    full = [WorkItem(n) for n in (1, 2, 3)]
    w = world(workloads={"coder[bot]": full})
    w.run(T0)
    w.run(at(1), "/claim")
    p = w.run(at(2), "/handoff @coder[bot]")
    assert "at most 3" in p.comments[0] and w.holders == {"": "alice"}


def test_done_records_evidence_and_acknowledges_on_prs() -> None:
    w = world(labels=("role: api",))
    w.run(T0)
    w.run(at(1), "/claim")
    p = w.run(at(2), "/done -- pytest: 42 passed")
    assert p.comments == () and "pytest: 42 passed" in (w.body or "")
    assert w.status == ["status: validation"]
    assert w.settled(at(3))
    p = w.run(at(4), "/done api -- rerun", pr=12)
    assert "rerun" in p.comments[0]
    refused = w.plan(at(5), "/done -- mine", by=AGENT)
    assert "only its holder" in refused.comments[0]


def test_workload_lists_open_claims_here_and_elsewhere() -> None:
    w = world(workloads={"coder[bot]": [WorkItem(3, "Parser"), WorkItem(7, "dup")]})
    w.run(T0)
    w.run(at(1), "/claim", by=AGENT)
    p = w.plan(at(2), "/workload @coder[bot]")
    assert (
        "#3 Parser" in p.comments[0] and "#7 Do it" in p.comments[0] and "dup" not in p.comments[0]
    )
    assert "no open claims" in w.plan(at(2), "/workload").comments[0]


def test_status_forces_a_rewrite_of_the_status_comment() -> None:
    w = world()
    w.run(T0)
    p = w.plan(at(1), "/status")
    assert p.status_comment and only_recorded(w, p) and p.comments == ()


def test_commands_in_one_comment_run_in_order() -> None:
    w = world(labels=("role: api", "role: ui"))
    w.run(T0)
    p = w.run(at(1), "/claim api\n/claim ui\n/release api")
    assert w.holders == {"ui": "alice"} and p.add_assignees == ("alice",)
    p = w.run(at(2), "/release\n/claim api -- switching")
    assert w.holders == {"api": "alice"}


def test_from_comment_carries_context() -> None:
    events = from_comment("/status\n/claim", BOB, T0, 99, pr=4)
    assert [(e.command.name, e.actor, e.created_at, e.comment_id, e.pr) for e in events] == [
        ("status", BOB, T0, 99, 4),
        ("claim", BOB, T0, 99, 4),
    ]
    assert RepoConfig(agents=("Robo",)).is_agent("robo")
    assert CAROL.key == "carol"


def test_release_of_an_unclaimed_role_says_so() -> None:
    w = world(labels=("role: api",))
    w.run(T0)
    p = w.plan(at(1), "/release api")
    assert "not claimed" in p.comments[0] and only_recorded(w, p)


LINES = [
    "/claim",
    "/claim api",
    "/claim ui -- n",
    "/release",
    "/release ui",
    "/handoff @bob",
    "/handoff @coder[bot] api",
    "/done -- ok",
    "/done ui",
    "/status",
    "/workload",
    "/nope",
    "hello",
]
ACTORS = [ALICE, BOB, MAINT, AGENT, CAROL]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([(), ("role: api",), ("role: api", "role: ui")]),
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(LINES), min_size=1, max_size=3), st.sampled_from(ACTORS)
        ),
        max_size=6,
    ),
)
def test_any_command_sequence_settles_with_one_status_label(roles, comments) -> None:  # type: ignore[no-untyped-def]
    w = world(labels=roles, permissions={"maint": "write", "bob": "write", "carol": "read"})
    w.run(T0)
    for minute, (lines, actor) in enumerate(comments, start=1):
        w.run(at(minute), "\n".join(lines), by=actor)
        assert w.settled(at(minute))
        assert len(w.status) == 1
        assigned = {a.login for a in w.ticket.assignees}
        assert assigned == set(w.holders.values())
        # A redelivery of the same comment (a retry) changes and says nothing; at most it
        # reacts again as before (GitHub keeps one reaction per person and content).
        again = w.plan(at(minute), "\n".join(lines), by=actor, comment_id=w.comment_ids)
        assert replace(again, reactions=()).empty
        assert set(again.reactions) <= {(w.comment_ids, "+1"), (w.comment_ids, "-1")}


def test_commands_on_a_closed_ticket_are_answered_not_applied() -> None:
    w = world(permissions={"maint": "write"})
    w.run(T0)
    w.ticket = replace(w.ticket, state="closed", state_reason="completed", closed_by=MAINT)
    w.run(at(1))
    p = w.plan(at(2), "/claim")
    assert "closed" in p.comments[0] and p.add_assignees == () and only_recorded(w, p)


def test_handoff_of_a_free_role_tells_the_new_holder() -> None:
    w = world(labels=("role: api", "role: ui"), permissions={"maint": "write"})
    w.run(T0)
    p = w.run(at(1), "/handoff @bob ui -- yours", by=MAINT)
    assert p.comments == ("@bob, @maint handed role `ui` to you.",) and w.holders == {"ui": "bob"}
    assert w.settled(at(2))


def test_a_redelivered_command_comment_is_not_answered_again() -> None:
    w = world(permissions={"bob": "write"})
    w.run(T0)
    w.run(at(1), "/claim", by=AGENT)
    for minute, text in enumerate(("/claim", "/workload", "/claim nope", "/claim\n/workload"), 2):
        first = w.run(at(minute), text, by=BOB)
        assert first.comments and first.status_comment
        retried = w.plan(at(minute), text, by=BOB, comment_id=w.comment_ids)
        assert retried.empty, text
    assert w.holders == {"": "coder[bot]"}
    w.ticket = replace(w.ticket, state="closed", state_reason="completed", closed_by=BOB)
    w.run(at(9))
    assert w.run(at(10), "/claim", by=BOB).comments
    assert w.plan(at(10), "/claim", by=BOB, comment_id=w.comment_ids).empty


# --- mentions stay at the parties (SPEC 5, #9.2) ------------------------------------------


MENTION = re.compile(r"(?<![\w`])@([A-Za-z0-9][A-Za-z0-9-]*(?:\[bot\])?)")


def mentioned(text: str) -> set[str]:
    """`@login` outside code spans, as GitHub would notify."""
    prose = re.sub(r"(`+).*?\1", "", text)
    return {m.lower() for m in MENTION.findall(prose)}


@pytest.mark.parametrize(
    ("text", "by", "parties"),
    [
        ("/claim api`x @m1 @m2 -- @m3", CAROL, {"carol"}),
        ("/claim ui -- @m1 @m2 <!-- x", CAROL, {"carol", "bob"}),  # held by bob: told
        ("/workload @maint", CAROL, {"carol"}),
        ("/workload", BOB, {"bob"}),
        ("/release ui", CAROL, {"carol"}),
        ("/handoff @m1 ui -- @m2 @m3", CAROL, {"carol"}),
        ("/handoff @dan ui -- @m2 @m3", MAINT, {"maint", "bob", "dan"}),
        ("/done ui -- @m1 @m2", BOB, {"bob"}),
        ("/done api -- @m1 @m2", AGENT, {"coder[bot]"}),
    ],
)
def test_each_command_mentions_only_its_parties(text: str, by: Actor, parties: set[str]) -> None:
    w = world(labels=("role: api", "role: ui"), author=CAROL, permissions={"maint": "write"})
    w.run(T0)
    w.run(at(1), "/claim ui -- @m9 mine", by=BOB)
    p = w.run(at(2), text, by=by, pr=7)
    assert p.comments or p.reactions
    for reply in p.comments:
        assert mentioned(reply) <= parties, reply
    assert sum(len(mentioned(r)) for r in p.comments) <= 2 * len(parties)
