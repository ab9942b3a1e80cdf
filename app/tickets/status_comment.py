"""The status comment: one per ticket, edited in place; markdown for people, JSON for agents.

The body starts with `<!-- baton:status -->` and ends with the state as JSON inside
`<!-- baton:state ... -->`. Inside the JSON the second `-` of any `--`, and `<`, `>`, are
written `\\u002d`, `\\u003c`, `\\u003e`, so the comment cannot end early; any JSON parser reads
them back.

State schema, version 1 (times are UTC, `YYYY-MM-DDTHH:MM:SSZ`; the unnamed role is `""`):

    {
      "version": 1,
      "ticket": 42,                               # issue number
      "status": "in-progress",  # needs-spec | ready | in-progress | validation | done | null
      "spec": {"has_heading": true, "checked": 1, "total": 3},
      "roles": ["backend", "frontend"],           # [""] when the ticket has no role labels
      "claims": [{
        "role": "backend", "holder": "octocat", "since": "2026-01-02T03:04:05Z",
        "note": "taking the API", "source": "assignment" | "command",
        "override": false,                        # made by a handoff
        "pinned": false,                          # the role was named explicitly
        "ref": 123,                               # id of the issue event or comment
        "activity_at": "..." | null,              # last activity of the holder
        "warned_at": "..." | null,                # stale warning posted at
        "ticket": 42,                             # the issue number
        "ended_at": null                          # set in "history" only
      }],
      "history": [...],                           # ended claims made by commands, as above,
                                                  # replayed so late deliveries decide alike
      "prs": [{"number": 7, "title": "...", "author": "octocat",
               "state": "open" | "closed" | "merged", "draft": false,
               "verification": "success" | "failure" | "pending" | null,
               "reason": "waiting for a review",  # what the verification waits for
               "checks": {"ci / test": "success"}}],
      "done": [{"role": "backend", "by": "octocat", "at": "...", "evidence": "...", "ref": 456}],
      "notices": ["needs-spec"],                  # one-off comments already posted
      "handled": [123, 456]                       # ids of the last 50 comments whose commands
                                                  # were applied: a redelivery does not repeat
    }

Readers must ignore unknown keys; a new incompatible shape gets a new `version`.

Every piece is bounded (notes, titles, check names per PR, history, done reports, PRs kept by
importance: the claim holders' and open ones first), and `fit` trims the least important
pieces further until the whole comment is under MAX_STATUS characters, whatever users wrote.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from app.markdown import inert
from app.tickets.claims import MAX_NOTE, Claim, format_time, parse_time
from app.tickets.messages import STATUS_MARKER, StatusLabel, ago

VERSION = 1
MAX_BODY = 65_536  # GitHub's limit on a comment
MAX_STATUS = 60_000  # ours on the status comment, whatever users write (SPEC 5)
MAX_PRS = 20
MAX_CHECKS = 10  # check runs kept per PR
MAX_NAME = 60  # characters of a check name, a role, a login
MAX_TITLE = 120
MAX_REASON = 200
MAX_HISTORY = 20
MAX_HANDLED = 50
MAX_NOTICES = 10
MAX_DONE = 10
_STATE = re.compile(r"<!-- baton:state (\{.*?\}) -->", re.DOTALL)


@dataclass(frozen=True)
class SpecSummary:
    has_heading: bool = False
    checked: int = 0
    total: int = 0


@dataclass(frozen=True)
class LinkedPR:
    number: int
    title: str = ""
    author: str = ""
    state: str = "open"  # open | closed | merged
    draft: bool = False
    verification: str | None = None  # conclusion of `Baton / verification`
    checks: tuple[tuple[str, str], ...] = ()  # (check run name, status or conclusion)
    reason: str = ""  # what the verification waits for, or why it failed

    @property
    def ready_for_review(self) -> bool:
        return self.state == "open" and not self.draft

    @property
    def verified_merge(self) -> bool:
        return self.state == "merged" and self.verification == "success"


@dataclass(frozen=True)
class DoneReport:
    role: str
    by: str
    at: datetime
    evidence: str = ""
    ref: int = 0


@dataclass(frozen=True)
class State:
    ticket: int
    status: str | None = None
    spec: SpecSummary = field(default_factory=SpecSummary)
    roles: tuple[str, ...] = ("",)
    claims: tuple[Claim, ...] = ()
    prs: tuple[LinkedPR, ...] = ()
    done: tuple[DoneReport, ...] = ()
    notices: tuple[str, ...] = ()
    history: tuple[Claim, ...] = ()
    handled: tuple[int, ...] = ()  # comment ids, oldest first
    version: int = VERSION


def to_json(state: State) -> dict[str, Any]:
    def when(value: Any) -> str | None:
        return format_time(value) if value else None

    return {
        "version": VERSION,
        "ticket": state.ticket,
        "status": state.status,
        "spec": state.spec.__dict__,
        "roles": list(state.roles),
        "claims": [_claim_json(c) for c in state.claims],
        "prs": [{**p.__dict__, "checks": dict(p.checks)} for p in state.prs[:MAX_PRS]],
        "done": [{**d.__dict__, "at": when(d.at)} for d in state.done],
        "notices": list(state.notices),
        "history": [_claim_json(c) for c in state.history[-MAX_HISTORY:]],
        "handled": list(state.handled[-MAX_HANDLED:]),
    }


def same_record(a: State | None, b: State | None) -> bool:
    """Whether two states differ at most in bookkeeping (the handled comment ids): then the
    status comment is not edited for the difference alone."""
    if a is None or b is None:
        return a is b
    return to_json(replace(a, handled=())) == to_json(replace(b, handled=()))


def _claim_json(c: Claim) -> dict[str, Any]:
    times = ("since", "activity_at", "warned_at", "ended_at")
    return {
        **c.__dict__,
        **{k: format_time(getattr(c, k)) if getattr(c, k) else None for k in times},
    }


def rank_prs(prs: Collection[LinkedPR], holders: Collection[str]) -> tuple[LinkedPR, ...]:
    """The MAX_PRS that matter most, by number: the claim holders' first, then a verified
    merge (it makes the ticket done), then open ones, newest first; so junk PRs that link a
    ticket cannot push its holder's PR out of the state."""
    keys = {h.lower() for h in holders}
    order = {"open": 1, "merged": 2}

    def importance(p: LinkedPR) -> tuple[int, int, int]:
        stage = 0 if p.verified_merge else order.get(p.state, 3)
        return (p.author.lower() not in keys, stage, -p.number)

    return tuple(sorted(sorted(prs, key=importance)[:MAX_PRS], key=lambda p: p.number))


def _pr_bounded(p: LinkedPR, checks: int = MAX_CHECKS, title: int = MAX_TITLE) -> LinkedPR:
    return replace(
        p,
        title=p.title[:title],
        author=p.author[:MAX_NAME],
        verification=None if p.verification is None else p.verification[:20],
        checks=tuple((n[:MAX_NAME], v[:20]) for n, v in p.checks[:checks]),
        reason=p.reason[:MAX_REASON],
    )


def bounded(state: State) -> State:
    """Every piece within its own bound."""
    return replace(
        state,
        claims=tuple(replace(c, note=c.note[:MAX_NOTE]) for c in state.claims),
        prs=tuple(_pr_bounded(p) for p in state.prs[:MAX_PRS]),
        done=tuple(replace(d, evidence=d.evidence[:MAX_NOTE]) for d in state.done[-MAX_DONE:]),
        notices=state.notices[-MAX_NOTICES:],
        history=state.history[-MAX_HISTORY:],
        handled=state.handled[-MAX_HANDLED:],
    )


def _trims(state: State) -> list[Callable[[State], State]]:
    """Ways to make the state smaller, least important first."""
    holders = {c.key for c in state.claims}

    def keep_prs(count: int) -> Callable[[State], State]:
        def trim(s: State) -> State:
            mine = [p for p in s.prs if p.author.lower() in holders]
            others = [p for p in rank_prs(s.prs, holders) if p not in mine]
            return replace(s, prs=rank_prs([*mine, *others[:count]], holders))

        return trim

    return [
        lambda s: replace(s, history=()),
        lambda s: replace(s, prs=tuple(replace(p, checks=p.checks[:3]) for p in s.prs)),
        lambda s: replace(s, prs=tuple(replace(p, reason=p.reason[:60]) for p in s.prs)),
        keep_prs(10),
        keep_prs(3),
        lambda s: replace(s, prs=tuple(_pr_bounded(p, 0, 40) for p in s.prs)),
        lambda s: replace(s, done=tuple(replace(d, evidence=d.evidence[:80]) for d in s.done)),
        lambda s: replace(s, claims=tuple(replace(c, note=c.note[:80]) for c in s.claims)),
        keep_prs(0),
    ]


def fit(state: State, now: datetime) -> tuple[State, str]:
    """The bounded state and its rendering, trimmed until under MAX_STATUS characters."""
    state = bounded(state)
    body = render(state, now)
    for trim in _trims(state):
        if len(body) < MAX_STATUS:
            break
        state = trim(state)
        body = render(state, now)
    return state, body


def _since(when: datetime, now: datetime) -> str:
    return ago((now - when).total_seconds())


def render(state: State, now: datetime) -> str:
    """What people read, then the state for agents. Deterministic in (state, now); times are
    relative to `now` here and exact (UTC) in the JSON."""
    lines = [STATUS_MARKER, f"### Baton status: `{state.status or 'closed'}`", ""]
    spec = state.spec
    if spec.total:
        lines.append(f"**Spec:** {spec.checked} of {spec.total} acceptance criteria checked.")
    else:
        lines.append("**Spec:** no acceptance criteria yet.")
    lines += ["", "**Claims**", ""]
    named = any(state.roles)
    if state.claims:
        head = ["role"] if named else []
        lines += ["| " + " | ".join([*head, "holder", "since", "note"]) + " |"]
        lines += ["|" + "---|" * (len(head) + 3)]
        for c in state.claims:
            role = [inert(c.role, MAX_NAME)] if named else []
            cells = [*role, inert("@" + c.holder, MAX_NAME), _since(c.since, now), inert(c.note)]
            lines.append("| " + " | ".join(cells) + " |")
    elif state.status in (None, StatusLabel.DONE.short):
        lines.append("None.")
    else:
        lines.append("None: free to `/claim`.")
    if state.prs:
        lines += ["", "**Linked pull requests**", ""]
        for p in state.prs[:MAX_PRS]:
            lines.append(_pr_line(p))
    if state.done:
        lines += ["", "**Done reports**", ""]
        for d in state.done:
            done_role = inert(d.role, MAX_NAME) if d.role else "the ticket"
            evidence = f": {inert(d.evidence)}" if d.evidence else ""
            by = inert("@" + d.by, MAX_NAME)
            lines.append(f"- {done_role} by {by}, {_since(d.at, now)}{evidence}")
    payload = json.dumps(to_json(state), ensure_ascii=False)
    lines += ["", f"<!-- baton:state {_escape(payload)} -->"]
    return "\n".join(lines)


def _pr_line(p: LinkedPR) -> str:
    state = p.state + (", draft" if p.draft else "")
    verdict = f"verification: {inert(p.verification or 'none', 20)}"
    if p.reason:
        verdict += f" ({inert(p.reason, MAX_REASON)})"
    checks = ", ".join(f"{inert(n, MAX_NAME)}: {inert(v, 20)}" for n, v in p.checks[:MAX_CHECKS])
    line = f"- #{p.number} {inert(p.title, MAX_TITLE)} ({state}; {verdict})"
    return line + (f"; checks: {checks}" if checks else "")


def _escape(payload: str) -> str:
    # Outside strings JSON has no `-` runs, `<` or `>`; inside them these escapes decode back.
    escaped = payload.replace("--", "-\\u002d")  # non-overlapping: no `--` survives
    return escaped.replace("<", "\\u003c").replace(">", "\\u003e")


def parse(body: str | None) -> State | None:
    """The state in a status comment, or None when absent, malformed or from another version."""
    if not body or len(body) > 2 * MAX_BODY or not body.lstrip().startswith(STATUS_MARKER):
        return None
    found = _STATE.findall(body)
    if not found:
        return None
    try:
        data = json.loads(found[-1])
        return _from_json(data)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def _from_json(data: Mapping[str, Any]) -> State | None:
    if data.get("version") != VERSION:
        return None
    status = data.get("status")
    if status is not None and StatusLabel.from_name(_str(status)) is None:
        raise ValueError("status")
    spec = data.get("spec") or {}
    return State(
        ticket=_int(data["ticket"]),
        status=status,
        spec=SpecSummary(
            bool(spec.get("has_heading")), _int(spec.get("checked", 0)), _int(spec.get("total", 0))
        ),
        roles=tuple(_str(r) for r in data.get("roles") or [""]),
        claims=tuple(_claim(c) for c in data.get("claims") or []),
        prs=tuple(_pr(p) for p in (data.get("prs") or [])[:MAX_PRS]),
        done=tuple(
            DoneReport(
                _str(d["role"]),
                _str(d["by"]),
                _time(d["at"]),
                _str(d.get("evidence", "")),
                _int(d.get("ref", 0)),
            )
            for d in data.get("done") or []
        ),
        notices=tuple(_str(n) for n in data.get("notices") or []),
        history=tuple(_claim(c) for c in (data.get("history") or [])[-MAX_HISTORY:]),
        handled=tuple(_int(i) for i in (data.get("handled") or [])[-MAX_HANDLED:]),
    )


def _claim(c: Mapping[str, Any]) -> Claim:
    source = c.get("source", "assignment")
    if source not in ("assignment", "command"):
        raise ValueError("source")
    return Claim(
        role=_str(c["role"]),
        holder=_str(c["holder"]),
        since=_time(c["since"]),
        note=_str(c.get("note", "")),
        source=source,
        override=bool(c.get("override")),
        pinned=bool(c.get("pinned")),
        ref=_int(c.get("ref", 0)),
        activity_at=_time(c["activity_at"]) if c.get("activity_at") else None,
        warned_at=_time(c["warned_at"]) if c.get("warned_at") else None,
        ticket=_int(c.get("ticket", 0)),
        ended_at=_time(c["ended_at"]) if c.get("ended_at") else None,
    )


def _pr(p: Mapping[str, Any]) -> LinkedPR:
    checks = p.get("checks") or {}
    if not isinstance(checks, dict):
        raise ValueError("checks")
    verification = p.get("verification")
    return LinkedPR(
        number=_int(p["number"]),
        title=_str(p.get("title", "")),
        author=_str(p.get("author", "")),
        state=_str(p.get("state", "open")),
        draft=bool(p.get("draft")),
        verification=None if verification is None else _str(verification),
        checks=tuple((_str(k), _str(v)) for k, v in list(checks.items())[:MAX_CHECKS]),
        reason=_str(p.get("reason", "")),
    )


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("expected an integer")
    return value


def _time(value: Any) -> datetime:
    parsed = parse_time(value)
    if parsed is None:
        raise ValueError("expected a time")
    return parsed
