"""Tickets and claims shell (SPEC 4, 5): fetch a ticket's state, plan with the core, apply.

The status comment's id and body are cached per (repo, number) in the dispatcher's shared cache:
only the app writes that comment, each write refreshes the copy from GitHub's answer, a failed
write or an edit by someone else drops it, and a restart starts from GitHub again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from gidgethub import BadRequest, routing, sansio

from app.claims import Actor, AssignmentEvent, WorkItem, parse_time
from app.commands import CommandEvent, from_comment
from app.config import RepoConfig
from app.dispatch import Context
from app.github import is_not_found
from app.linking import linked_tickets
from app.messages import STATUS_MARKER, StatusLabel
from app.status_comment import LinkedPR
from app.ticket_plan import Plan, plan
from app.tickets import Ticket, is_ticket

log = logging.getLogger(__name__)
router = routing.Router()

Json = dict[str, Any]
MAX_ITEMS = 2_000  # per listing (events, comments, open claims, swept tickets)
MAX_LINKED = 20  # tickets one PR comment or push reaches
LOOKUP_ROUNDS = 3
EVENT_WAITS = (0.5, 2.0)  # seconds, for an assignment GitHub does not list yet
CLAIM_COMMANDS = frozenset({"claim", "release", "handoff", "done"})
NO_TICKET = (
    "{who}, this pull request links no ticket, so `/{name}` has nothing to act on. "
    "Link one in its description with `Fixes #N` or `Refs #N`, or comment on the ticket."
)

# One plan at a time per ticket in this process: PR comments and PR news reach a ticket
# outside the delivery queue's per-issue order.
_locks: weakref.WeakValueDictionary[tuple[str, int], asyncio.Lock] = weakref.WeakValueDictionary()


def _lock(repo: str, number: int) -> asyncio.Lock:
    return _locks.setdefault((repo.lower(), number), asyncio.Lock())


async def _list(ctx: Context, url: str, url_vars: Mapping[str, Any] | None = None) -> list[Json]:
    items: list[Json] = []
    async for item in ctx.gh.getiter(url, url_vars or {}):
        items.append(item)
        if len(items) >= MAX_ITEMS:
            log.warning("%s: %s listed more than %d items; using those", ctx.repo, url, MAX_ITEMS)
            break
    return items


# --- the status comment, cached -----------------------------------------------------------


def _key(ctx: Context, number: int) -> str:
    return f"baton-status:{ctx.repo.lower()}#{number}"


def _remember(ctx: Context, number: int, comment: Json) -> None:
    data = {"id": int(comment["id"]), "body": str(comment.get("body") or "")}
    ctx.blobs[_key(ctx, number)] = json.dumps(data).encode()


async def _status(ctx: Context, number: int, issue: Json) -> tuple[int | None, str | None]:
    """(id, body) of the app's status comment on the ticket, or (None, None)."""
    cached = ctx.blobs.get(_key(ctx, number))
    if cached is not None:
        data = json.loads(cached)
        return int(data["id"]), str(data["body"])
    if not issue.get("comments"):  # no comments at all: no need to list them
        return None, None
    for c in await _list(ctx, f"/repos/{ctx.repo}/issues/{number}/comments?per_page=100"):
        body = str(c.get("body") or "")
        if (c.get("user") or {}).get("login") == ctx.bot_login and body.startswith(STATUS_MARKER):
            _remember(ctx, number, c)
            return int(c["id"]), body
    return None, None


async def _save_status(ctx: Context, number: int, comment_id: int | None, body: str) -> None:
    ctx.blobs.pop(_key(ctx, number), None)  # until GitHub confirms the new body
    saved = None
    if comment_id is not None:
        try:
            url = f"/repos/{ctx.repo}/issues/comments/{comment_id}"
            saved = await ctx.gh.patch(url, data={"body": body})
        except BadRequest as exc:
            if not is_not_found(exc):
                raise
            log.warning("%s#%d: the status comment was deleted; posting it again", ctx.repo, number)
    if saved is None:
        saved = await ctx.gh.post(
            f"/repos/{ctx.repo}/issues/{number}/comments", data={"body": body}
        )
    _remember(ctx, number, saved)


# --- lookups ------------------------------------------------------------------------------


async def _events(ctx: Context, number: int) -> list[AssignmentEvent]:
    items = await _list(ctx, f"/repos/{ctx.repo}/issues/{number}/events?per_page=100")
    return [e for e in map(AssignmentEvent.from_github, items) if e is not None]


async def _permission(ctx: Context, login: str) -> str:
    url = f"/repos/{ctx.repo}/collaborators/{{user}}/permission"
    try:
        data = await ctx.gh.getitem(url, {"user": login})
    except BadRequest as exc:
        if is_not_found(exc):  # not a user GitHub knows
            return "none"
        raise
    return str(data.get("permission") or "none")


async def _assigned_to(ctx: Context, login: str) -> list[Json]:
    """The open issues (and PRs) assigned to `login`: an agent's claims, from one listing."""
    url = f"/repos/{ctx.repo}/issues{{?assignee,state,per_page}}"
    return await _list(ctx, url, {"assignee": login, "state": "open", "per_page": 100})


def _work(items: Sequence[Json], config: RepoConfig) -> list[WorkItem]:
    tickets = [i for i in items if is_ticket(Ticket.from_github(i), config)]
    return [WorkItem(int(i["number"]), str(i.get("title") or "")) for i in tickets]


async def _decide(ctx: Context, ticket: Ticket, config: RepoConfig, inputs: Json) -> Plan:
    """Plan, look up what the plan asks for, plan again (a few rounds at most). `inputs`: the
    plan's keyword arguments; the lookups are added to its `permissions` and `workloads`."""
    permissions, workloads = inputs["permissions"], inputs["workloads"]
    for _ in range(LOOKUP_ROUNDS + 1):
        result = plan(ticket, config, app_login=ctx.bot_login, **inputs)
        if not result.needs:
            return result
        for login in sorted(result.needs.permissions - permissions.keys()):
            permissions[login] = await _permission(ctx, login)
        for login in sorted(result.needs.workloads - workloads.keys()):
            workloads[login] = _work(await _assigned_to(ctx, login), config)
    raise RuntimeError(f"{ctx.repo}#{ticket.number}: the plan kept asking for lookups")


# --- one ticket: fetch, plan, apply --------------------------------------------------------


async def _labels_exist(ctx: Context, names: Sequence[str], present: Sequence[str]) -> None:
    """Create status labels with their colours on first use; known ones are remembered."""
    key = f"baton-labels:{ctx.repo.lower()}"
    known = set((ctx.blobs.get(key) or b"").decode().split("\n")) | {n.lower() for n in present}
    for name in names:
        status = StatusLabel.from_name(name)
        if status is None or name.lower() in known:
            continue
        try:
            await ctx.gh.post(
                f"/repos/{ctx.repo}/labels",
                data={"name": name, "color": status.color, "description": status.description},
            )
        except BadRequest as exc:
            if exc.status_code != 422:  # 422: it exists already
                raise
        known.add(name.lower())
    ctx.blobs[key] = "\n".join(sorted(known - {""})).encode()


async def _apply(ctx: Context, ticket: Ticket, p: Plan, status_id: int | None) -> None:
    """In order: reopen, comments, assignees, labels, and the status comment last (it records
    which notices were posted: a crash before it re-posts rather than loses)."""
    base = f"/repos/{ctx.repo}/issues/{ticket.number}"
    if p.reopen:
        await ctx.gh.patch(base, data={"state": "open"})
    for body in p.comments:
        await ctx.gh.post(base + "/comments", data={"body": body})
    if p.remove_assignees:
        await ctx.gh.delete(base + "/assignees", data={"assignees": list(p.remove_assignees)})
    if p.add_assignees:
        await ctx.gh.post(base + "/assignees", data={"assignees": list(p.add_assignees)})
    if p.add_labels:
        await _labels_exist(ctx, p.add_labels, ticket.labels)
        await ctx.gh.post(base + "/labels", data={"labels": list(p.add_labels)})
    for name in p.remove_labels:
        try:
            await ctx.gh.delete(base + "/labels/{name}", {"name": name})
        except BadRequest as exc:
            if not is_not_found(exc):  # already gone
                raise
    if p.status_comment is not None:
        await _save_status(ctx, ticket.number, status_id, p.status_comment)


async def _refresh(
    ctx: Context,
    number: int,
    config: RepoConfig,
    *,
    commands: Sequence[CommandEvent] = (),
    activity: Mapping[str, datetime] | None = None,
    prs: Sequence[LinkedPR] | None = None,
    unlink: Sequence[int] = (),
    agent: str | None = None,
    holder: str | None = None,
    close_verified: bool = False,
) -> None:
    """Bring one ticket to its desired state. `agent`: an agent just assigned, whose open
    claims are listed first (the listing also holds this issue, saving its GET). `holder`:
    stop unless this login is assigned (activity that matters only to holders)."""
    base = f"/repos/{ctx.repo}/issues/{number}"
    async with _lock(ctx.repo, number):
        inputs: Json = {"commands": commands, "activity": activity, "prs": prs}
        inputs.update(unlink_prs=unlink, permissions={}, workloads={}, now=ctx.clock())
        issue = None
        if agent is not None:
            listed = await _assigned_to(ctx, agent)
            inputs["workloads"][agent.lower()] = _work(listed, config)
            issue = next((i for i in listed if i.get("number") == number), None)
        issue = issue or await ctx.gh.getitem(base)
        ticket = Ticket.from_github(issue)
        if not is_ticket(ticket, config) or (
            holder is not None and holder.lower() not in {a.key for a in ticket.assignees}
        ):
            return
        status_id, inputs["status_body"] = await _status(ctx, number, issue)
        # No assignees and no status comment: no claim, current or past, for events to order.
        skip_events = not ticket.assignees and status_id is None
        inputs["events"] = [] if skip_events else await _events(ctx, number)
        result = await _decide(ctx, ticket, config, inputs)
        for wait in EVENT_WAITS:
            if not result.incomplete:
                break
            await asyncio.sleep(wait)
            inputs["events"] = await _events(ctx, number)
            result = await _decide(ctx, ticket, config, inputs)
        if close_verified and ticket.state == "open" and any(p.verified_merge for p in prs or ()):
            closed = await ctx.gh.patch(base, data={"state": "closed", "state_reason": "completed"})
            ticket = Ticket.from_github(closed)
            result = await _decide(ctx, ticket, config, inputs)
        if not result.empty:
            log.info("%s#%d: labels +%s -%s, assignees +%s -%s, %d comments", ctx.repo, number,
                     result.add_labels, result.remove_labels, result.add_assignees,
                     result.remove_assignees, len(result.comments))  # fmt: skip
        await _apply(ctx, ticket, result, status_id)


async def refresh_ticket(
    ctx: Context, number: int, pr: LinkedPR | None = None, *, unlink: Sequence[int] = ()
) -> None:
    """PR news for a ticket: the PR is merged into the stored ones (by number); a merged PR
    whose verification passed closes the ticket as done. `unlink`: PRs that no longer link it."""
    prs = [pr] if pr is not None else None
    verified = pr is not None and pr.verified_merge
    await _refresh(ctx, number, await ctx.config(), prs=prs, unlink=unlink, close_verified=verified)


# --- routes -------------------------------------------------------------------------------


async def on_issue(event: sansio.Event, ctx: Context) -> None:
    issue = event.data["issue"]
    config = await ctx.config()
    if not is_ticket(Ticket.from_github(issue), config):  # e.g. without `tickets.label`
        return
    agent = None
    if event.data["action"] == "assigned":
        who = Actor.from_github(event.data.get("assignee"))
        agent = who.login if who and config.is_agent(who.login, who.type) else None
    await _refresh(ctx, int(issue["number"]), config, agent=agent)


ISSUE_ACTIONS = ("opened", "edited", "reopened", "closed", "assigned", "unassigned", "labeled")
for _action in (*ISSUE_ACTIONS, "unlabeled"):
    router.add(on_issue, "issues", action=_action)


@router.register("issue_comment", action="created")
async def on_comment(event: sansio.Event, ctx: Context) -> None:
    """Commands, and the holder's activity; on a PR, for each ticket it links."""
    comment, issue = event.data["comment"], event.data["issue"]
    actor = Actor.from_github(comment.get("user"))
    if actor is None:
        return
    when = parse_time(comment.get("created_at")) or ctx.clock()
    config = await ctx.config()
    activity = {actor.login: when}
    number, cid, body = int(issue["number"]), int(comment["id"]), comment.get("body")
    if "pull_request" not in issue:
        commands = from_comment(body, actor, when, cid)
        assignees = {a.key for a in map(Actor.from_github, issue.get("assignees") or []) if a}
        if commands or actor.key in assignees:
            await _refresh(ctx, number, config, commands=commands, activity=activity)
        return
    commands = from_comment(body, actor, when, cid, pr=number)
    tickets = linked_tickets(issue.get("title") or "", issue.get("body"), ctx.repo)[:MAX_LINKED]
    holder = None if commands else actor.login
    for ticket in tickets:
        await _refresh(ctx, ticket, config, commands=commands, activity=activity, holder=holder)
    asked = [c.command.name for c in commands if c.command.name in CLAIM_COMMANDS]
    if asked and not tickets:
        text = NO_TICKET.format(who=f"@{actor.login}", name=asked[0])
        await ctx.gh.post(f"/repos/{ctx.repo}/issues/{number}/comments", data={"body": text})


@router.register("issue_comment", action="edited")
@router.register("issue_comment", action="deleted")
async def on_comment_changed(event: sansio.Event, ctx: Context) -> None:
    """Someone else edited or deleted our status comment: drop the cached copy. Edited
    commands are not run again."""
    number = int(event.data["issue"]["number"])
    cached = ctx.blobs.get(_key(ctx, number))
    if cached is not None and json.loads(cached)["id"] == event.data["comment"]["id"]:
        ctx.blobs.pop(_key(ctx, number), None)


@router.register("pull_request", action="opened")
@router.register("pull_request", action="synchronize")
async def on_push(event: sansio.Event, ctx: Context) -> None:
    """A push to a linked PR is activity of the pusher on the tickets it holds."""
    pr, sender = event.data["pull_request"], Actor.from_github(event.data.get("sender"))
    if sender is None:
        return
    tickets = linked_tickets(pr.get("title") or "", pr.get("body"), ctx.repo)[:MAX_LINKED]
    when = parse_time(pr.get("updated_at")) or ctx.clock()
    config = await ctx.config()
    for ticket in tickets:
        await _refresh(ctx, ticket, config, activity={sender.login: when}, holder=sender.login)


async def sweep(ctx: Context) -> None:
    """Stale claims: warned, then released, at the configured times. One listing of the
    in-progress tickets, then each ticket afresh (under its lock, so never from a stale copy)."""
    config = await ctx.config()
    url = f"/repos/{ctx.repo}/issues{{?state,labels,per_page}}"
    label = StatusLabel.IN_PROGRESS.value
    listed = await _list(ctx, url, {"state": "open", "labels": label, "per_page": 100})
    failed: list[Exception] = []
    for issue in listed:
        if "pull_request" in issue:
            continue
        try:
            await _refresh(ctx, int(issue["number"]), config)
        except Exception as exc:  # one broken ticket must not stop the others
            log.exception("%s: sweep of #%s failed", ctx.repo, issue.get("number"))
            failed.append(exc)
    if failed:
        raise failed[0]
