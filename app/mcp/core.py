"""What the agents' tools decide, over plain data: views of tickets, claims and PRs; the command
an action writes; how Baton answered it. Pure: the shell fetches."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from app.checks.verification import Mark
from app.config import RepoConfig
from app.tickets.claims import format_time, parse_time
from app.tickets.commands import match_role
from app.tickets.messages import STATUS_MARKER, StatusLabel
from app.tickets.model import Ticket, is_ticket, parse_spec, roles_of
from app.tickets.status_comment import parse

from . import model as m

Json = dict[str, Any]
ACTIONS = ("claim", "release", "handoff", "done")
PASSING = frozenset({"success", "neutral", "skipped"})
MAX_TEXT = 300  # characters of a note or evidence Baton keeps
_STATE = re.compile(r"<!-- baton:state (\{.*?\}) -->", re.DOTALL)
_REMOTE = re.compile(
    r"^(?:[a-z+]+://)?(?:[^@/]+@)?[^:/]+(?::\d+)?[:/](?:.*/)?([^/\s]+)/([^/\s]+?)(?:\.git)?/?$"
)
_LOGIN = re.compile(r"^@?([A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?)$")
_MARKS = {mark.emoji: mark.value for mark in Mark}
_ROW = re.compile(r"^\|\s*(\S+)\s*\|\s*([^|]+?)\s*\|\s*(.*?)\s*\|\s*$")


class Refusal(ValueError):
    """Arguments Baton would refuse: the message says what to pass instead."""


# --- where we are -------------------------------------------------------------------------


def repo_from_remote(url: str) -> str | None:
    """`owner/name` from a git remote URL (https, ssh, scp-like `git@host:owner/name.git`)."""
    found = _REMOTE.match(url.strip())
    return f"{found[1]}/{found[2]}" if found else None


def valid_repo(name: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", name))


# --- the status comment -------------------------------------------------------------------


def state_of(body: str | None) -> Json | None:
    """The JSON of a status comment, as written (unknown keys kept), when Baton can read it."""
    if parse(body) is None:
        return None
    found = _STATE.findall(body or "")
    data = json.loads(found[-1])
    return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class App:
    """Baton's GitHub App as the agent can tell it: the bot account that writes the status
    comments, and the App's id (`performed_via_github_app` on them, or `BATON_APP_ID`)."""

    bot: str | None
    id: int | None = None

    def wrote(self, comment: Json) -> bool:
        """Whether the App wrote `comment` (or reacted, for a reaction): by id when GitHub
        says which App acted, else by the bot's login; any bot while neither is known."""
        user = comment.get("user") or {}
        if user.get("type") != "Bot":
            return False
        via = (comment.get("performed_via_github_app") or {}).get("id")
        if self.id is not None and via is not None:
            return bool(via == self.id)
        if self.bot is not None:
            return str(user.get("login") or "").lower() == self.bot.lower()
        return True


def is_status_comment(comment: Json, app: App | None = None) -> bool:
    """Baton's status comment: by the App (a bot while it is not known), starting with the
    marker, readable."""
    body = str(comment.get("body") or "")
    return (
        (app or App(None)).wrote(comment)
        and body.startswith(STATUS_MARKER)
        and state_of(body) is not None
    )


def status_comment(comments: Iterable[Json], app: App | None = None) -> Json | None:
    return next((c for c in comments if is_status_comment(c, app)), None)


def app_of(status: Json, known: App | None = None) -> App:
    """Baton's App after reading a status comment it wrote: what was known, completed with
    the comment's bot login and App id."""
    via = (status.get("performed_via_github_app") or {}).get("id")
    login = (status.get("user") or {}).get("login")
    found = App(str(login) if login else None, via if isinstance(via, int) else None)
    if known is None:
        return found
    return App(known.bot or found.bot, known.id if known.id is not None else found.id)


def ours(run: Json, app: App) -> bool:
    """Whether a check run is Baton's: by the App's id, else by its slug (the bot's login
    without `[bot]`), never by the run's name: a CI job may post `Baton / verification` too."""
    other = run.get("app") or {}
    if app.id is not None:
        return bool(other.get("id") == app.id)
    if app.bot is not None:
        return str(other.get("slug") or "").lower() == app.bot.lower().removesuffix("[bot]")
    return False


def latest_run(runs: Iterable[Json], name: str, app: App) -> Json | None:
    """Baton's newest run of `name` among a commit's check runs."""
    mine = [r for r in runs if r.get("name") == name and ours(r, app)]
    return max(mine, key=lambda r: int(r.get("id") or 0), default=None)


def _claims(state: Json | None) -> list[m.Claim]:
    return [
        m.Claim(role=c["role"], holder=c["holder"], since=c["since"], note=c.get("note") or "",
                source=c.get("source") or "assignment")
        for c in (state or {}).get("claims") or []
    ]  # fmt: skip


def _done(state: Json | None) -> list[m.DoneReport]:
    return [
        m.DoneReport(role=d["role"], by=d["by"], at=d.get("at") or "", evidence=d.get("evidence")
                     or "")
        for d in (state or {}).get("done") or []
    ]  # fmt: skip


def roles_view(issue: Json, state: Json | None) -> list[m.Role]:
    """Each role and its holder: from the status comment when Baton wrote one; else, for a
    ticket with one role, its assignees show the holder."""
    ticket = Ticket.from_github(issue)
    roles = list(state["roles"]) if state and state.get("roles") else list(roles_of(ticket.labels))
    held = {c.role: c for c in _claims(state)}
    out = []
    for role in roles:
        claim = held.get(role)
        holder = claim.holder if claim else None
        if state is None and len(roles) == 1 and ticket.assignees:
            holder = ticket.assignees[0].login
        out.append(
            m.Role(role=role, holder=holder, since=claim.since if claim else None,
                   note=claim.note if claim else None, free=holder is None)
        )  # fmt: skip
    return out


def status_label(labels: Iterable[str]) -> str | None:
    found = [s for s in map(StatusLabel.from_name, labels) if s is not None]
    return found[0].short if found else None


def spec_view(issue: Json, config: RepoConfig) -> tuple[m.Spec, list[m.Criterion]]:
    spec = parse_spec(issue.get("body"), config.tickets.criteria_heading)
    items = [m.Criterion(text=c.text, checked=c.checked) for c in spec.items]
    return m.Spec(ready=spec.ready, checked=spec.checked, total=spec.total), items


def labels(issue: Json) -> list[str]:
    return list(Ticket.from_github(issue).labels)


def ticket_summary(issue: Json, config: RepoConfig, state: Json | None) -> m.TicketSummary:
    roles = roles_view(issue, state)
    spec, _ = spec_view(issue, config)
    return m.TicketSummary(
        number=int(issue["number"]), title=str(issue.get("title") or ""),
        url=str(issue.get("html_url") or ""), status=status_label(labels(issue)), spec=spec,
        roles=roles, free_roles=[r.role for r in roles if r.free],
    )  # fmt: skip


def needs_roles(issue: Json) -> bool:
    """Whether the listing alone cannot tell who holds which role: several roles, assigned."""
    ticket = Ticket.from_github(issue)
    return len(roles_of(ticket.labels)) > 1 and bool(ticket.assignees)


def listed(
    summary: m.TicketSummary, role: str | None, free_only: bool
) -> bool:
    """list_tickets' filters: a role of that name; free: specified, open for work, a role free."""
    roles = [r for r in summary.roles if role is None or r.role.lower() == role.strip().lower()]
    if not roles:
        return False
    if free_only:
        claimable = summary.status in (None, "ready", "in-progress") and summary.spec.ready
        return claimable and any(r.free for r in roles)
    return True


def tickets_of(issues: Iterable[Json], config: RepoConfig) -> list[Json]:
    return [i for i in issues if is_ticket(Ticket.from_github(i), config)]


# --- what a ticket and its PRs wait for ---------------------------------------------------


def ticket_waits(state: Json | None) -> list[str]:
    """What the ticket itself waits for before a linked PR can pass: criteria and /done."""
    if state is None:
        return ["Baton has not written this ticket's status comment yet"]
    out = []
    spec = state.get("spec") or {}
    if not spec.get("total"):
        out.append("acceptance criteria in the ticket's description")
    elif spec.get("checked", 0) < spec["total"]:
        out.append(f"criteria ticked: {spec.get('checked', 0)} of {spec['total']}")
    done = {d.get("role") for d in state.get("done") or []}
    missing = [r or "the ticket" for r in state.get("roles") or [""] if r not in done]
    if missing:
        out.append("/done from " + ", ".join(missing))
    if not any(p.get("state") == "open" for p in state.get("prs") or []):
        out.append("an open pull request that links the ticket (`Fixes #N`)")
    return out


def pr_view(pr: Json, gate: m.Gate | None = None) -> m.PullRequest:
    """A linked PR as the status comment records it; `gate`: its verification, when read."""
    checks = {str(k): str(v) for k, v in (pr.get("checks") or {}).items()}
    waits: list[str] = []
    state, verification = str(pr.get("state") or "open"), pr.get("verification")
    if gate is not None:
        waits = [f"{c.name}: {c.detail}" for c in gate.conditions if c.mark != "pass"]
    elif pr.get("reason"):  # the gate's title, as Baton records it on the ticket
        waits = [str(pr["reason"])]
    elif state == "open" and verification != "success":
        if pr.get("draft"):
            waits.append("the PR is a draft: mark it ready for review")
        waits += [f"check {n}: {s}" for n, s in checks.items() if s not in PASSING]
        if not waits:
            waits.append("`Baton / verification` (get_ticket shows its conditions)")
    return m.PullRequest(
        number=int(pr["number"]), title=str(pr.get("title") or ""),
        author=str(pr.get("author") or ""), state=state, draft=bool(pr.get("draft")),
        verification=verification, checks=checks, waiting_for=waits, gate=gate,
    )  # fmt: skip


def gate_of(run: Json) -> m.Gate:
    """The `Baton / verification` check run: its conditions from the summary's table rows."""
    output = run.get("output") or {}
    rows = []
    for line in str(output.get("summary") or "").splitlines():
        row = _ROW.match(line)
        if row and row[1] in _MARKS:
            detail = row[3].replace("\\|", "|")
            rows.append(m.Condition(name=row[2], mark=_MARKS[row[1]], detail=detail))  # type: ignore[arg-type]
    return m.Gate(
        status=str(run.get("status") or ""), conclusion=run.get("conclusion"),
        title=str(output.get("title") or ""), conditions=rows, url=run.get("html_url"),
    )  # fmt: skip


# --- actions: the command an agent writes, and how Baton answered -------------------------


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())[:MAX_TEXT]


def resolve_role(role: str | None, issue: Json) -> str | None:
    """The ticket's spelling of `role`, None when not given; Refusal when it has no such role."""
    if role is None or not role.strip():
        return None
    roles = roles_of(labels(issue))
    found = match_role(role, roles)
    if found is None:
        named = ", ".join(f"`{r}`" for r in roles if r) or "none: it has one unnamed role"
        raise Refusal(
            f"role unknown: #{issue['number']} has no role `{role}`. Its roles: {named}. "
            "Pass one of them, or no role."
        )
    return found


def command(
    action: str, role: str | None, note: str | None, to: str | None, evidence: str | None
) -> str:
    """The comment that asks Baton for `action` (SPEC 5's commands), one line."""
    if action not in ACTIONS:
        raise Refusal(f"action must be one of {', '.join(ACTIONS)}, not `{action}`.")
    parts = [f"/{action}"]
    if action == "handoff":
        login = _LOGIN.match((to or "").strip())
        if not login:
            raise Refusal("handoff needs `to`: the GitHub login to hand the claim to.")
        parts.append(f"@{login[1]}")
    if role:
        parts.append(role)
    text = _one_line(evidence if action == "done" else note if action != "release" else "")
    if text:
        parts += ["--", text]
    return " ".join(parts)


def second_before(stamp: str) -> str:
    """`since` for the replies to a comment made at `stamp`: a second earlier, as GitHub's
    `since` compares whole seconds and Baton may answer within the same one."""
    when = parse_time(stamp)
    return format_time(when - timedelta(seconds=1)) if when else ""


def target(to: str | None) -> str:
    return (to or "").strip().lstrip("@")


def handled(state: Json | None, comment_id: int) -> bool:
    """Whether Baton has handled the command comment: it records the ids it applied."""
    return bool(state) and comment_id in (state.get("handled") or [])  # type: ignore[union-attr]


# Baton's acknowledgement of a command, a reaction on its comment (SPEC 5), strongest last.
ACKNOWLEDGEMENTS: dict[str, m.Outcome] = {"+1": "accepted", "confused": "wrong-usage",
                                          "-1": "refused"}  # fmt: skip


def maybe_acknowledged(comment: Json | None) -> bool:
    """Whether a comment's reaction rollup holds a reaction Baton acknowledges with (anyone's:
    the reactions themselves say whose)."""
    rollup = (comment or {}).get("reactions") or {}
    return any(int(rollup.get(content) or 0) > 0 for content in ACKNOWLEDGEMENTS)


def acknowledgement(reactions: Iterable[Json], app: App | None) -> m.Outcome | None:
    """Baton's answer to a command comment, from the comment's reactions: the App's own (any
    bot's while the App is not known), the strongest when there are several."""
    order = list(ACKNOWLEDGEMENTS)
    found = [str(r.get("content")) for r in reactions
             if r.get("content") in ACKNOWLEDGEMENTS and (app or App(None)).wrote(r)]  # fmt: skip
    return ACKNOWLEDGEMENTS[max(found, key=order.index)] if found else None


QUIET = 1.0  # seconds: an accepted action the state already shows, if no rewrite comes
SETTLE = 5.0  # seconds after Baton's reaction its status comment may take, at most


def still_wait(
    outcome: m.Outcome, action: str, me: str, role: str | None, to: str | None,
    comment_id: int, state: Json | None, replies: Sequence[str],
) -> float:  # fmt: skip
    """How long after Baton's reaction the state read may still be behind. Baton reacts
    before it rewrites the status comment, and does not rewrite it when nothing visible
    changes: the state is current once it records the comment, or (refused) once Baton's
    reply is there; an accepted action it already shows may still get a fresher note or
    evidence, so a moment more."""
    if state is not None and handled(state, comment_id):
        return 0.0
    if outcome != "accepted":
        return 0.0 if replies else SETTLE
    if state is not None and judge(action, me, role, to, comment_id, state):
        return QUIET
    return SETTLE


def judge(
    action: str, me: str, role: str | None, to: str | None, comment_id: int, state: Json
) -> bool:
    """Whether the state shows the action done (after Baton handled the comment)."""
    me_key = me.lower()
    claims = _claims(state)

    def holds(login: str) -> list[m.Claim]:
        return [c for c in claims if c.holder.lower() == login.lower()
                and (role is None or c.role == role)]  # fmt: skip

    if action == "claim":
        return bool(holds(me))
    if action == "release":
        return not holds(me)
    if action == "handoff":
        return bool(holds(target(to)))
    reports = (state.get("done") or [])
    return any(
        d.get("ref") == comment_id
        or (d.get("by", "").lower() == me_key and (role is None or d.get("role") == role))
        for d in reports
    )


def replies(comments: Sequence[Json], me: str, after: int, bot: str | None) -> list[str]:
    """Baton's replies to the agent after its comment: they say why something was refused."""
    mention = f"@{me.lower()}"
    out = []
    for c in comments:
        body = str(c.get("body") or "")
        author = (c.get("user") or {}).get("login")
        if int(c.get("id") or 0) <= after or body.startswith(STATUS_MARKER):
            continue
        if (bot is None or author == bot) and (
            mention in body.lower() or "Baton commands (each at the start" in body
        ):
            out.append(body)
    return out


def held_by(state: Json, role: str | None, me: str) -> m.Claim | None:
    """For a refused claim: the claim in the way (on that role, else any not the agent's)."""
    for c in _claims(state):
        if (role is None or c.role == role) and c.holder.lower() != me.lower():
            return c
    return None


def claims_of(state: Json | None) -> list[m.Claim]:
    return _claims(state)


def done_of(state: Json | None) -> list[m.DoneReport]:
    return _done(state)
