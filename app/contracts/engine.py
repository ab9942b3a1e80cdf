"""The scan: files in (path -> bytes), config, out endpoints, calls and findings. Pure, bounded.

Per-file extraction is cached by (sha256, kind) in a bounded LRU, so a re-scan after a push
costs in proportion to the changed files; linking and matching are redone (they are cheap).
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from threading import Lock
from typing import Any

from cachetools import LRUCache

from app.config import ContractsConfig

from . import breaking, diff, match
from .documents import DocumentError, load_document
from .facts import FileFacts, Notice
from .file_routes import file_endpoints
from .js_facts import extract_js
from .link import Linker
from .model import Call, Endpoint, Finding, ScanResult
from .openapi import Operation, is_spec, operations
from .python_calls import extract_python
from .resolve import file_calls
from .selection import compile_globs, kind_of, roles
from .urls import looks_static

MAX_FILE_BYTES = 2 * 1024 * 1024  # source files; generated bundles are larger and excluded
MAX_SPEC_BYTES = 16 * 1024 * 1024  # OpenAPI documents of big APIs reach several MB
MAX_FILES = 20_000
MAX_CALLS = 200_000

# A document is read as a spec only when it says it is one (`openapi: 3.1.0`, `"swagger": "2.0"`).
_DECLARES_SPEC = re.compile(r"""(?:^|[{,])\s*["']?(?:openapi|swagger)["']?\s*:""", re.MULTILINE)
_CACHE: LRUCache[tuple[str, str], FileFacts] = LRUCache(maxsize=40_000)
_CACHE_LOCK = Lock()


@dataclass
class Analysis:
    endpoints: list[Endpoint] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    notices: list[Finding] = field(default_factory=list)
    operations: list[tuple[str, Operation]] = field(default_factory=list)
    files: int = 0
    bytes: int = 0


def _bad_path(path: str) -> str | None:
    if not path or "\0" in path or path.startswith("/") or "\\" in path:
        return "is not a relative repository path"
    if ".." in path.split("/") or posixpath.normpath(path) != path:
        return "leaves the repository or is not normalised (`..`, `.`, `//`)"
    return None


def extract(path: str, data: bytes) -> FileFacts:
    """Facts of one file, from the cache when the same bytes were read as the same kind."""
    return _extract_cached(path, data)[1]


def _extract_cached(path: str, data: bytes) -> tuple[str, FileFacts]:
    kind = kind_of(path)
    key = (hashlib.sha256(data).hexdigest(), kind)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
    if cached is None:
        cached = _extract(path, kind, data)
        with _CACHE_LOCK:
            _CACHE[key] = cached
    return key[0] + kind, cached


def _extract(path: str, kind: str, data: bytes) -> FileFacts:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        facts = FileFacts("")
        line = data.count(b"\n", 0, exc.start) + 1
        facts.notices.append(
            Notice("invalid-encoding", line, "The file is not valid UTF-8; it was skipped.")
        )
        return facts
    if kind.startswith("spec"):
        facts = FileFacts("openapi")
        if not _DECLARES_SPEC.search(text):
            return facts  # tsconfig.json, package.json, CI files: not ours to read
        try:
            doc, lines = load_document(text, path)
        except DocumentError as exc:
            facts.notices.append(
                Notice("unparsable-file", 1, f"Could not read the document: {exc}.")
            )
            return facts
        if is_spec(doc):
            facts.operations = operations(doc, lines, text)
        return facts
    if kind == "py":
        return extract_python(text)
    return extract_js(path, data)


def analyse(files: Mapping[str, bytes], config: ContractsConfig) -> Analysis:
    out = Analysis()
    facts: dict[str, FileFacts] = {}
    digests: dict[str, str] = {}
    provider: set[str] = set()
    consumer: set[str] = set()
    for path in sorted(files):
        is_provider, is_consumer = roles(path, config)
        if not (is_provider or is_consumer) or not kind_of(path):
            continue
        problem = _bad_path(path)
        if problem:
            out.notices.append(
                Finding("invalid-path", "notice", path, 1, f"The path {problem}; it was skipped.")
            )
            continue
        if out.files >= MAX_FILES:
            out.notices.append(
                Finding(
                    "too-many-files",
                    "notice",
                    path,
                    1,
                    f"More than {MAX_FILES} files; this one and the rest were skipped.",
                )
            )
            break
        data = files[path]
        limit = MAX_SPEC_BYTES if kind_of(path).startswith("spec") else MAX_FILE_BYTES
        if not isinstance(data, bytes | bytearray):
            out.notices.append(
                Finding(
                    "unreadable-file",
                    "notice",
                    path,
                    1,
                    "The file's content is missing; it was skipped.",
                )
            )
            continue
        if len(data) > limit:
            size = len(data)
            out.notices.append(
                Finding(
                    "oversized-file",
                    "notice",
                    path,
                    1,
                    f"The file has {size} bytes, over the {limit} byte limit; it was "
                    "skipped. Add it to contracts.ignore if it is generated.",
                )
            )
            continue
        out.files += 1
        out.bytes += len(data)
        digests[path], facts[path] = _extract_cached(path, bytes(data))
        for notice in facts[path].notices:
            out.notices.append(Finding(notice.code, "notice", path, notice.line, notice.message))
        if is_provider:
            provider.add(path)
        if is_consumer:
            consumer.add(path)
    linker = Linker(facts)
    out.endpoints = linker.endpoints(provider)
    for path in sorted(provider):
        out.endpoints.extend(file_endpoints(path, facts[path]))
        for op in facts[path].operations:
            out.operations.append((path, op))
            out.endpoints.append(
                Endpoint(op.method, op.path, path, op.line, op.raw_path, "openapi")
            )
    paths_key = hash((tuple(facts), linker.axios_base))
    for path in sorted(consumer):
        calls, notices = file_calls(path, facts[path], digests[path], linker, digests, paths_key)
        out.calls.extend(calls[: max(0, MAX_CALLS - len(out.calls))])
        out.notices.extend(notices)
    # `fetch('/logo.svg')` is a static asset of the frontend, unless an endpoint serves that path.
    index = match.EndpointIndex(out.endpoints)
    out.calls = [c for c in out.calls if not looks_static(c.path) or index.path_matches(c.path)]
    out.endpoints.sort(key=lambda e: (e.method, e.path, e.file, e.line))
    out.calls.sort(key=lambda c: (c.method, c.path, c.file, c.line))
    return out


def _ignored_endpoints(config: ContractsConfig) -> list[tuple[str, Any]]:
    """`contracts.ignore` entries naming endpoints: `/health`, `GET /internal/**`."""
    out = []
    for entry in config.ignore:
        method, _, pattern = entry.strip().rpartition(" ")
        if pattern.startswith("/"):
            out.append((method.upper() or "*", compile_globs((pattern.lstrip("/"),))))
    return out


def scan(
    files: Mapping[str, bytes],
    config: ContractsConfig,
    base_files: Mapping[str, bytes] | None = None,
) -> ScanResult:
    base = analyse(base_files, config) if base_files is not None else None
    head = _result(analyse(files, config), config, base)
    if base is not None:
        head.baseline = frozenset(f.key for f in _result(base, config, None).findings)
    return head


def scan_pair(
    files: Mapping[str, bytes], base_files: Mapping[str, bytes], config: ContractsConfig
) -> tuple[ScanResult, ScanResult]:
    """Head (with its diff against base) and base, each tree analysed once: what a PR check
    compares to tell new drift from drift that was already there. Unlike `scan`, the head's
    `baseline` is left unset: the caller has the base result to compare with."""
    base = analyse(base_files, config)
    return _result(analyse(files, config), config, base), _result(base, config, None)


def _renames(base: Analysis, head: Analysis) -> dict[tuple[str, str], Endpoint]:
    return diff.renames(base.endpoints, head.endpoints)


def _renamed(finding: Finding, old: tuple[str, str] | None) -> Finding:
    if old is None:
        return finding
    message = (
        f"{finding.message} Renamed from {old[0]} {old[1]}? Callers may still use the old path."
    )
    return replace(finding, message=message)


def _result(head: Analysis, config: ContractsConfig, base: Analysis | None) -> ScanResult:
    ignored = _ignored_endpoints(config)

    def skip(method: str, path: str) -> bool:
        return any(
            m in ("*", method) and regex and regex.match(path.lstrip("/")) for m, regex in ignored
        )

    calls = [c for c in head.calls if not skip(c.method, c.path)]
    if head.endpoints:  # calls to hosts that are not the provider's are not checked against it
        # a host is the provider's when its calls reach the provider, before the change or after
        known = head.endpoints + (base.endpoints if base is not None else [])
        calls = match.provider_calls(calls, known, config.base_path)
    findings = list(head.notices)
    removed: list[Finding] = []
    if base is not None:
        removed = diff.removed_endpoints(base.endpoints, head.endpoints, calls, config.base_path)
        findings += breaking.breaking_changes(
            base.operations, head.operations, calls, config.base_path
        )
    removed_at = {(f.path, f.line, f.method, f.endpoint) for f in removed}
    findings += removed
    if head.endpoints and calls:
        problems, reached = match.match_calls(calls, head.endpoints, config.base_path)
        findings += [
            f for f in problems if (f.path, f.line, f.method, f.endpoint) not in removed_at
        ]
        used = [ep for ep in head.endpoints if not skip(ep.method, ep.path)]
        unused = match.unused_endpoints(used, reached)
        if base is not None:  # a rename shows as removed + unused: say so on the new one
            olds = {(new.method, new.path): old for old, new in _renames(base, head).items()}
            unused = [_renamed(f, olds.get((f.method, f.endpoint))) for f in unused]
        findings += unused
    findings.sort(key=lambda f: (f.path, f.line, f.code, f.method, f.endpoint))
    return ScanResult(head.endpoints, head.calls, findings, head.files, head.bytes)
