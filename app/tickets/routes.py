"""Tickets and claims shell (SPEC 4, 5): fetch a ticket's state, plan with the core, apply.

Per delivery: `_fetch` the issue, its status comment (`store`, cached) and assignment events
(`reads`); `decide` with the core (`plan`), looking up permissions and open claims through
`GitHubLookup`; `_apply` the plan: comments, reactions, assignees, labels, the status comment.
Waiting for GitHub (an assignment not listed yet) is a `RetryLater`, never a sleep.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from gidgethub import BadRequest, routing, sansio

from app.config import RepoConfig
from app.service.dispatch import Context
from app.service.github import is_not_found
from app.service.queue import RetryLater
from app.tickets.board import REFUSED
from app.tickets.claims import Actor, WorkItem, parse_time
from app.tickets.commands import CommandEvent, from_comment
from app.tickets.messages import CLAIM_COMMANDS, StatusLabel, no_ticket
from app.tickets.model import Ticket, is_ticket
from app.tickets.plan import Inputs, Plan, closes_as_verified, decide, needs_events
from app.tickets.reads import (
    Json,
    assigned_to,
    before_edit,
    issue_events,
    links,
    list_bounded,
    permission,
    sweep_each,
    work_items,
)
from app.tickets.status_comment import LinkedPR
from app.tickets.store import forget_status, load_status, save_status

log = logging.getLogger(__name__)
router = routing.Router()

# Where claims can go stale: in progress, and under review (a claim stays through review).
SWEPT = (StatusLabel.IN_PROGRESS, StatusLabel.VALIDATION)
EVENT_WAITS = (0.5, 2.0, 8.0)  # seconds, for an assignment GitHub does not list yet

# One plan at a time per ticket in this process: PR comments and PR news reach a ticket
# outside the delivery queue's per-issue order.
_locks: weakref.WeakValueDictionary[tuple[str, int], asyncio.Lock] = weakref.WeakValueDictionary()


def _lock(repo: str, number: int) -> asyncio.Lock:
    return _locks.setdefault((repo.lower(), number), asyncio.Lock())


@dataclass(frozen=True)
class News:
    """What one delivery brings to a ticket. `agent`: an agent just assigned, whose open
    claims are listed first (the listing also holds this issue, saving its GET). `holder`:
    stop unless this login is assigned (activity that matters only to holders)."""

    commands: Sequence[CommandEvent] = ()
    activity: Mapping[str, datetime] = field(default_factory=dict)
    prs: Sequence[LinkedPR] | None = None
    unlink: Sequence[int] = ()
    agent: str | None = None
    holder: str | None = None


class GitHubLookup:
    """The decision loop's lookups, read from GitHub."""

    def __init__(self, ctx: Context, config: RepoConfig) -> None:
        self.ctx, self.config = ctx, config

    async def permission(self, login: str) -> str:
        return await permission(self.ctx, login)

    async def workload(self, login: str) -> list[WorkItem]:
        return work_items(await assigned_to(self.ctx, login), self.config)


# --- one ticket: fetch, plan, apply --------------------------------------------------------


async def _labels_exist(ctx: Context, names: Sequence[str], present: Sequence[str]) -> None:
    """Create status labels with their colours on first use; known ones are remembered."""
    key = f"baton-labels:{ctx.repo.lower()}"
    known = set((ctx.cache.get(key) or b"").decode().split("\n")) | {n.lower() for n in present}
    for name in names:
        status = StatusLabel.from_name(name)
        if status is None or name.lower() in known:
            continue
        await ctx.label_exists(name, status.color, status.description)
        known.add(name.lower())
    ctx.cache[key] = "\n".join(sorted(known - {""})).encode()


async def _apply(ctx: Context, ticket: Ticket, p: Plan, status_id: int | None) -> None:
    """In order: reopen, comments, reactions, assignees, labels, and the status comment last
    (it records which notices were posted: a crash before it re-posts rather than loses)."""
    base = f"/repos/{ctx.repo}/issues/{ticket.number}"
    if p.reopen:
        await ctx.gh.patch(base, data={"state": "open"})
    for body in p.comments:
        await ctx.gh.post(base + "/comments", data={"body": body})
    for comment_id, content in p.reactions:
        await _react(ctx, comment_id, content)
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
        await save_status(ctx, ticket.number, status_id, p.status_comment)


async def _react(ctx: Context, comment_id: int, content: str) -> None:
    """Acknowledge a command on its comment; GitHub answers 200 for a reaction it has."""
    url = f"/repos/{ctx.repo}/issues/comments/{comment_id}/reactions"
    try:
        await ctx.gh.post(url, data={"content": content})
    except BadRequest as exc:
        if not is_not_found(exc):  # the comment was deleted meanwhile
            raise


async def _fetch(
    ctx: Context, number: int, config: RepoConfig, news: News
) -> tuple[Inputs, int | None] | None:
    """The plan's inputs from GitHub and the status comment's id, or None when the issue is
    not a ticket (or the news is only for holders and `news.holder` holds nothing here)."""
    workloads: dict[str, list[WorkItem]] = {}
    issue = None
    if news.agent is not None:
        listed = await assigned_to(ctx, news.agent)
        workloads[news.agent.lower()] = work_items(listed, config)
        issue = next((i for i in listed if i.get("number") == number), None)
    issue = issue or await ctx.gh.getitem(f"/repos/{ctx.repo}/issues/{number}")
    ticket = Ticket.from_github(issue)
    if not is_ticket(ticket, config):
        return None
    if news.holder is not None and news.holder.lower() not in {a.key for a in ticket.assignees}:
        return None
    status_id, status_body = await load_status(ctx, number, issue)
    inputs = Inputs(
        ticket, config, ctx.clock(), ctx.bot_login, status_body=status_body,
        commands=news.commands, prs=news.prs, unlink_prs=news.unlink,
        activity=news.activity, workloads=workloads,
    )  # fmt: skip
    if needs_events(ticket, status_id is not None):
        events, by_commit = await issue_events(ctx, number)
        inputs = replace(inputs, events=events, closed_by_commit=by_commit)
    return inputs, status_id


def _incomplete(ctx: Context, number: int, p: Plan) -> None:
    """An assignee without its `assigned` event yet (GitHub lists events late): the plan
    kept them; run the delivery again soon, a few times at most, instead of waiting here."""
    key = f"baton-incomplete:{ctx.repo.lower()}#{number}"
    if not p.incomplete:
        ctx.cache.pop(key, None)
        return
    tries = int(ctx.cache.get(key) or b"0") + 1
    if tries > len(EVENT_WAITS):
        ctx.cache.pop(key, None)
        log.warning("%s#%d: an assignment GitHub does not list yet; left as is", ctx.repo, number)
        return
    ctx.cache[key] = str(tries).encode()
    raise RetryLater(time.time() + EVENT_WAITS[tries - 1], "an assignment not listed yet")


async def _refresh(ctx: Context, number: int, config: RepoConfig, news: News) -> None:
    """Bring one ticket to its desired state: fetch, decide, close if verified, apply."""
    async with _lock(ctx.repo, number):
        fetched = await _fetch(ctx, number, config, news)
        if fetched is None:
            return
        inputs, status_id = fetched
        lookup = GitHubLookup(ctx, config)
        result, inputs = await decide(inputs, lookup)
        if closes_as_verified(inputs.ticket, news.prs or ()):
            base = f"/repos/{ctx.repo}/issues/{number}"
            closed = await ctx.gh.patch(base, data={"state": "closed", "state_reason": "completed"})
            inputs = replace(inputs, ticket=Ticket.from_github(closed))
            result, inputs = await decide(inputs, lookup)
        if not result.empty:
            log.info("%s#%d: labels +%s -%s, assignees +%s -%s, %d comments", ctx.repo, number,
                     result.add_labels, result.remove_labels, result.add_assignees,
                     result.remove_assignees, len(result.comments))  # fmt: skip
        await _apply(ctx, inputs.ticket, result, status_id)
    _incomplete(ctx, number, result)


async def refresh_ticket(
    ctx: Context, number: int, pr: LinkedPR | None = None, *, unlink: Sequence[int] = ()
) -> None:
    """PR news for a ticket: the PR is merged into the stored ones (by number); a merged PR
    whose verification passed closes the ticket as done. `unlink`: PRs that no longer link it."""
    news = News(prs=[pr] if pr is not None else None, unlink=unlink)
    await _refresh(ctx, number, await ctx.config(), news)


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
    await _refresh(ctx, int(issue["number"]), config, News(agent=agent))


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
            await _refresh(ctx, number, config, News(commands, activity))
        return
    commands = from_comment(body, actor, when, cid, pr=number)
    tickets = links(ctx, issue)
    holder = None if commands else actor.login
    for ticket in tickets:
        await _refresh(ctx, ticket, config, News(commands, activity, holder=holder))
    asked = [c.command.name for c in commands if c.command.name in CLAIM_COMMANDS]
    if asked and not tickets:
        text = no_ticket(actor.login, asked[0])
        await ctx.gh.post(f"/repos/{ctx.repo}/issues/{number}/comments", data={"body": text})
        await _react(ctx, cid, REFUSED)


@router.register("issue_comment", action="edited")
@router.register("issue_comment", action="deleted")
async def on_comment_changed(event: sansio.Event, ctx: Context) -> None:
    """Someone else edited or deleted our status comment: drop the cached copy. Edited
    commands are not run again."""
    forget_status(ctx, int(event.data["issue"]["number"]), event.data["comment"]["id"])


@router.register("pull_request", action="opened")
@router.register("pull_request", action="synchronize")
async def on_push(event: sansio.Event, ctx: Context) -> None:
    """A push to a linked PR is activity of the pusher on the tickets it holds."""
    pr, sender = event.data["pull_request"], Actor.from_github(event.data.get("sender"))
    if sender is None:
        return
    when = parse_time(pr.get("updated_at")) or ctx.clock()
    config = await ctx.config()
    for ticket in links(ctx, pr):
        news = News(activity={sender.login: when}, holder=sender.login)
        await _refresh(ctx, ticket, config, news)


@router.register("pull_request", action="edited")
async def on_pr_edited(event: sansio.Event, ctx: Context) -> None:
    """A PR edited so that it no longer links a ticket leaves that ticket's status comment
    (the checks shell reports the PR to the tickets it links now)."""
    pr, changes = event.data["pull_request"], event.data.get("changes") or {}
    if "title" not in changes and "body" not in changes:
        return
    dropped = set(links(ctx, before_edit(pr, changes))) - set(links(ctx, pr))
    for number in sorted(dropped):
        try:
            await refresh_ticket(ctx, number, unlink=(int(pr["number"]),))
        except BadRequest as exc:  # the old text named an issue that is gone (or never was)
            if not is_not_found(exc) and exc.status_code != 410:
                raise


async def sweep(ctx: Context) -> None:
    """Stale claims: warned, then released, at the configured times. One listing per swept
    status (GitHub's `labels` filter wants every label it names), then each ticket afresh (under
    its lock, so never from a stale copy). A ticket under review without assignees holds no
    claim: it is left alone."""
    config = await ctx.config()
    url = f"/repos/{ctx.repo}/issues{{?state,labels,per_page}}"
    found: dict[int, Json] = {}
    for status in SWEPT:
        query = {"state": "open", "labels": status.value, "per_page": 100}
        for issue in await list_bounded(ctx, url, query):
            claimable = status is StatusLabel.IN_PROGRESS or issue.get("assignees")
            if "pull_request" not in issue and claimable:
                found[int(issue["number"])] = issue

    async def visit(issue: Json) -> None:
        await _refresh(ctx, int(issue["number"]), config, News())

    await sweep_each(ctx, found.values(), visit)
