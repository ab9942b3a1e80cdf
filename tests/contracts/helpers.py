"""Shared helpers of the contract tests: fixture trees, git repositories, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.config import ContractsConfig, parse_config

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[2]


def read_tree(root: Path) -> dict[str, bytes]:
    files = {}
    for directory, _, names in os.walk(root):
        for name in names:
            full = Path(directory) / name
            files[full.relative_to(root).as_posix()] = full.read_bytes()
    return files


def load_fixture(name: str) -> tuple[dict[str, bytes], ContractsConfig]:
    files = read_tree(FIXTURES / name)
    config = parse_config(files.get(".github/baton.yml"))
    assert not config.problems
    return files, config.contracts


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    proc = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=True
    )
    return proc.stdout


def write(repo: Path, files: dict[str, str | None]) -> None:
    for rel, text in files.items():
        path = repo / rel
        if text is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def make_repo(tmp_path: Path, files: dict[str, str | None]) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit(repo, files, "base")
    return repo


def commit(repo: Path, files: dict[str, str | None], message: str) -> None:
    write(repo, files)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def run_scan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],  # `baton scan ...`, as installed
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
