"""What people and the App do in the sandbox: each mutation updates the world and emits the
webhook deliveries GitHub would send for it. The REST routes and the test actors share these."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.sandbox.state import (
    CheckRun,
    Comment,
    CommitStatus,
    Issue,
    IssueEvent,
    Label,
    Repo,
    Review,
    User,
    World,
)
from app.tickets.linking import links

# emit(event, action, repo, sender, objects): queue one delivery
Emit = Callable[[str, str, Repo, User, dict[str, Any]], None]

DEFAULT_LABEL_COLOR = "ededed"
OTHER_APP_ID = 15368  # GitHub Actions, for CI check runs


class NotFound(LookupError):
    pass


class Invalid(ValueError):
    pass


class Actions:
    def __init__(self, world: World, emit: Emit) -> None:
        self.world = world
        self.emit = emit

    # --- issues -------------------------------------------------------------------------
    def issue(self, repo: Repo, number: int) -> Issue:
        if number not in repo.issues:
            raise NotFound(f"issue {number}")
        return repo.issues[number]

    def _record(self, repo: Repo, issue: Issue, event: str, actor: User, **kw: Any) -> None:
        repo.events.append(
            IssueEvent(
                self.world.next_id(), issue.number, event, actor, self.world.clock.iso(), **kw
            )
        )

    def _issue_emit(self, repo: Repo, issue: Issue, action: str, sender: User, **kw: Any) -> None:
        event = "pull_request" if issue.is_pr else "issues"
        key = "pull_request" if issue.is_pr else "issue"
        self.emit(event, action, repo, sender, {key: issue, **kw})

    def open_issue(
        self, repo: Repo, user: User, title: str, body: str | None, labels: list[str] = ()
    ) -> Issue:
        now = self.world.clock.iso()
        number = len(repo.issues) + 1
        issue = Issue(number, self.world.next_id(), title, body, user, now, now)
        issue.labels = [self.label(repo, name, create=True) for name in labels]
        repo.issues[number] = issue
        self._issue_emit(repo, issue, "opened", user)
        return issue

    def edit_issue(self, repo: Repo, issue: Issue, user: User, **fields: Any) -> Issue:
        changes = {}
        for name in ("title", "body"):
            if name in fields and fields[name] != getattr(issue, name):
                changes[name] = {"from": getattr(issue, name) or ""}
                setattr(issue, name, fields[name])
        issue.updated_at = self.world.clock.iso()
        if changes:
            self._issue_emit(repo, issue, "edited", user, changes=changes)
        if fields.get("state") == "closed" and issue.state == "open":
            self.close(repo, issue, user, fields.get("state_reason") or "completed")
        elif fields.get("state") == "open" and issue.state == "closed":
            self.reopen(repo, issue, user)
        return issue

    def close(
        self,
        repo: Repo,
        issue: Issue,
        user: User,
        reason: str = "completed",
        commit_id: str | None = None,
    ) -> None:
        if issue.state == "closed":
            return
        issue.state, issue.state_reason = "closed", reason
        issue.closed_at = issue.updated_at = self.world.clock.iso()
        issue.closed_by = user
        self._record(repo, issue, "closed", user, commit_id=commit_id)
        self._issue_emit(repo, issue, "closed", user)

    def reopen(self, repo: Repo, issue: Issue, user: User) -> None:
        if issue.state == "open" or issue.merged:
            return
        issue.state, issue.state_reason, issue.closed_at = "open", "reopened", None
        issue.updated_at = self.world.clock.iso()
        self._record(repo, issue, "reopened", user)
        self._issue_emit(repo, issue, "reopened", user)

    # --- labels -------------------------------------------------------------------------
    def label(self, repo: Repo, name: str, *, create: bool = False, color: str = "") -> Label:
        found = repo.labels.get(name.lower())
        if found is None:
            if not create:
                raise NotFound(f"label {name}")
            found = Label(self.world.next_id(), name, color or DEFAULT_LABEL_COLOR)
            repo.labels[name.lower()] = found
        return found

    def create_label(self, repo: Repo, name: str, color: str, description: str | None) -> Label:
        if name.lower() in repo.labels:
            raise Invalid("already_exists")
        label = Label(self.world.next_id(), name, color.lstrip("#"), description)
        repo.labels[name.lower()] = label
        return label

    def add_labels(self, repo: Repo, issue: Issue, user: User, names: list[str]) -> None:
        for name in names:
            label = self.label(repo, name, create=True)
            if label not in issue.labels:
                issue.labels.append(label)
                self._record(repo, issue, "labeled", user, label=label)
                self._issue_emit(repo, issue, "labeled", user, label=label)

    def remove_label(self, repo: Repo, issue: Issue, user: User, name: str) -> None:
        label = next((lb for lb in issue.labels if lb.name.lower() == name.lower()), None)
        if label is None:
            raise NotFound(f"label {name}")
        issue.labels.remove(label)
        self._record(repo, issue, "unlabeled", user, label=label)
        self._issue_emit(repo, issue, "unlabeled", user, label=label)

    # --- assignees ----------------------------------------------------------------------
    def assign(self, repo: Repo, issue: Issue, user: User, logins: list[str]) -> None:
        for login in logins:
            assignee = self.world.users.get(login)
            # GitHub silently drops assignees who cannot be assigned.
            if assignee is None or assignee in issue.assignees or len(issue.assignees) >= 10:
                continue
            issue.assignees.append(assignee)
            self._record(repo, issue, "assigned", user, assignee=assignee)
            self._issue_emit(repo, issue, "assigned", user, assignee=assignee)

    def unassign(self, repo: Repo, issue: Issue, user: User, logins: list[str]) -> None:
        for login in logins:
            assignee = next((a for a in issue.assignees if a.login == login), None)
            if assignee is None:
                continue
            issue.assignees.remove(assignee)
            self._record(repo, issue, "unassigned", user, assignee=assignee)
            self._issue_emit(repo, issue, "unassigned", user, assignee=assignee)

    # --- comments -----------------------------------------------------------------------
    def comment(self, repo: Repo, issue: Issue, user: User, body: str, *, via_app=False) -> Comment:
        now = self.world.clock.iso()
        comment = Comment(self.world.next_id(), issue.number, user, body, now, now, via_app)
        repo.comments[comment.id] = comment
        issue.comments += 1
        self.emit("issue_comment", "created", repo, user, {"issue": issue, "comment": comment})
        return comment

    def edit_comment(self, repo: Repo, comment: Comment, user: User, body: str) -> Comment:
        old = comment.body
        comment.body, comment.updated_at = body, self.world.clock.iso()
        issue = repo.issues[comment.issue_number]
        changes = {"body": {"from": old}}
        self.emit(
            "issue_comment",
            "edited",
            repo,
            user,
            {"issue": issue, "comment": comment, "changes": changes},
        )
        return comment

    # --- pull requests ------------------------------------------------------------------
    def open_pr(
        self,
        repo: Repo,
        user: User,
        title: str,
        body: str,
        branch: str,
        changes: dict[str, bytes | None],
        *,
        draft: bool = False,
    ) -> Issue:
        now = self.world.clock.iso()
        number = len(repo.issues) + 1
        pr = Issue(number, self.world.next_id(), title, body, user, now, now, is_pr=True)
        pr.base_ref, pr.base_sha = repo.default_branch, repo.branches[repo.default_branch]
        pr.head_ref, pr.draft = branch, draft
        pr.head_sha = self.world.commit(repo, branch, changes, title)
        repo.issues[number] = pr
        self._issue_emit(repo, pr, "opened", user)
        return pr

    def push(self, repo: Repo, pr: Issue, user: User, changes: dict[str, bytes | None]) -> str:
        before = pr.head_sha
        pr.head_sha = self.world.commit(repo, pr.head_ref, changes, f"push to {pr.head_ref}")
        pr.updated_at = self.world.clock.iso()
        self._issue_emit(repo, pr, "synchronize", user, before=before, after=pr.head_sha)
        return pr.head_sha

    def ready_for_review(self, repo: Repo, pr: Issue, user: User) -> None:
        pr.draft = False
        self._issue_emit(repo, pr, "ready_for_review", user)

    def merge(self, repo: Repo, pr: Issue, user: User) -> None:
        if pr.state != "open":
            raise Invalid("Pull Request is not mergeable")
        files = repo.commits[pr.head_sha]
        base = repo.branches[repo.default_branch]
        changes: dict[str, bytes | None] = {p: d for p, d in files.items()}
        changes.update({p: None for p in repo.commits[base] if p not in files})
        merge = self.world.commit(repo, repo.default_branch, changes, f"Merge #{pr.number}")
        pr.merged, pr.merged_by = True, user
        pr.state, pr.merged_at = "closed", self.world.clock.iso()
        pr.closed_at = pr.updated_at = pr.merged_at
        self._issue_emit(repo, pr, "closed", user)
        # As GitHub does: closing keywords close the linked issues, by the merger, with the
        # merge commit recorded on the `closed` issue event.
        for link in links(pr.title, pr.body, repo.full_name):
            issue = repo.issues.get(link.number)
            if link.closing and issue is not None and not issue.is_pr:
                self.close(repo, issue, user, "completed", commit_id=merge)

    def review(
        self,
        repo: Repo,
        pr: Issue,
        user: User,
        state: str,
        body: str = "",
        commit_id: str | None = None,
    ) -> Review:
        review = Review(
            self.world.next_id(),
            pr.number,
            user,
            state,
            commit_id or pr.head_sha,
            body,
            self.world.clock.iso(),
        )
        repo.reviews.append(review)
        self.emit(
            "pull_request_review", "submitted", repo, user, {"review": review, "pull_request": pr}
        )
        return review

    def dismiss_review(self, repo: Repo, pr: Issue, user: User, review_id: int) -> None:
        review = next((r for r in repo.reviews if r.id == review_id), None)
        if review is None or review.pr_number != pr.number:
            raise NotFound(f"review {review_id}")
        review.state = "DISMISSED"
        self.emit(
            "pull_request_review", "dismissed", repo, user, {"review": review, "pull_request": pr}
        )

    # --- check runs ---------------------------------------------------------------------
    def save_check_run(self, repo: Repo, run: CheckRun, sender: User, was: str | None) -> None:
        """`was`: the status before this request, None when the run is new."""
        if was is None:
            repo.check_runs[run.id] = run
            self.emit("check_run", "created", repo, sender, {"check_run": run})
        if run.status == "completed" and was != "completed":
            run.completed_at = run.completed_at or self.world.clock.iso()
            self.emit("check_run", "completed", repo, sender, {"check_run": run})

    def other_check(
        self, repo: Repo, user: User, sha: str, name: str, conclusion: str | None = None
    ) -> CheckRun:
        """Another App's (CI's) run named `name` on `sha`: started, or completed."""
        run = next(
            (
                r
                for r in repo.check_runs.values()
                if r.name == name and r.head_sha == sha and r.app_id == OTHER_APP_ID
            ),
            None,
        )
        was = None if run is None else run.status
        if run is None:
            now = self.world.clock.iso()
            run = CheckRun(self.world.next_id(), name, sha, "in_progress", None, OTHER_APP_ID, now)
        if conclusion is not None:
            run.status, run.conclusion = "completed", conclusion
        self.save_check_run(repo, run, user, was)
        return run

    def set_status(self, repo: Repo, user: User, sha: str, state: str, context: str,
                   description: str | None = None, target_url: str | None = None,
                   ) -> CommitStatus:  # fmt: skip
        """A commit status, as CI that reports through the statuses API posts it."""
        if state not in ("pending", "success", "failure", "error"):
            raise Invalid("state")
        if sha not in repo.commits:
            raise Invalid("No commit found for SHA: " + sha)
        status = CommitStatus(self.world.next_id(), sha, state, context, user,
                              self.world.clock.iso(), description, target_url)  # fmt: skip
        repo.statuses.append(status)
        self.emit("status", None, repo, user, {"status": status})  # type: ignore[arg-type]
        return status

    def push_branch(
        self, repo: Repo, user: User, branch: str, changes: dict[str, bytes | None], message: str
    ) -> str:
        """`user` pushes one commit to `branch` (not a PR's: see `push`); the `push` delivery."""
        before = repo.branches.get(branch) or repo.branches[repo.default_branch]
        after = self.world.commit(repo, branch, changes, message)
        self.emit("push", None, repo, user, {"push": (branch, before, after, message)})  # type: ignore[arg-type]
        return after

    def rerequest(self, repo: Repo, run: CheckRun, user: User) -> None:
        self.emit("check_run", "rerequested", repo, user, {"check_run": run})
