"""A ticket's status comment (SPEC 5): find it, write it, and keep a copy. The tickets shell
writes it; the verification gate reads the ticket's recorded state from it too.

The comment's id and body (or that there is none) are cached per (repo, number) in the
dispatcher's shared cache: only the app writes that comment, each write refreshes the copy from
GitHub's answer, a failed write or an edit by someone else drops it, and a restart starts from
GitHub again.

Within a delivery, a ticket's new body is staged (`stage_status`) and written once, at the
delivery's end (`flush_status`): the tickets feature and the gate's PR news each compute one,
GitHub gets the last. Meanwhile the staged body is what every reader gets (this delivery's
gate; another delivery, under the ticket's lock): a plan made after it holds it, so a body
staged and then replaced, or written by another delivery, is not written again.
"""

from __future__ import annotations

import itertools
import json
import logging

from gidgethub import BadRequest

from app.service.dispatch import Context
from app.service.github import is_not_found
from app.tickets.messages import STATUS_MARKER
from app.tickets.reads import MAX_ITEMS, Json

log = logging.getLogger(__name__)
_stages = itertools.count(1)


def _key(ctx: Context, number: int) -> str:
    return f"baton-status:{ctx.repo.lower()}#{number}"


def _staged_key(ctx: Context, number: int) -> str:
    return f"baton-status-staged:{ctx.repo.lower()}#{number}"


def _remember(ctx: Context, number: int, comment: Json | None) -> None:
    """Keep the comment, or (None) that the ticket has none: only the app posts one."""
    data = (
        {}
        if comment is None
        else {"id": int(comment["id"]), "body": str(comment.get("body") or "")}
    )
    ctx.cache[_key(ctx, number)] = json.dumps(data).encode()


async def load_status(ctx: Context, number: int, issue: Json) -> tuple[int | None, str | None]:
    """(id, body) of the app's status comment on the ticket (as staged, if a body waits to be
    written), or (None, None)."""
    staged = ctx.cache.get(_staged_key(ctx, number))
    if staged is not None:
        data = json.loads(staged)
        return (None if data["id"] is None else int(data["id"])), str(data["body"])
    cached = ctx.cache.get(_key(ctx, number))
    if cached is not None:
        data = json.loads(cached)
        return (int(data["id"]), str(data["body"])) if data else (None, None)
    if not issue.get("comments"):  # no comments at all: no need to list them
        return None, None
    url = f"/repos/{ctx.repo}/issues/{number}/comments?per_page=100"
    seen = 0
    async for c in ctx.gh.getiter(url):  # page by page, up to the first match
        body = str(c.get("body") or "")
        if (c.get("user") or {}).get("login") == ctx.bot_login and body.startswith(STATUS_MARKER):
            _remember(ctx, number, c)
            return int(c["id"]), body
        seen += 1
        if seen >= MAX_ITEMS:
            log.warning("%s#%d: no status comment in the first %d comments", ctx.repo, number, seen)
            break
    _remember(ctx, number, None)
    return None, None


async def save_status(ctx: Context, number: int, comment_id: int | None, body: str) -> None:
    """Edit the status comment in place, or post it (again, if someone deleted it). The body
    was planned from any staged one (see `load_status`): that one need not be written."""
    ctx.cache.pop(_key(ctx, number), None)  # until GitHub confirms the new body
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
    ctx.cache.pop(_staged_key(ctx, number), None)


def forget_status(ctx: Context, number: int, comment_id: int) -> None:
    """Someone else edited or deleted comment `comment_id`: if it is the cached status comment,
    drop the copy, so the next read goes to GitHub."""
    cached = ctx.cache.get(_key(ctx, number))
    if cached is not None and json.loads(cached).get("id") == comment_id:
        ctx.cache.pop(_key(ctx, number), None)


def stage_status(ctx: Context, number: int, comment_id: int | None, body: str) -> int:
    """Make `body` the ticket's status for every reader, to be written by `flush_status` with
    the number returned. Called under the ticket's lock."""
    stage = next(_stages)
    data = {"id": comment_id, "body": body, "stage": stage}
    ctx.cache[_staged_key(ctx, number)] = json.dumps(data).encode()
    return stage


async def flush_status(ctx: Context, number: int, stage: int) -> None:
    """Write the body staged as `stage`, unless a later plan replaced it or wrote its own (it
    read ours). Called under the ticket's lock. A failed write drops it: the next plan starts
    from GitHub's body again (a plan from a staged body that nobody writes would find nothing
    to change), and the delivery's retry plans it anew."""
    staged = ctx.cache.get(_staged_key(ctx, number))
    if staged is None:
        return
    data = json.loads(staged)
    if data["stage"] == stage:
        comment_id = None if data["id"] is None else int(data["id"])
        try:
            await save_status(ctx, number, comment_id, str(data["body"]))
        except BaseException:
            ctx.cache.pop(_staged_key(ctx, number), None)
            raise
