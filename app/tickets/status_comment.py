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
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.markdown import table_cell
from app.tickets.claims import Claim, format_time, parse_time
from app.tickets.messages import STATUS_MARKER, StatusLabel

VERSION = 1
MAX_BODY = 65_536
MAX_PRS = 20
MAX_CHECKS = 20
MAX_HISTORY = 20
MAX_HANDLED = 50
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


def _claim_json(c: Claim) -> dict[str, Any]:
    times = ("since", "activity_at", "warned_at", "ended_at")
    return {
        **c.__dict__,
        **{k: format_time(getattr(c, k)) if getattr(c, k) else None for k in times},
    }


def render(state: State) -> str:
    """Deterministic in `state`: rendering the same state twice gives the same body."""
    lines = [STATUS_MARKER, f"### Baton status: `{state.status or 'closed'}`", ""]
    spec = state.spec
    if spec.total:
        lines.append(f"**Spec:** {spec.checked} of {spec.total} acceptance criteria checked.")
    else:
        lines.append("**Spec:** no acceptance criteria yet.")
    lines += ["", "**Claims**", ""]
    if state.claims:
        lines += ["| role | holder | since | note |", "|---|---|---|---|"]
        for c in state.claims:
            lines.append(
                f"| {table_cell(c.role or '(unnamed)')} | @{table_cell(c.holder)} | "
                f"{format_time(c.since)} | {table_cell(c.note)} |"
            )
    else:
        lines.append("None: free to `/claim`.")
    if state.prs:
        lines += ["", "**Linked pull requests**", ""]
        for p in state.prs[:MAX_PRS]:
            checks = ", ".join(
                f"{table_cell(n)}: {table_cell(s)}" for n, s in p.checks[:MAX_CHECKS]
            )
            lines.append(
                f"- #{p.number} {table_cell(p.title)} ({p.state}{', draft' if p.draft else ''}; "
                f"verification: {p.verification or 'none'}){': ' + checks if checks else ''}"
            )
    if state.done:
        lines += ["", "**Done reports**", ""]
        for d in state.done:
            evidence = f": {table_cell(d.evidence)}" if d.evidence else ""
            lines.append(f"- {table_cell(d.role or '(unnamed)')} by @{table_cell(d.by)}{evidence}")
    payload = json.dumps(to_json(state), ensure_ascii=False)
    lines += ["", f"<!-- baton:state {_escape(payload)} -->"]
    return "\n".join(lines)


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
