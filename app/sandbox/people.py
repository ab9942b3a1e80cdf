"""People (and agents) acting on the sandbox's GitHub, as they would on github.com."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.sandbox.server import SandboxServer


class Person:
    def __init__(self, sandbox: SandboxServer, login: str, type: str = "User") -> None:
        self.sandbox = sandbox
        self.user = sandbox.world.user(login, type)
        self.login = login

    def _repo_issue(self, repo: str, number: int):  # type: ignore[no-untyped-def]
        r = self.sandbox.world.repos[repo]
        return r, self.sandbox.actions.issue(r, number)

    def open_issue(self, repo: str, title: str, body: str | None, labels: list[str] = ()) -> int:
        r = self.sandbox.world.repos[repo]
        return self.sandbox.actions.open_issue(r, self.user, title, body, list(labels)).number

    def edit_issue(self, repo: str, number: int, **fields: object) -> None:
        r, issue = self._repo_issue(repo, number)
        self.sandbox.actions.edit_issue(r, issue, self.user, **fields)

    def label(self, repo: str, number: int, *names: str) -> None:
        r, issue = self._repo_issue(repo, number)
        self.sandbox.actions.add_labels(r, issue, self.user, list(names))

    def assign(self, repo: str, number: int, *logins: str) -> None:
        r, issue = self._repo_issue(repo, number)
        self.sandbox.actions.assign(r, issue, self.user, list(logins or [self.login]))

    def unassign(self, repo: str, number: int, *logins: str) -> None:
        r, issue = self._repo_issue(repo, number)
        self.sandbox.actions.unassign(r, issue, self.user, list(logins or [self.login]))

    def comment(self, repo: str, number: int, body: str) -> int:
        r, issue = self._repo_issue(repo, number)
        return self.sandbox.actions.comment(r, issue, self.user, body).id

    def edit_comment(self, repo: str, comment_id: int, body: str) -> None:
        r = self.sandbox.world.repos[repo]
        self.sandbox.actions.edit_comment(r, r.comments[comment_id], self.user, body)

    def react(self, repo: str, comment_id: int, content: str) -> None:
        """React on a comment (GitHub sends no webhook for it)."""
        reactions = self.sandbox.world.repos[repo].comments[comment_id].reactions
        if not any(r[1:] == (self.login, content) for r in reactions):
            reactions.append((self.sandbox.world.next_id(), self.login, content))

    def close(self, repo: str, number: int, reason: str = "completed") -> None:
        r, issue = self._repo_issue(repo, number)
        self.sandbox.actions.close(r, issue, self.user, reason)

    def reopen(self, repo: str, number: int) -> None:
        r, issue = self._repo_issue(repo, number)
        self.sandbox.actions.reopen(r, issue, self.user)

    def open_pr(
        self,
        repo: str,
        title: str,
        body: str,
        branch: str,
        changes: dict[str, bytes | None],
        *,
        draft: bool = False,
    ) -> int:
        r = self.sandbox.world.repos[repo]
        return self.sandbox.actions.open_pr(
            r, self.user, title, body, branch, changes, draft=draft
        ).number

    def push(self, repo: str, number: int, changes: dict[str, bytes | None]) -> str:
        r, pr = self._repo_issue(repo, number)
        return self.sandbox.actions.push(r, pr, self.user, changes)

    def ready_for_review(self, repo: str, number: int) -> None:
        r, pr = self._repo_issue(repo, number)
        self.sandbox.actions.ready_for_review(r, pr, self.user)

    def merge(self, repo: str, number: int) -> None:
        r, pr = self._repo_issue(repo, number)
        self.sandbox.actions.merge(r, pr, self.user)

    def review(
        self, repo: str, number: int, state: str, body: str = "", commit_id: str | None = None
    ) -> int:
        r, pr = self._repo_issue(repo, number)
        return self.sandbox.actions.review(r, pr, self.user, state, body, commit_id).id

    def dismiss_review(self, repo: str, number: int, review_id: int) -> None:
        r, pr = self._repo_issue(repo, number)
        self.sandbox.actions.dismiss_review(r, pr, self.user, review_id)

    def check(self, repo: str, sha: str, name: str, conclusion: str | None = None) -> int:
        """As CI: start the check run `name` on `sha`, or complete it with `conclusion`."""
        r = self.sandbox.world.repos[repo]
        return self.sandbox.actions.other_check(r, self.user, sha, name, conclusion).id

    def status(self, repo: str, sha: str, context: str, state: str) -> int:
        """As CI that reports through the statuses API: set `context` on `sha` to `state`."""
        r = self.sandbox.world.repos[repo]
        return self.sandbox.actions.set_status(r, self.user, sha, state, context).id

    def push_to(self, repo: str, branch: str, changes: dict[str, bytes | None],
                message: str = "A commit") -> str:  # fmt: skip
        """Push one commit to `branch` (e.g. the default branch); the new head's SHA."""
        r = self.sandbox.world.repos[repo]
        return self.sandbox.actions.push_branch(r, self.user, branch, changes, message)

    def rerequest(self, repo: str, check_run_id: int) -> None:
        r = self.sandbox.world.repos[repo]
        self.sandbox.actions.rerequest(r, r.check_runs[check_run_id], self.user)
