"""Which repository paths are providers, consumers, or neither: globs, defaults, exclusions."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from app.config import ContractsConfig

from .model import Finding

SPEC_EXTENSIONS = (".yaml", ".yml", ".json")
PY_EXTENSIONS = (".py",)
JS_EXTENSIONS = (".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs", ".mts", ".cts", ".vue", ".svelte")

DEFAULT_PROVIDER = (
    "**/openapi*.{yaml,yml,json}",
    "**/swagger*.{yaml,yml,json}",
    "**/*.openapi.{yaml,yml,json}",
    "**/api-docs*.{yaml,yml,json}",
    "**/*.py",
    "**/*.{js,ts,mjs,cjs}",
)
DEFAULT_CONSUMER = ("**/*.{js,ts,jsx,tsx,mjs,cjs,vue,svelte}",)
# Never scanned: dependencies, build output, vendored or minified code, tests and fixtures.
DEFAULT_EXCLUDE = (
    "**/node_modules/**",
    "**/dist/**",
    "**/build/**",
    "**/out/**",
    "**/.next/**",
    "**/.nuxt/**",
    "**/.output/**",
    "**/.svelte-kit/**",
    "**/coverage/**",
    "**/vendor/**",
    "**/vendors/**",
    "**/third_party/**",
    "**/.git/**",
    "**/.venv/**",
    "**/venv/**",
    "**/site-packages/**",
    "**/*.min.js",
    "**/*.bundle.js",
    "**/*-min.js",
    "**/*.d.ts",
    "**/test/**",
    "**/tests/**",
    "**/__tests__/**",
    "**/__mocks__/**",
    "**/e2e/**",
    "**/cypress/**",
    "**/playwright/**",
    "**/fixtures/**",
    "**/*.test.*",
    "**/*.spec.*",
    "**/test_*.py",
    "**/*_test.py",
    "**/conftest.py",
    "**/*.stories.*",
    "**/migrations/**",
)


def _expand_braces(pattern: str) -> list[str]:
    match = re.search(r"\{([^{}]*)\}", pattern)
    if not match:
        return [pattern]
    out = []
    for option in match.group(1).split(","):
        out.extend(_expand_braces(pattern[: match.start()] + option + pattern[match.end() :]))
    return out


def _translate(pattern: str) -> str:
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i)
            if end < 0:
                out.append(re.escape(c))
            else:
                out.append("[" + pattern[i + 1 : end].replace("!", "^", 1) + "]")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


@lru_cache(maxsize=512)
def compile_globs(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regex for a set of globs (`**`, `*`, `?`, `[..]`, `{a,b}`); a pattern with no slash
    matches the file name anywhere, as .gitignore does."""
    parts: list[str] = []
    for pattern in patterns:
        pattern = pattern.strip().lstrip("/")
        if pattern.startswith("./"):
            pattern = pattern[2:]
        if not pattern or pattern.startswith(("GET ", "POST ", "PUT ", "PATCH ", "DELETE ")):
            continue
        if pattern.endswith("/"):
            pattern += "**"
        if "/" not in pattern:
            pattern = "**/" + pattern
        parts.extend(_translate(p) for p in _expand_braces(pattern))
    return re.compile("(?:" + "|".join(parts) + r")\Z") if parts else None


def matches(patterns: tuple[str, ...], path: str) -> bool:
    regex = compile_globs(patterns)
    return bool(regex and regex.match(path))


def provider_globs(config: ContractsConfig) -> tuple[str, ...]:
    return config.provider or DEFAULT_PROVIDER


def consumer_globs(config: ContractsConfig) -> tuple[str, ...]:
    return config.consumer or DEFAULT_CONSUMER


def roles(path: str, config: ContractsConfig) -> tuple[bool, bool]:
    """(is provider, is consumer) for one path; both False when excluded or ignored."""
    if matches(DEFAULT_EXCLUDE, path) or matches(config.ignore, path):
        return False, False
    return matches(provider_globs(config), path), matches(consumer_globs(config), path)


def select_paths(paths: Iterable[str], config: ContractsConfig) -> list[str]:
    """Repository paths the scan needs: provider + consumer globs, minus exclusions and ignore."""
    return sorted(p for p in paths if any(roles(p, config)))


def kind_of(path: str) -> str:
    """How a file is read; also part of the cache key (same bytes, other parser, other facts)."""
    lower = path.lower()
    if lower.endswith(SPEC_EXTENSIONS):
        return "spec-json" if lower.endswith(".json") else "spec-yaml"
    if lower.endswith(PY_EXTENSIONS):
        return "py"
    for ext in (".tsx", ".ts", ".mts", ".cts", ".vue", ".svelte"):
        if lower.endswith(ext):
            return "js" + ext
    return "js.js" if lower.endswith(JS_EXTENSIONS) else ""


def select_blobs(
    entries: dict[str, tuple[str, int]],
    config: ContractsConfig,
    *,
    max_file: int,
    max_spec: int,
    max_files: int | None = None,
    max_bytes: int | None = None,
) -> tuple[dict[str, str], list[Finding]]:
    """From a tree's `path -> (blob SHA, size)`: the blobs the scan needs, and a notice for each
    file the bounds leave out. The tree tells sizes, so nothing oversized is ever fetched."""
    wanted: dict[str, str] = {}
    skipped: list[Finding] = []
    total = 0
    for path in select_paths(entries, config):
        blob, size = entries[path]
        most = max_spec if kind_of(path).startswith("spec") else max_file
        if size > most:
            why = f"Not scanned: {size} bytes, over the {most} byte limit of a file."
            skipped.append(Finding("oversized-file", "notice", path, 1, why))
            continue
        full = max_files is not None and len(wanted) >= max_files
        if full or (max_bytes is not None and total + size > max_bytes):
            limit = f"{max_files} files" if full else f"{max_bytes} bytes"
            why = f"Not scanned: the scan reached its limit of {limit} on this side."
            skipped.append(Finding("too-many-files", "notice", path, 1, why))
            continue
        wanted[path] = blob
        total += size
    return wanted, skipped
