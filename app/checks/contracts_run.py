"""The `Baton / contracts` check run's shell: fetch both sides' files, scan, post the run.

One recursive tree per side and only the selected blobs, cached by blob SHA, so a re-scan
after a push costs requests in proportion to the changed files.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging

from app.checks.check_runs import Json, latest
from app.checks.report import (
    CONTRACTS_CHECK,
    annotation_batches,
    compare,
    create_body,
    update_body,
)
from app.config import ContractsConfig
from app.contracts import scan_pair, select_paths
from app.contracts.model import Finding
from app.contracts.selection import kind_of
from app.service.dispatch import Context

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
    wanted: dict[str, str] = {}
    skipped: list[Finding] = []
    total = 0
    for path in select_paths(list(entries), config):
        blob, size = entries[path]
        most = MAX_SPEC if kind_of(path).startswith("spec") else MAX_BLOB
        if size > most:
            why = f"Not scanned: {size} bytes, over the {most} byte limit of a file."
            skipped.append(Finding("oversized-file", "notice", path, 1, why))
            continue
        if len(wanted) >= MAX_FILES or total + size > MAX_BYTES:
            limit = f"{MAX_FILES} files" if len(wanted) >= MAX_FILES else f"{MAX_BYTES} bytes"
            why = f"Not scanned: the scan reached its limit of {limit} on this side."
            skipped.append(Finding("too-many-files", "notice", path, 1, why))
            continue
        wanted[path] = blob
        total += size
    return wanted, skipped


async def _contents(ctx: Context, *sides: dict[str, str]) -> list[dict[str, bytes]]:
    """Each side's files; a blob both sides share is fetched once."""
    limit = asyncio.Semaphore(FETCHES)
    unique = {blob for side in sides for blob in side.values()}
    blobs = dict(await asyncio.gather(*(_blob(ctx, b, limit) for b in unique)))
    return [{path: blobs[blob] for path, blob in side.items()} for side in sides]


async def contracts(ctx: Context, pr: Json, runs: list[Json], *, rerun: bool = False) -> Json:
    """Post `Baton / contracts` on the PR head unless a completed run is there; the run."""
    sha, base_sha = pr["head"]["sha"], pr["base"]["sha"]
    existing = latest(runs, CONTRACTS_CHECK, ctx)
    if existing and existing.get("status") == "completed" and not rerun:
        return existing  # a replayed delivery: the scan of this head is already posted
    config = await ctx.config()
    cc = config.contracts
    (head_paths, head_skips), (base_paths, base_skips) = await asyncio.gather(
        _selected(ctx, sha, cc), _selected(ctx, base_sha, cc)
    )
    head, base = await _contents(ctx, head_paths, base_paths)
    # The scan is CPU-bound (it parses, never runs, the code): off the event loop.
    head_result, base_result = await asyncio.to_thread(scan_pair, head, base, cc)
    head_result.findings.extend(head_skips)
    base_result.findings.extend(base_skips)
    report = compare(head_result, base_result, config.problems)
    batches = annotation_batches(report.new, report.existing) or [[]]
    last = len(batches) - 1
    # Annotations go 50 a request; the run completes with the last batch, so a completed run
    # always carries all of them (a retry after a crash in between creates a fresh run).
    body = create_body(
        CONTRACTS_CHECK,
        sha,
        conclusion=report.conclusion if last == 0 else None,
        output=report.output,
        annotations=batches[0] or None,
        now=ctx.clock(),
    )
    run: Json = await ctx.gh.post(f"/repos/{ctx.repo}/check-runs", data=body)
    for i, batch in enumerate(batches[1:], start=1):
        body = update_body(
            conclusion=report.conclusion if i == last else None,
            output=report.output,
            annotations=batch,
            now=ctx.clock(),
        )
        run = await ctx.gh.patch(f"/repos/{ctx.repo}/check-runs/{run['id']}", data=body)
    return run
