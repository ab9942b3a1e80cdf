"""Read the files of a checkout: the working tree from disk, or a commit through git itself."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable

from .engine import MAX_FILE_BYTES, MAX_FILES, MAX_SPEC_BYTES
from .model import Finding

_SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", "dist", "build", ".next"}


class GitError(RuntimeError):
    pass


def read_worktree(
    root: str, wanted: Callable[[list[str]], list[str]]
) -> tuple[dict[str, bytes], list[Finding]]:
    """Files under `root` that `wanted` selects; symlinks leaving the root become notices."""
    real_root = os.path.realpath(root)
    paths: list[str] = []
    notices: list[Finding] = []
    for directory, dirs, names in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in names:
            full = os.path.join(directory, name)
            paths.append(os.path.relpath(full, root).replace(os.sep, "/"))
        if len(paths) > MAX_FILES * 20:
            break
    files: dict[str, bytes] = {}
    for rel in wanted(paths):
        full = os.path.join(root, rel)
        real = os.path.realpath(full)
        if os.path.islink(full) and not (real == real_root or real.startswith(real_root + os.sep)):
            notices.append(
                Finding(
                    "invalid-path",
                    "notice",
                    rel,
                    1,
                    "A symbolic link pointing outside the repository; it was skipped.",
                )
            )
            continue
        try:
            if not os.path.isfile(real):
                continue
            size = os.path.getsize(real)
            if size > MAX_SPEC_BYTES:
                files[rel] = _Oversized(size)  # not read: the engine reports it by its size
                continue
            with open(real, "rb") as handle:
                files[rel] = handle.read(MAX_SPEC_BYTES + 1)
        except OSError as exc:
            notices.append(
                Finding(
                    "unreadable-file", "notice", rel, 1, f"Could not read the file: {exc.strerror}."
                )
            )
    return files, notices


class _Oversized(bytes):
    """Stands in for a file too big to read: only its length is known (the engine reports it)."""

    def __new__(cls, size: int) -> _Oversized:
        obj = super().__new__(cls, b"")
        obj.size = size  # type: ignore[attr-defined]
        return obj

    def __len__(self) -> int:
        return self.size  # type: ignore[attr-defined]


def _git(root: str, *args: str, data: bytes | None = None) -> bytes:
    try:
        proc = subprocess.run(
            ["git", "-C", root, *args], input=data, capture_output=True, timeout=120, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(str(exc)) from None
    if proc.returncode != 0:
        raise GitError(proc.stderr.decode("utf-8", "replace").strip() or f"git {args[0]} failed")
    return proc.stdout


def read_commit(
    root: str, ref: str, wanted: Callable[[list[str]], list[str]]
) -> tuple[dict[str, bytes], list[Finding]]:
    """Files of `ref` via `git ls-tree` and one `git cat-file --batch`; no checkout."""
    commit = _git(root, "rev-parse", "--verify", "--quiet", ref + "^{commit}").decode().strip()
    listing = _git(root, "ls-tree", "-r", "-l", "-z", "--full-tree", commit)
    entries: dict[str, tuple[str, str, int]] = {}
    for record in listing.split(b"\0"):
        if not record:
            continue
        meta, _, name = record.partition(b"\t")
        mode, _kind, sha, size_text = meta.decode().split()
        entries[name.decode("utf-8", "surrogateescape")] = (
            mode,
            sha,
            int(size_text) if size_text.isdigit() else 0,
        )
    files: dict[str, bytes] = {}
    notices: list[Finding] = []
    fetch: list[tuple[str, str]] = []
    for path in wanted(list(entries)):
        mode, sha, size = entries[path]
        if mode == "120000":
            notices.append(
                Finding("invalid-path", "notice", path, 1, "A symbolic link; it was skipped.")
            )
        elif mode.startswith("100") and size > MAX_SPEC_BYTES:
            files[path] = _Oversized(size)
        elif mode.startswith("100"):
            fetch.append((path, sha))
    if fetch:
        out = _git(
            root, "cat-file", "--batch", data="".join(f"{sha}\n" for _, sha in fetch).encode()
        )
        at = 0
        for path, _ in fetch:
            end = out.index(b"\n", at)
            header = out[at:end].split()
            length = int(header[2])
            files[path] = out[end + 1 : end + 1 + length]
            at = end + 1 + length + 1
    return files, notices


__all__ = ["MAX_FILE_BYTES", "GitError", "read_commit", "read_worktree"]
