"""One clock: the app's times (check runs, claims, token expiry) follow the injected clock, so
tests move time instead of sleeping. Here the app runs on the sandbox's clock, moved 3 days."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from app.checks.report import CONTRACTS_CHECK
from app.checks.verification import VERIFICATION_CHECK
from tests.conftest import REPO, running_stack


def parse(stamp: str | None) -> datetime:
    assert stamp is not None
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


async def test_check_run_times_are_on_the_injected_clock(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        clock = stack.sandbox.world.clock
        clock.advance(days=3)
        before = clock.now()
        alice = stack.sandbox.person("alice")
        pr = alice.open_pr(REPO, "Orders", "", "orders", {"a.py": b"x = 1\n"})
        await stack.settle()
        after = clock.now()
        sha = stack.sandbox.world.repos[REPO].issues[pr].head_sha
        runs = {
            r.name: r for r in stack.sandbox.world.repos[REPO].check_runs.values()
            if r.head_sha == sha
        }  # fmt: skip
        assert set(runs) == {CONTRACTS_CHECK, VERIFICATION_CHECK}
        for run in runs.values():
            stamps = [parse(run.started_at)]
            if run.completed_at is not None:
                stamps.append(parse(run.completed_at))
            for stamp in stamps:  # whole seconds: GitHub's format
                assert before.replace(microsecond=0) <= stamp <= after, (run.name, stamp)
