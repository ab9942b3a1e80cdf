"""The status comment: render/parse round trip, escaping, tolerance of tampering."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.markdown import ZWJ, table_cell
from app.tickets.claims import Claim
from app.tickets.status_comment import (
    MAX_HANDLED,
    MAX_PRS,
    MAX_STATUS,
    VERSION,
    DoneReport,
    LinkedPR,
    SpecSummary,
    State,
    fit,
    parse,
    rank_prs,
    render,
    same_record,
    to_json,
)
from tests.test_tickets import T0

NOW = T0 + timedelta(hours=5)
FULL = State(
    ticket=12,
    status="in-progress",
    spec=SpecSummary(True, 1, 3),
    roles=("api", "ui"),
    claims=(
        Claim(
            "api",
            "coder[bot]",
            T0,
            "taking -- the API | all",
            "command",
            pinned=True,
            ref=5,
            activity_at=T0 + timedelta(hours=1),
            warned_at=T0 + timedelta(hours=2),
            ticket=12,
        ),
        Claim("ui", "bob", T0, override=True, ref=6),
    ),
    prs=(
        LinkedPR(
            9,
            "Fix <b>it</b>",
            "bob",
            "open",
            True,
            "pending",
            (("ci / test", "success"), ("Baton / contracts", "failure")),
        ),
    ),
    done=(DoneReport("api", "coder[bot]", T0, "pytest -q --> 42 passed", 77),),
    notices=("needs-spec",),
    history=(Claim("ui", "dan", T0, "x", "command", ended_at=T0 + timedelta(hours=3)),),
    handled=(501, 502),
)


def state_json(body: str) -> dict:
    raw = re.search(r"<!-- baton:state (.*) -->", body, re.DOTALL)
    assert raw is not None
    return json.loads(raw.group(1))


def test_round_trip_of_every_field() -> None:
    body = render(FULL, NOW)
    assert body.startswith("<!-- baton:status -->\n")
    assert parse(body) == FULL
    assert render(parse(body) or FULL, NOW) == body  # deterministic


def test_human_readable_part() -> None:
    body = render(FULL, NOW)
    assert "1 of 3 acceptance criteria checked" in body
    assert "| api | @\u200dcoder\\[bot\\] | 5 hours ago | taking -- the API \\| all |" in body
    assert "#9 Fix &lt;b&gt;it&lt;/b&gt; (open, draft; verification: pending)" in body
    assert "ci / test: success" in body and "pytest -q --&gt; 42 passed" in body
    assert "2026-03-01T12:00:00Z" not in body.split("<!-- baton:state")[0]  # relative times
    empty = render(State(ticket=1, status="ready"), NOW)
    assert "no acceptance criteria yet" in empty and "free to `/claim`" in empty


def test_state_json_cannot_end_the_html_comment_and_is_versioned() -> None:
    body = render(FULL, NOW)
    block = body[body.index("<!-- baton:state ") + len("<!-- baton:state ") : -len(" -->")]
    assert "--" not in block and ">" not in block and "<" not in block
    data = state_json(body)
    assert data["version"] == VERSION == 1 and data == json.loads(json.dumps(to_json(FULL)))
    assert data["claims"][0]["since"] == "2026-03-01T12:00:00Z"
    assert data["done"][0]["evidence"] == "pytest -q --> 42 passed"


def test_parse_rejects_tampering() -> None:
    body = render(FULL, NOW)
    assert parse(None) is None and parse("") is None
    assert parse(body.replace("<!-- baton:status -->", "")) is None
    assert parse(body.replace('"version": 1', '"version": 2')) is None
    assert parse(body.replace('"ticket": 12', '"ticket": "12"')) is None
    assert parse(body.replace('"status": "in', '"status": "on')) is None
    assert parse(body.replace('"claims": [{', '"claims": [{"x": {')) is None
    assert parse(body.replace('"since": "2026', '"since": "yesterday')) is None
    assert parse(body.replace('"source": "command"', '"source": "magic"')) is None
    assert parse(body.replace("<!-- baton:state {", "<!-- baton:state {{")) is None
    assert parse(body[: body.index("<!-- baton:state")]) is None
    assert parse(body + "x" * 200_000) is None


def test_a_note_cannot_smuggle_a_state_block() -> None:
    fake = '<!-- baton:state {"version": 1, "ticket": 99} -->'
    state = State(ticket=1, claims=(Claim("", "eve", T0, fake),))
    parsed = parse(render(state, NOW))
    assert parsed is not None and parsed.ticket == 1 and parsed.claims[0].note == fake


texts = st.text(max_size=40)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(texts, st.from_regex(r"[A-Za-z0-9-]{1,10}", fullmatch=True), texts), max_size=3
    ),
    st.lists(
        st.tuples(st.integers(1, 10**6), texts, st.dictionaries(texts, texts, max_size=3)),
        max_size=3,
    ),
    texts,
    st.sampled_from([None, "needs-spec", "ready", "in-progress", "validation", "done"]),
)
def test_round_trip_of_arbitrary_text(claims, prs, evidence, status) -> None:  # type: ignore[no-untyped-def]
    state = State(
        ticket=3,
        status=status,
        roles=tuple(role for role, _, _ in claims) or ("",),
        claims=tuple(Claim(role, login, T0, note) for role, login, note in claims),
        prs=tuple(LinkedPR(n, title, checks=tuple(c.items())) for n, title, c in prs),
        done=(DoneReport("", "x", T0, evidence),),
    )
    body = render(state, NOW)
    assert parse(body) == state
    assert "-->" not in body[body.index("<!-- baton:state ") : -4]


def test_handled_comment_ids_are_bounded_to_the_latest() -> None:
    state = State(ticket=1, handled=tuple(range(1, MAX_HANDLED + 11)))
    assert state_json(render(state, NOW))["handled"] == list(range(11, MAX_HANDLED + 11))
    assert (parse(render(state, NOW)) or state).handled == tuple(range(11, MAX_HANDLED + 11))
    old = render(State(ticket=1), NOW).replace(', "handled": []', "")  # written before the key
    assert parse(old) == State(ticket=1)


def test_table_cell_is_one_line_and_cannot_open_html_or_split_cells() -> None:
    assert table_cell("a |b\\\n <!-- c -->\r\nd") == "a \\|b\\\\ &lt;!-- c --&gt; d"


# --- bounds, importance, what a reader sees (#9.3, #9.4, #13) --------------------------------

huge = st.text(alphabet=st.sampled_from(list("<>-@`|&\\x")), min_size=0, max_size=2_000)


@settings(max_examples=30, deadline=None)
@given(huge, huge, huge, st.integers(0, 60))
def test_whatever_users_write_the_comment_stays_under_the_bound(
    title: str, note: str, check: str, count: int
) -> None:
    roles = tuple(f"r{i}" for i in range(10))
    checks = tuple((f"{check}{j}", "x" * 50) for j in range(40))
    state = State(
        ticket=1,
        status="in-progress",
        roles=roles,
        claims=tuple(Claim(r, f"agent{i}", T0, note * 3) for i, r in enumerate(roles)),
        prs=tuple(
            LinkedPR(i, title * 3, "someone", checks=checks, reason=note)
            for i in range(1, count + 1)
        ),
        done=tuple(DoneReport(r, "x", T0, note * 3) for r in roles),
        history=tuple(Claim("r0", "h", T0, note, "command", ended_at=T0) for _ in range(40)),
        handled=tuple(range(500)),
    )
    kept, body = fit(state, NOW)
    assert len(body) < MAX_STATUS
    assert parse(body) == kept and kept.claims and len(kept.claims) == 10


def test_prs_are_kept_by_importance_the_holders_first() -> None:
    junk = [LinkedPR(i, "<" * 256, "mallory") for i in range(1, 21)]
    real = LinkedPR(21, "Refund API", "Ada[bot]")
    merged = LinkedPR(22, "old", "zed", "merged", verification="success")
    kept = rank_prs([*junk, real, merged], ["ada[bot]"])
    assert len(kept) == MAX_PRS and real in kept and merged in kept
    assert [p.number for p in kept] == sorted(p.number for p in kept)
    assert LinkedPR(1, "<" * 256, "mallory") not in kept  # the oldest junk goes first


def test_single_role_has_no_role_column_and_closed_tickets_are_not_free() -> None:
    one = State(ticket=1, status="in-progress", claims=(Claim("", "bob", T0, "on it"),))
    body = render(one, NOW)
    assert "(unnamed)" not in body and "| holder | since | note |" in body
    assert f"| @{ZWJ}bob | 5 hours ago | on it |" in body
    for status in ("done", None):
        assert "free to `/claim`" not in render(State(ticket=1, status=status), NOW)
    assert "free to `/claim`" in render(State(ticket=1, status="ready"), NOW)


def test_a_pr_line_says_what_its_verification_waits_for() -> None:
    pr = LinkedPR(9, "Fix", "bob", verification="pending", reason="waiting for 1 approval")
    body = render(State(ticket=1, prs=(pr,)), NOW)
    assert "#9 Fix (open; verification: pending (waiting for 1 approval))" in body
    assert parse(body).prs == (pr,)  # type: ignore[union-attr]


def test_only_bookkeeping_is_not_a_change() -> None:
    assert same_record(FULL, replace(FULL, handled=(1, 2, 3)))
    assert not same_record(FULL, replace(FULL, notices=()))
    assert not same_record(None, FULL) and same_record(None, None)


def test_the_worst_case_is_trimmed_least_important_first() -> None:
    """Every piece at its own bound, in the characters that grow most when escaped: the
    history, checks and other PRs go before the holders' PRs and the claims."""
    worst = "<" * 2_000
    roles = tuple(f"r{i}" for i in range(10))
    holder_pr = LinkedPR(99, worst, "agent3", checks=((worst, worst),) * 40, reason=worst)
    junk = [
        LinkedPR(i, worst, "junk", checks=((f"{i}{worst}", worst),) * 40, reason=worst)
        for i in range(1, 40)
    ]
    state = State(
        ticket=1,
        status="in-progress",
        roles=roles,
        claims=tuple(Claim(r, f"agent{i}", T0, worst) for i, r in enumerate(roles)),
        prs=(*junk, holder_pr),
        done=tuple(DoneReport(r, "x", T0, worst) for r in roles),
        history=tuple(Claim("r0", "h", T0, worst, "command", ended_at=T0) for _ in range(40)),
    )
    kept, body = fit(replace(state, prs=rank_prs(state.prs, ["agent3"])), NOW)
    assert len(body) < MAX_STATUS and parse(body) == kept
    assert kept.history == () and 99 in [p.number for p in kept.prs]
    assert len(kept.prs) < MAX_PRS and len(kept.claims) == 10
