"""The routes of Baton's two PR checks, `Baton / contracts` and `Baton / verification`, and
their sweep. The shells are `contracts_run` (the scan) and `gate` (the verification gate);
this module decides which events reach them.
"""

from __future__ import annotations

from gidgethub import routing, sansio

from app.checks.check_runs import list_open_prs, prs_of, runs_of
from app.checks.contracts_run import contracts, contracts_of_push
from app.checks.decisions import (
    Json,
    default_branch_push,
    gate_may_change,
    has_gate,
    known_open_prs,
    label_matters,
    latest,
    ours,
    push_of_run,
    status_may_change,
    with_run,
)
from app.checks.gate import closed, reverify, verify
from app.checks.report import CONTRACTS_CHECK
from app.checks.verification import VERIFICATION_CHECK
from app.service.dispatch import Context
from app.tickets import status_comment
from app.tickets.commands import parse_commands
from app.tickets.messages import CLAIM_COMMANDS
from app.tickets.model import Ticket, is_ticket
from app.tickets.reads import before_edit, links, sweep_each
from app.tickets.store import load_status

__all__ = ["contracts", "router", "sweep", "verify"]

router = routing.Router()

SCAN_ACTIONS = ("opened", "synchronize", "reopened", "ready_for_review")
TICKET_ACTIONS = ("edited", "labeled", "unlabeled", "assigned", "unassigned", "closed", "reopened")


async def on_pull_request(event: sansio.Event, ctx: Context) -> None:
    pr, action = event.data["pull_request"], event.data["action"]
    if action == "closed":
        await closed(ctx, pr)
        return
    if pr.get("state") != "open":
        return
    changes = event.data.get("changes") or {}
    runs = await runs_of(ctx, pr["head"]["sha"])
    failed: Exception | None = None
    if action in SCAN_ACTIONS or "base" in changes:  # a new base branch: a new baseline
        try:
            runs = with_run(runs, await contracts(ctx, pr, runs, rerun="base" in changes))
        except Exception as exc:  # still show the gate (waiting on contracts), then retry
            failed = exc
    if action in ("opened", "reopened", "edited"):  # rivals on the same tickets change
        linked = set(links(ctx, pr)) | set(links(ctx, before_edit(pr, changes)))
        open_prs = await list_open_prs(ctx) if linked else []
        await verify(ctx, pr, open_prs=open_prs, runs=runs)
        await reverify(ctx, linked, skip=int(pr["number"]), open_prs=open_prs)
    else:
        await verify(ctx, pr, runs=runs)
    if failed is not None:
        raise failed


for _action in (*SCAN_ACTIONS, "edited", "closed"):
    router.add(on_pull_request, "pull_request", action=_action)


@router.register("pull_request", action="labeled")
@router.register("pull_request", action="unlabeled")
async def on_pr_label(event: sansio.Event, ctx: Context) -> None:
    """An exempt label added or removed: conditions 1-4 apply again, or no longer."""
    pr = event.data["pull_request"]
    if pr.get("state") == "open" and label_matters(event.data.get("label"), await ctx.config()):
        await verify(ctx, pr)


@router.register("push")
async def on_push(event: sansio.Event, ctx: Context) -> None:
    """A push to the default branch gets `Baton / contracts` on its new head, against the
    previous head: the default branch's current drift is on record."""
    push = default_branch_push(event.data)
    if push is not None:
        await contracts_of_push(ctx, push)


@router.register("pull_request_review", action="submitted")
@router.register("pull_request_review", action="dismissed")
async def on_review(event: sansio.Event, ctx: Context) -> None:
    pr = event.data["pull_request"]
    if pr.get("state") == "open":
        await verify(ctx, pr, fresh=("reviews",))


async def _on_ci(ctx: Context, item: Json, event: str) -> None:
    """Another app's check run or suite changed: re-evaluate its PRs if the gate may change.
    Without PRs in the event (default-branch CI, or a fork's PR) and without our gate on the
    commit, no PR of ours has it as head: the open PRs are not listed (the sweep heals a PR
    whose runs were never posted)."""
    runs = await runs_of(ctx, item["head_sha"])
    if not item.get("pull_requests") and not has_gate(runs, ctx.app_id):
        return
    if gate_may_change(runs, event, item, ctx.app_id):
        for pr in await prs_of(ctx, item):
            await verify(ctx, pr, runs=runs)


@router.register("check_run", action="created")
@router.register("check_run", action="completed")
async def on_check_run(event: sansio.Event, ctx: Context) -> None:
    run = event.data["check_run"]
    if ours(run, ctx.app_id):
        return  # the gate does not trigger itself
    await _on_ci(ctx, run, event.data["action"])


@router.register("status")
async def on_status(event: sansio.Event, ctx: Context) -> None:
    """A commit status (CI that reports through the statuses API): like another app's run."""
    sha = str(event.data.get("sha") or "")
    runs = await runs_of(ctx, sha)
    if has_gate(runs, ctx.app_id) and status_may_change(runs, event.data.get("state", ""),
                                                        ctx.app_id):  # fmt: skip
        for pr in await prs_of(ctx, {"head_sha": sha}):
            await verify(ctx, pr, runs=runs, fresh=("statuses",))


@router.register("check_run", action="rerequested")
async def on_rerun(event: sansio.Event, ctx: Context) -> None:
    run = event.data["check_run"]
    if run.get("name") in (CONTRACTS_CHECK, VERIFICATION_CHECK) and ours(run, ctx.app_id):
        await _rerun(ctx, run, rescan=run["name"] == CONTRACTS_CHECK)


@router.register("check_suite", action="rerequested")
async def on_suite_rerun(event: sansio.Event, ctx: Context) -> None:
    """`Re-run all checks` on our suite: both runs again."""
    suite = event.data["check_suite"]
    if ours(suite, ctx.app_id):
        await _rerun(ctx, suite, rescan=True)


async def _rerun(ctx: Context, item: Json, *, rescan: bool) -> None:
    if rescan and (push := push_of_run(item)) is not None:  # a default-branch record
        await contracts_of_push(ctx, push, rerun=True)
        return
    for pr in await prs_of(ctx, item):
        runs = await runs_of(ctx, pr["head"]["sha"])
        if rescan:
            runs = with_run(runs, await contracts(ctx, pr, runs, rerun=True))
        await verify(ctx, pr, runs=runs)


@router.register("check_suite", action="completed")
async def on_check_suite(event: sansio.Event, ctx: Context) -> None:
    suite = event.data["check_suite"]
    if not ours(suite, ctx.app_id):
        await _on_ci(ctx, suite, "suite")


async def on_ticket(event: sansio.Event, ctx: Context) -> None:
    issue = event.data["issue"]
    if "pull_request" not in issue:
        unlabeled = event.data["action"] == "unlabeled"
        await _reverify_ticket(ctx, issue, (event.data.get("label") or {}) if unlabeled else None)


async def _reverify_ticket(ctx: Context, issue: Json, removed: Json | None = None) -> None:
    """Re-evaluate the open PRs of a ticket. Its status comment lists them (the tickets handler,
    which runs first, has just cached it): with none open, there is no gate to re-evaluate;
    otherwise they are fetched one by one. Without a status comment, the open PRs are listed.
    An issue that is not a ticket (see `tickets.label`) has no gates, unless it just lost that
    label (`removed`): its PRs' gates no longer have a ticket."""
    config = await ctx.config()
    wanted = config.tickets.label
    lost = wanted is not None and str((removed or {}).get("name", "")).lower() == wanted.lower()
    if not lost and not is_ticket(Ticket.from_github(issue), config):
        return
    _, body = await load_status(ctx, int(issue["number"]), issue)
    known = known_open_prs([status_comment.parse(body)])
    if known != set():
        await reverify(ctx, {int(issue["number"])}, known=known)


for _action in TICKET_ACTIONS:
    router.add(on_ticket, "issues", action=_action)


@router.register("issue_comment", action="created")
async def on_command(event: sansio.Event, ctx: Context) -> None:
    """`/done` (and the claim commands) change the evidence and claim rows."""
    if not CLAIM_COMMANDS & {c.name for c in parse_commands(event.data["comment"].get("body"))}:
        return
    issue = event.data["issue"]
    if "pull_request" not in issue:
        await _reverify_ticket(ctx, issue)
        return
    pr = await ctx.gh.getitem(f"/repos/{ctx.repo}/pulls/{issue['number']}")
    if pr.get("state") == "open":
        await verify(ctx, pr)


def _settled(ctx: Context, pr: Json, runs: list[Json]) -> bool:
    """Both runs are there and the gate passed after the PR last changed: the sweep leaves
    such a PR alone. Waiting or failing gates are re-evaluated: a missed delivery (CI done,
    a `/done`, a ticket edit) leaves those stuck."""
    scan = latest(runs, CONTRACTS_CHECK, ctx.app_id)
    gate = latest(runs, VERIFICATION_CHECK, ctx.app_id)
    return bool(
        scan
        and scan.get("status") == "completed"
        and gate
        and gate.get("conclusion") == "success"
        and str(gate.get("completed_at") or "") >= str(pr.get("updated_at") or "")
    )


async def sweep(ctx: Context) -> None:
    """Re-evaluate the open PRs whose checks are missing or waiting: missed deliveries heal.
    About two requests per settled PR, a handful more per waiting one."""
    open_prs = await list_open_prs(ctx)

    async def visit(pr: Json) -> None:
        runs = await runs_of(ctx, pr["head"]["sha"])
        if not _settled(ctx, pr, runs):
            runs = with_run(runs, await contracts(ctx, pr, runs))
            await verify(ctx, pr, open_prs=open_prs, runs=runs, fresh=("statuses", "reviews"))

    await sweep_each(ctx, open_prs, visit)
