"""Which check runs and open PRs a head commit has, and which of those runs are Baton's.

Shared by the contracts and verification shells and their routes: each event names a commit
(a PR head, a check run's or suite's `head_sha`) and both checks are found by name on it.
"""

from __future__ import annotations

from typing import Any

from app.checks.report import CONTRACTS_CHECK
from app.checks.verification import VERIFICATION_CHECK
from app.service.dispatch import Context
from app.tickets.reads import list_bounded

OURS = (CONTRACTS_CHECK, VERIFICATION_CHECK)
MAX_PR_REFS = 10  # PRs of one check run or suite looked up
Json = dict[str, Any]


def ours(item: Json, ctx: Context) -> bool:
    """Whether a check run or suite was posted by this app."""
    return (item.get("app") or {}).get("slug") == ctx.bot_login.removesuffix("[bot]")


def latest(runs: list[Json], name: str, ctx: Context) -> Json | None:
    """Our newest run of `name`: the one that counts for branch protection."""
    mine = [r for r in runs if r.get("name") == name and ours(r, ctx)]
    return max(mine, key=lambda r: r["id"]) if mine else None


def with_run(runs: list[Json], run: Json) -> list[Json]:
    """`runs` with `run` added, or in place of its older copy."""
    return [r for r in runs if r["id"] != run["id"]] + [run]


async def runs_of(ctx: Context, sha: str) -> list[Json]:
    url = f"/repos/{ctx.repo}/commits/{sha}/check-runs?per_page=100"
    return await list_bounded(ctx, url, iterable_key="check_runs")


async def list_open_prs(ctx: Context) -> list[Json]:
    return await list_bounded(ctx, f"/repos/{ctx.repo}/pulls?state=open&per_page=100")


async def prs_of(ctx: Context, item: Json) -> list[Json]:
    """The open PRs whose head is this check run's or suite's commit. GitHub leaves
    `pull_requests` empty for PRs from forks: then the open-PR list is searched."""
    sha = item.get("head_sha")
    refs = (item.get("pull_requests") or [])[:MAX_PR_REFS]
    if not refs:
        return [pr for pr in await list_open_prs(ctx) if pr["head"]["sha"] == sha]
    found = []
    for ref in refs:
        pr = await ctx.gh.getitem(f"/repos/{ctx.repo}/pulls/{ref['number']}")
        if pr.get("state") == "open" and pr["head"]["sha"] == sha:
            found.append(pr)
    return found
