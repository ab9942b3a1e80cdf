"""What the shells read from GitHub beyond the event, bounded, and how a sweep walks a listing.

Shared by the tickets shell (permissions, an agent's open claims, assignment events) and the
verification gate (approvers' permissions); both sweeps walk their listings with `sweep_each`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from gidgethub import BadRequest

from app.config import RepoConfig
from app.service.dispatch import Context
from app.service.github import is_not_found
from app.tickets.claims import AssignmentEvent, WorkItem
from app.tickets.linking import linked_tickets
from app.tickets.model import Ticket, closed_by_commit, is_ticket

log = logging.getLogger(__name__)

Json = dict[str, Any]
MAX_ITEMS = 2_000  # per listing (events, comments, open claims, swept tickets)
MAX_LINKED = 20  # tickets one PR (or PR comment, or push) reaches


def links(ctx: Context, item: Json) -> list[int]:
    """The tickets a PR (or its old title and body, see `before_edit`) links, bounded."""
    return linked_tickets(item.get("title") or "", item.get("body"), ctx.repo)[:MAX_LINKED]


def before_edit(pr: Json, changes: Json) -> Json:
    """The PR's title and body before a `pull_request.edited` event's `changes`."""
    return {k: (changes.get(k) or {}).get("from", pr.get(k)) for k in ("title", "body")}


async def list_bounded(
    ctx: Context,
    url: str,
    url_vars: Mapping[str, Any] | None = None,
    *,
    iterable_key: str = "items",
) -> list[Json]:
    """The items of a paginated listing, at most MAX_ITEMS of them."""
    items: list[Json] = []
    async for item in ctx.gh.getiter(url, url_vars or {}, iterable_key=iterable_key):
        items.append(item)
        if len(items) >= MAX_ITEMS:
            log.warning("%s: %s listed more than %d items; using those", ctx.repo, url, MAX_ITEMS)
            break
    return items


async def permission(ctx: Context, login: str) -> str:
    """`login`'s permission on the repository: admin, maintain, write, triage, read or none."""
    url = f"/repos/{ctx.repo}/collaborators/{{user}}/permission"
    try:
        data = await ctx.gh.getitem(url, {"user": login})
    except BadRequest as exc:
        if is_not_found(exc):  # not a user GitHub knows
            return "none"
        raise
    return str(data.get("permission") or "none")


async def assigned_to(ctx: Context, login: str) -> list[Json]:
    """The open issues (and PRs) assigned to `login`: an agent's claims, from one listing."""
    url = f"/repos/{ctx.repo}/issues{{?assignee,state,per_page}}"
    return await list_bounded(ctx, url, {"assignee": login, "state": "open", "per_page": 100})


def work_items(items: Sequence[Json], config: RepoConfig) -> list[WorkItem]:
    """The tickets among listed issues, as a workload lists them."""
    tickets = [i for i in items if is_ticket(Ticket.from_github(i), config)]
    return [WorkItem(int(i["number"]), str(i.get("title") or "")) for i in tickets]


async def issue_events(ctx: Context, number: int) -> tuple[list[AssignmentEvent], bool]:
    """The issue's (un)assignments as GitHub recorded them, in its order, and whether its
    latest close came from a commit (a merged PR's closing keyword)."""
    items = await list_bounded(ctx, f"/repos/{ctx.repo}/issues/{number}/events?per_page=100")
    events = [e for e in map(AssignmentEvent.from_github, items) if e is not None]
    return events, closed_by_commit(items)


async def sweep_each(
    ctx: Context, items: Iterable[Json], visit: Callable[[Json], Awaitable[None]]
) -> None:
    """`visit` each listed issue or PR. One broken item must not stop the others: each failure
    is logged, and the first is raised once all were visited, so the sweep counts as failed."""
    failed: list[Exception] = []
    for item in items:
        try:
            await visit(item)
        except Exception as exc:
            log.exception("%s: sweep of #%s failed", ctx.repo, item.get("number"))
            failed.append(exc)
    if failed:
        raise failed[0]
