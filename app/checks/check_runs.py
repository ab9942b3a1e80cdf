"""Which check runs, commit statuses and open PRs a head commit has.

Shared by the contracts and verification shells and their routes: each event names a commit
(a PR head, a check run's or suite's `head_sha`, a status's `sha`); Baton's own runs on it are
known by the App's id (`decisions.ours`).
"""

from __future__ import annotations

from app.checks.decisions import Json
from app.service.dispatch import Context
from app.tickets.reads import list_bounded

MAX_PR_REFS = 10  # PRs of one check run or suite looked up
MAX_STATUSES = 100  # contexts of one commit read (one page of the combined status)


async def runs_of(ctx: Context, sha: str) -> list[Json]:
    url = f"/repos/{ctx.repo}/commits/{sha}/check-runs?per_page=100"
    return await list_bounded(ctx, url, iterable_key="check_runs")


async def statuses_of(ctx: Context, sha: str) -> Json:
    """The combined status of a commit: the latest status per context."""
    url = f"/repos/{ctx.repo}/commits/{sha}/status?per_page={MAX_STATUSES}"
    data: Json = await ctx.gh.getitem(url)
    return data


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
