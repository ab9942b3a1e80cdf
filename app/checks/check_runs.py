"""Which check runs, commit statuses and open PRs a head commit has.

Shared by the contracts and verification shells and their routes: each event names a commit
(a PR head, a check run's or suite's `head_sha`, a status's `sha`); Baton's own runs on it are
known by the App's id (`decisions.ours`).
"""

from __future__ import annotations

import json

from app.checks.decisions import Json, commit_statuses
from app.checks.verification import CommitStatus, Review
from app.service.dispatch import Context
from app.tickets.reads import list_bounded

MAX_PR_REFS = 10  # PRs of one check run or suite looked up
MAX_STATUSES = 100  # contexts of one commit read (one page of the combined status)


async def runs_of(ctx: Context, sha: str) -> list[Json]:
    url = f"/repos/{ctx.repo}/commits/{sha}/check-runs?per_page=100"
    return await list_bounded(ctx, url, iterable_key="check_runs")


async def reviews_of(ctx: Context, number: int, *, fresh: bool = False) -> tuple[Review, ...]:
    """A PR's reviews, kept in the cache until a review event for the PR (or the sweep) asks
    for a `fresh` read: a push, a ticket edit, a `/done` or CI changes none of them."""
    key = f"reviews:{ctx.repo}:{number}"
    if not fresh and (cached := ctx.cache.get(key)) is not None:
        return tuple(Review(*r) for r in json.loads(cached))
    url = f"/repos/{ctx.repo}/pulls/{number}/reviews?per_page=100"
    reviews = tuple(
        Review(
            str(r["user"]["login"]),
            str(r["state"]),
            str(r.get("commit_id") or ""),
            r.get("submitted_at"),
            str(r["user"].get("type") or "User"),
        )
        for r in await list_bounded(ctx, url)
        if r.get("user")
    )
    ctx.cache[key] = json.dumps(
        [[r.user, r.state, r.commit_id, r.submitted_at, r.user_type] for r in reviews]
    ).encode()
    return reviews


async def statuses_of(ctx: Context, sha: str, *, fresh: bool = False) -> tuple[CommitStatus, ...]:
    """The latest commit status per context of a commit. Kept in the cache until a `status`
    event for the commit (or the sweep) asks for a `fresh` read: most evaluations (reviews,
    tickets, `/done`) happen while no status changes, and each would otherwise read them."""
    key = f"statuses:{ctx.repo}:{sha}"
    if not fresh and (cached := ctx.cache.get(key)) is not None:
        return tuple(CommitStatus(c, s) for c, s in json.loads(cached))
    url = f"/repos/{ctx.repo}/commits/{sha}/status?per_page={MAX_STATUSES}"
    statuses = commit_statuses(await ctx.gh.getitem(url))
    ctx.cache[key] = json.dumps([[s.context, s.state] for s in statuses]).encode()
    return statuses


async def list_open_prs(ctx: Context) -> list[Json]:
    return await list_bounded(ctx, f"/repos/{ctx.repo}/pulls?state=open&per_page=100")


async def prs_of(ctx: Context, item: Json) -> list[Json]:
    """The open PRs whose head is this check run's or suite's commit. GitHub leaves
    `pull_requests` empty for PRs from forks: then the open-PR list is searched."""
    sha = item.get("head_sha") or item.get("sha")
    refs = (item.get("pull_requests") or [])[:MAX_PR_REFS]
    if not refs:
        return [pr for pr in await list_open_prs(ctx) if pr["head"]["sha"] == sha]
    found = []
    for ref in refs:
        pr = await ctx.gh.getitem(f"/repos/{ctx.repo}/pulls/{ref['number']}")
        if pr.get("state") == "open" and pr["head"]["sha"] == sha:
            found.append(pr)
    return found
