"""`.github/baton.yml` through the sandbox: read from the default branch, its problems shown."""

from __future__ import annotations

from pathlib import Path

from app.checks.report import CONTRACTS_CHECK
from app.checks.verification import VERIFICATION_CHECK
from app.service.server import DISPATCHER, STORE
from tests.conftest import REPO, Stack, running_stack
from tests.contracts.helpers import run_scan
from tests.octokit import validate_webhook

BAD = b"claims:\n  max_per_agent: many\n"


def repo_comments(stack: Stack, number: int) -> list:  # type: ignore[type-arg]
    comments = stack.sandbox.world.repos[REPO].comments.values()
    return [c for c in comments if c.issue_number == number]


def labels(stack: Stack, number: int) -> list[str]:
    return sorted(lb.name for lb in stack.sandbox.world.repos[REPO].issues[number].labels)


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


def push_to_main(stack: Stack, login: str, changes: dict[str, bytes | None], message: str) -> None:
    """`login` pushes one commit to the default branch: the commit, then the `push` delivery
    GitHub sends for it (the sandbox's people do not push to branches themselves)."""
    sandbox = stack.sandbox
    repo = sandbox.world.repos[REPO]
    before = repo.branches[repo.default_branch]
    after = sandbox.world.commit(repo, repo.default_branch, changes, message)
    pusher = sandbox.person(login)
    old = repo.commits[before]
    committer = {"name": login, "email": f"{login}@users.noreply.github.com", "username": login}
    commit = {
        "id": after,
        "tree_id": after,
        "distinct": True,
        "message": message,
        "timestamp": sandbox.world.clock.iso(),
        "url": f"{sandbox.url}/repos/{REPO}/commits/{after}",
        "author": committer,
        "committer": committer,
        "added": sorted(p for p, d in changes.items() if d is not None and p not in old),
        "modified": sorted(p for p, d in changes.items() if d is not None and p in old),
        "removed": sorted(p for p, d in changes.items() if d is None and p in old),
    }
    sandbox.actions.emit(
        "push",
        None,  # type: ignore[arg-type]  # push deliveries have no action
        repo,
        pusher.user,
        {
            "ref": f"refs/heads/{repo.default_branch}",
            "before": before,
            "after": after,
            "created": False,
            "deleted": False,
            "forced": False,
            "base_ref": None,
            "compare": f"https://github.com/{REPO}/compare/{before[:12]}...{after[:12]}",
            "commits": [commit],
            "head_commit": commit,
            "pusher": {"name": login, "email": committer["email"]},
        },
    )
    delivery = sandbox.deliveries[-1]
    assert delivery.event == "push" and validate_webhook("push", delivery.payload) == []


async def test_a_push_to_the_default_branch_refreshes_the_config(tmp_path: Path) -> None:
    config = b"tickets:\n  label: ticket\n"
    async with running_stack(tmp_path, files={".github/baton.yml": config}) as stack:
        ann = stack.sandbox.person("ann")
        plain = ann.open_issue(REPO, "Not a ticket", "no label, so Baton leaves it alone")
        await stack.settle()
        assert labels(stack, plain) == []  # the config with `tickets.label` is cached now
        push_to_main(stack, "maya", {".github/baton.yml": b"agents: [ada]\n"}, "Every issue")
        await stack.settle()
        now = ann.open_issue(REPO, "Now a ticket", "every issue is a ticket now")
        await stack.settle()
        assert labels(stack, now) == ["status: needs-spec"]


def test_a_bad_glob_stops_baton_scan_with_its_line_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "baton.yml").write_text(
        "contracts:\n  provider: ['src/[z-a]*.js']\n"
    )
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.js").write_text("app.get('/x', h)\n")
    done = run_scan("scan", str(tmp_path))
    assert done.returncode == 2, done.stderr  # a usage/config error, not "findings" (1)
    assert "Traceback" not in done.stderr
    assert "line 2" in done.stderr and "src/[z-a]*.js" in done.stderr


async def test_one_bad_key_does_not_turn_the_ticket_label_off(tmp_path: Path) -> None:
    config = b"tickets:\n  label: ticket\nclaims:\n  release_after: .inf\n"
    async with running_stack(tmp_path, files={".github/baton.yml": config}) as stack:
        ann = stack.sandbox.person("ann")
        plain = ann.open_issue(REPO, "Not a ticket", "no label, so Baton leaves it alone")
        ticket = ann.open_issue(REPO, "A ticket", "no criteria yet", labels=["ticket"])
        await stack.settle()
        assert labels(stack, plain) == []
        assert "status: needs-spec" in labels(stack, ticket)
        # Stale checks run with the default release_after (it overflowed before, #9.5).
        ann.edit_issue(REPO, ticket, body="## Acceptance criteria\n- [ ] refunds\n")
        ann.assign(REPO, ticket, "ann")
        await stack.settle()
        stack.sandbox.world.clock.advance(hours=30)
        stack.app[DISPATCHER].client.forget_installation(1)
        await stack.sweep()
        assert stack.app[STORE].dead_count() == 0
        assert any("no activity" in c.body for c in repo_comments(stack, ticket))
