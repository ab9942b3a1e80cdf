"""The `Baton / verification` check run's shell: fill the gate's inputs from GitHub, post it.

Re-evaluated on PR, review, check, ticket and `/done` events and by the sweep. One run per
name and head SHA: find it, then PATCH it; a new one only when GitHub would not take the change
(a completed run cannot go back to in progress). The PR's news reach its tickets through the
tickets shell's `refresh_ticket`.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Collection, Sequence
from dataclasses import replace

from app.checks.check_runs import list_open_prs, reviews_of, runs_of, statuses_of
from app.checks.decisions import (
    Json,
    Listed,
    check_run,
    check_states,
    known_open_prs,
    latest,
    other_open_prs,
    verdict,
    waiting,
)
from app.checks.report import CONTRACTS_CHECK, create_body, update_body
from app.checks.verification import (
    VERIFICATION_CHECK,
    CommitStatus,
    GateInputs,
    GateResult,
    PullRequest,
    Ticket,
    approvers_to_check,
    evaluate,
)
from app.config import RepoConfig
from app.service.dispatch import Context
from app.service.github import is_not_found
from app.tickets.model import Ticket as Issue
from app.tickets.model import is_ticket, parse_spec, roles_of
from app.tickets.reads import links, permission
from app.tickets.routes import refresh_ticket
from app.tickets.status_comment import LinkedPR, State, parse
from app.tickets.store import load_status

# One evaluation at a time per PR in this process: a PR is evaluated from its own deliveries,
# its tickets' and rivals' (other delivery keys) and the sweep; the runs are read under the
# lock, so an older result never overwrites a newer one and a missing run is posted once.
_locks: weakref.WeakValueDictionary[tuple[str, int], asyncio.Lock] = weakref.WeakValueDictionary()


def _lock(repo: str, number: int) -> asyncio.Lock:
    return _locks.setdefault((repo.lower(), number), asyncio.Lock())


async def _ticket(ctx: Context, number: int, config: RepoConfig) -> tuple[Ticket, State | None]:
    data = await ctx.gh.getitem(f"/repos/{ctx.repo}/issues/{number}")
    issue = Issue.from_github(data)
    if not is_ticket(issue, config):
        raise LookupError(number)
    spec = parse_spec(issue.body, config.tickets.criteria_heading)
    roles = roles_of(issue.labels)
    # The ticket's state as the tickets shell recorded it in its status comment.
    state = parse((await load_status(ctx, number, data))[1]) if issue.state == "open" else None
    if state is not None:
        claims = {c.role: c.holder for c in state.claims if c.ended_at is None}
        done = frozenset(d.role for d in state.done)
    else:  # no status comment yet: a lone role is held by a lone assignee
        lone = len(roles) == 1 and len(issue.assignees) == 1
        claims = {roles[0]: issue.assignees[0].login} if lone else {}
        done = frozenset()
    ticket = Ticket(
        number,
        issue.state == "open",
        spec.total,
        spec.checked,
        tuple(r for r in roles if r),
        done,
        claims,
    )
    return ticket, state


async def _tickets(
    ctx: Context, numbers: list[int], config: RepoConfig
) -> list[tuple[Ticket, State | None]]:
    found = []
    for number in numbers:
        try:
            found.append(await _ticket(ctx, number, config))
        except LookupError:  # a PR, or not labelled as a ticket
            continue
        except Exception as exc:
            if not is_not_found(exc) and getattr(exc, "status_code", 0) != 410:
                raise
    return found


async def _publish(ctx: Context, sha: str, result: GateResult, current: Json | None) -> None:
    """Find-or-create then PATCH; unchanged runs are left alone. GitHub keeps a completed run
    completed, so going back to waiting takes a new run (the latest of a name is the one that
    counts for branch protection)."""
    if current is not None:
        out = current.get("output") or {}
        now = (
            current.get("status"),
            current.get("conclusion"),
            out.get("title"),
            out.get("summary"),
        )
        if now == (result.status, result.conclusion, result.title, result.summary):
            return
        if current.get("status") != "completed" or result.status == "completed":
            body = update_body(result.status, result.conclusion, result.output, now=ctx.clock())
            await ctx.gh.patch(f"/repos/{ctx.repo}/check-runs/{current['id']}", data=body)
            return
    body = create_body(
        VERIFICATION_CHECK, sha, result.status, result.conclusion, result.output, now=ctx.clock()
    )
    await ctx.gh.post(f"/repos/{ctx.repo}/check-runs", data=body)


async def _refresh(ctx: Context, number: int, linked: LinkedPR, state: State | None) -> None:
    """Let the tickets shell merge the PR's news into the ticket, unless it already has it."""
    if state is not None and linked in state.prs:
        return
    await refresh_ticket(ctx, number, pr=linked)


def _linked_pr(
    ctx: Context,
    pr: Json,
    state: str,
    verification: str | None,
    runs: list[Json],
    statuses: Sequence[CommitStatus] = (),
    reason: str = "",
) -> LinkedPR:
    return LinkedPR(
        number=int(pr["number"]),
        title=str(pr.get("title") or ""),
        author=str((pr.get("user") or {}).get("login") or ""),
        state=state,
        draft=bool(pr.get("draft")),
        verification=verification,
        checks=check_states(runs, statuses, ctx.app_id),
        reason=reason,
    )


async def verify(
    ctx: Context,
    pr: Json,
    *,
    open_prs: list[Json] | None = None,
    runs: list[Json] | None = None,
    fresh: Collection[str] = (),
) -> GateResult:
    """Evaluate the gate for an open PR, post it, and tell its tickets. `runs`: the head's runs
    as the caller read them (and its own just posted): read again under the PR's lock, as
    another evaluation may have posted since; those GitHub does not list yet are kept.
    `fresh`: the cached facts to read afresh, `statuses` and `reviews` (one changed, or the
    sweep): under the lock, so that no evaluation in flight caches an older answer after it."""
    async with _lock(ctx.repo, int(pr["number"])):
        current = await runs_of(ctx, pr["head"]["sha"])
        seen = {r["id"] for r in current}
        listed = current + [r for r in runs or [] if r["id"] not in seen]
        return await _verify(ctx, pr, open_prs, listed, frozenset(fresh))


async def _verify(
    ctx: Context,
    pr: Json,
    open_prs: list[Json] | None,
    runs: list[Json],
    fresh: frozenset[str] = frozenset(),
) -> GateResult:
    config = await ctx.config()
    sha, number = pr["head"]["sha"], int(pr["number"])
    user = pr.get("user") or {}
    found = await _tickets(ctx, links(ctx, pr), config)
    # Rivals on each ticket: from its status comment, or from the open-PR list without one.
    if open_prs is None and known_open_prs(s for _, s in found) is None:
        open_prs = await list_open_prs(ctx)
    listed = None
    if open_prs is not None:
        listed = [
            Listed(int(p["number"]), str((p.get("user") or {}).get("login") or ""),
                   frozenset(links(ctx, p)))
            for p in open_prs
        ]  # fmt: skip
    tickets = tuple(
        replace(t, other_prs=other_open_prs(number, t.number, listed, state)) for t, state in found
    )
    contracts_run = latest(runs, CONTRACTS_CHECK, ctx.app_id)
    # Commit statuses only matter to condition 6; without it they are not read.
    statuses: tuple[CommitStatus, ...] = ()
    if config.verification.require_checks:
        statuses = await statuses_of(ctx, sha, fresh="statuses" in fresh)
    reviews = await reviews_of(ctx, number, fresh="reviews" in fresh)
    subject = PullRequest(
        number,
        str(user.get("login") or ""),
        sha,
        str(user.get("type") or "User"),
        bool(pr.get("draft")),
        str(pr.get("state") or "open"),
        tuple(str(lb.get("name") or "") for lb in pr.get("labels") or []),
    )
    permissions = {
        login: await permission(ctx, login)
        for login in approvers_to_check(subject, reviews, config)
    }
    result = evaluate(
        GateInputs(
            subject,
            tickets,
            contracts=check_run(contracts_run, ctx.app_id) if contracts_run else None,
            checks=tuple(check_run(r, ctx.app_id) for r in runs),
            statuses=statuses,
            reviews=reviews,
            permissions=permissions,
            config=config,
        )
    )
    await _publish(ctx, sha, result, latest(runs, VERIFICATION_CHECK, ctx.app_id))
    outcome = result.conclusion or "pending"
    linked = _linked_pr(ctx, pr, "open", outcome, runs, statuses, waiting(result))
    for ticket, state in found:
        if ticket.open:
            await _refresh(ctx, ticket.number, linked, state)
    return result


async def reverify(
    ctx: Context,
    numbers: set[int],
    skip: int = 0,
    open_prs: list[Json] | None = None,
    known: set[int] | None = None,
) -> None:
    """Re-evaluate the open PRs that link any of these tickets. `known`: the open PRs their
    status comments list (see `known_open_prs`): fetched one by one, not the whole list."""
    if not numbers:
        return
    if open_prs is None and known is not None:
        candidates = [
            await ctx.gh.getitem(f"/repos/{ctx.repo}/pulls/{n}") for n in sorted(known - {skip})
        ]
    else:
        candidates = open_prs if open_prs is not None else await list_open_prs(ctx)
        open_prs = candidates
    for pr in candidates:
        linking = numbers & set(links(ctx, pr))
        if pr["number"] != skip and pr.get("state") == "open" and linking:
            await verify(ctx, pr, open_prs=open_prs)


async def closed(ctx: Context, pr: Json) -> None:
    """A merge (or close) reaches the tickets with the gate's verdict on the merged head."""
    numbers = links(ctx, pr)
    if not numbers:
        return
    runs = await runs_of(ctx, pr["head"]["sha"])
    gate = verdict(latest(runs, VERIFICATION_CHECK, ctx.app_id))
    linked = _linked_pr(ctx, pr, "merged" if pr.get("merged") else "closed", gate, runs)
    found = await _tickets(ctx, numbers, await ctx.config())
    for ticket, state in found:
        await _refresh(ctx, ticket.number, linked, state)
    if found:  # only tickets have gates to re-evaluate
        known = known_open_prs(s for _, s in found)
        await reverify(ctx, {t.number for t, _ in found}, skip=int(pr["number"]), known=known)
