"""`.github/baton.yml` through the sandbox: read from the default branch, its problems shown."""

from __future__ import annotations

from pathlib import Path

from app.contracts_check import CONTRACTS_CHECK
from app.verification import VERIFICATION_CHECK
from tests.conftest import REPO, running_stack

BAD = b"claims:\n  max_per_agent: many\n"


async def test_an_invalid_config_falls_back_to_defaults_and_shows_the_line(
    tmp_path: Path,
) -> None:
    async with running_stack(tmp_path, files={".github/baton.yml": BAD}) as stack:
        alice = stack.sandbox.person("alice")
        stack.sandbox.grant(REPO, "alice", "write")
        number = alice.open_pr(REPO, "Docs", "Fixes #9", "docs", {"README.md": b"# shop\n"})
        await stack.settle()
        runs = {r.name: r for r in stack.sandbox.world.repos[REPO].check_runs.values()}
        for name in (CONTRACTS_CHECK, VERIFICATION_CHECK):
            summary = str(runs[name].output.get("summary", ""))
            assert ".github/baton.yml:2" in summary and "max_per_agent" in summary, name
        assert stack.sandbox.world.repos[REPO].issues[number].head_sha == runs[name].head_sha


async def test_the_config_is_read_from_the_default_branch(tmp_path: Path) -> None:
    config = b"tickets:\n  label: ticket\n"
    async with running_stack(tmp_path, files={".github/baton.yml": config}) as stack:
        ann = stack.sandbox.person("ann")
        plain = ann.open_issue(REPO, "Not a ticket", "no label, so Baton leaves it alone")
        ticket = ann.open_issue(REPO, "A ticket", "no criteria yet", labels=["ticket"])
        await stack.settle()
        issues = stack.sandbox.world.repos[REPO].issues
        assert [lb.name for lb in issues[plain].labels] == []
        assert "status: needs-spec" in [lb.name for lb in issues[ticket].labels]
