"""The `Baton / contracts` check run's shell: fetch both sides' files, scan, post the run.

One recursive tree per side and only the selected blobs, cached by blob SHA, so a re-scan
after a push costs requests in proportion to the changed files.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging

from app.checks.check_runs import runs_of
from app.checks.decisions import Json, Push, latest, push_id
from app.checks.report import (
    CONTRACTS_CHECK,
    Changed,
    annotation_batches,
    changed_lines,
    compare,
    create_body,
    update_body,
)
from app.config import ContractsConfig
from app.contracts import scan_pair
from app.contracts.model import Finding
from app.contracts.selection import select_blobs
from app.service.dispatch import Context
from app.service.github import is_not_found

log = logging.getLogger(__name__)

MAX_BLOB = 1_000_000  # bytes; larger files are skipped with a notice, as the tree gives sizes
MAX_SPEC = 16 * 1024 * 1024  # OpenAPI documents of big APIs reach several MB
MAX_FILES = 2_000  # selected files per side
MAX_BYTES = 32 * 1024 * 1024  # per side
FETCHES = 8  # concurrent blob requests


async def _tree(ctx: Context, sha: str) -> list[tuple[str, str, int]]:
    """(path, blob sha, size) of every file at `sha`; cached beside the blobs (immutable)."""
    key = f"tree:{ctx.repo}:{sha}"
    if (cached := ctx.cache.get(key)) is not None:
        return [tuple(e) for e in json.loads(cached)]
    data = await ctx.gh.getitem(f"/repos/{ctx.repo}/git/trees/{sha}?recursive=1")
    if data.get("truncated"):
        log.warning("%s: tree %s truncated by GitHub; scanning what it listed", ctx.repo, sha)
    entries = [
        (e["path"], e["sha"], int(e.get("size") or 0))
        for e in data.get("tree") or []
        if e.get("type") == "blob"
    ]
    ctx.cache[key] = json.dumps(entries).encode()
    return entries


async def _blob(ctx: Context, sha: str, limit: asyncio.Semaphore) -> tuple[str, bytes]:
    if (cached := ctx.cache.get(sha)) is not None:
        return sha, cached
    async with limit:
        data = await ctx.gh.getitem(f"/repos/{ctx.repo}/git/blobs/{sha}")
    content = str(data.get("content") or "")
    raw = base64.b64decode(content) if data.get("encoding") == "base64" else content.encode()
    ctx.cache[sha] = raw
    return sha, raw


async def _selected(
    ctx: Context, sha: str, config: ContractsConfig
) -> tuple[dict[str, str], list[Finding]]:
    """path -> blob SHA of the files the scan needs at `sha`, and notices for those left out
    by the bounds (the tree tells sizes, so nothing oversized is fetched)."""
    entries = {path: (blob, size) for path, blob, size in await _tree(ctx, sha)}
    return select_blobs(
        entries, config, max_file=MAX_BLOB, max_spec=MAX_SPEC, max_files=MAX_FILES,
        max_bytes=MAX_BYTES,
    )  # fmt: skip


async def _contents(ctx: Context, *sides: dict[str, str]) -> list[dict[str, bytes]]:
    """Each side's files; a blob both sides share is fetched once."""
    limit = asyncio.Semaphore(FETCHES)
    unique = {blob for side in sides for blob in side.values()}
    blobs = dict(await asyncio.gather(*(_blob(ctx, b, limit) for b in unique)))
    return [{path: blobs[blob] for path, blob in side.items()} for side in sides]


def _changes(
    head: dict[str, bytes], base: dict[str, bytes], paths: set[str]
) -> dict[str, frozenset[int] | None]:
    """The changed lines of those `paths` (files with existing drift) that differ."""
    return {
        path: changed_lines(base.get(path), head[path])
        for path in paths
        if path in head and base.get(path) != head[path]
    }


async def _base(
    ctx: Context, sha: str | None, config: ContractsConfig
) -> tuple[dict[str, str], list[Finding]]:
    """The base side; none for a new branch or a base force-pushed away (all is new then)."""
    if sha is None:
        return {}, []
    try:
        return await _selected(ctx, sha, config)
    except Exception as exc:
        if not is_not_found(exc):
            raise
        return {}, []


async def contracts(ctx: Context, pr: Json, runs: list[Json], *, rerun: bool = False) -> Json:
    """Post `Baton / contracts` on the PR head unless a completed run is there; the run."""
    existing = latest(runs, CONTRACTS_CHECK, ctx.app_id)
    if existing and existing.get("status") == "completed" and not rerun:
        return existing  # a replayed delivery: the scan of this head is already posted
    return await _post(ctx, pr["head"]["sha"], pr["base"]["sha"])


async def contracts_of_push(ctx: Context, push: Push, *, rerun: bool = False) -> Json:
    """`Baton / contracts` on a default-branch push's new head, against the previous head;
    every finding is annotated (the record of the branch's drift), not only those the push
    touched."""
    existing = latest(await runs_of(ctx, push.head), CONTRACTS_CHECK, ctx.app_id)
    if existing and existing.get("status") == "completed" and not rerun:
        return existing
    return await _post(ctx, push.head, push.base, record=push_id(push))


async def _post(ctx: Context, sha: str, base_sha: str | None, *, record: str | None = None) -> Json:
    """Create the run in progress (the Checks UI shows it running while the scan runs), scan,
    then add the annotations 50 a request; the last request completes it, so a completed run
    always carries all of them (a retry after a crash in between creates a fresh run).
    `record`: the external id of a default-branch run, whose every finding is annotated; a
    PR head's run annotates existing drift only on the lines the PR changed."""
    config = await ctx.config()
    cc = config.contracts
    # The trees first: a commit that is gone (404) leaves nothing to post a run on.
    (head_paths, head_skips), (base_paths, base_skips) = await asyncio.gather(
        _selected(ctx, sha, cc), _base(ctx, base_sha, cc)
    )
    started = create_body(
        CONTRACTS_CHECK,
        sha,
        "in_progress",
        output={"title": "Scanning", "summary": "Scanning the contracts of this commit."},
        external_id=record,
        now=ctx.clock(),
    )
    run: Json = await ctx.gh.post(f"/repos/{ctx.repo}/check-runs", data=started)
    head, base = await _contents(ctx, head_paths, base_paths)
    # The scan is CPU-bound (it parses, never runs, the code): off the event loop.
    head_result, base_result = await asyncio.to_thread(scan_pair, head, base, cc)
    head_result.findings.extend(head_skips)
    base_result.findings.extend(base_skips)
    report = compare(head_result, base_result, config.problems)
    changed: Changed | None = None
    if record is None:
        drifted = {f.path for f in report.existing}
        changed = await asyncio.to_thread(_changes, head, base, drifted)
    batches = annotation_batches(report.new, report.existing, changed) or [[]]
    last = len(batches) - 1
    for i, batch in enumerate(batches):
        body = update_body(
            conclusion=report.conclusion if i == last else None,
            output=report.output,
            annotations=batch or None,
            now=ctx.clock(),
        )
        run = await ctx.gh.patch(f"/repos/{ctx.repo}/check-runs/{run['id']}", data=body)
    return run
