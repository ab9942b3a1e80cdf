"""Sandbox records rendered as GitHub JSON, through shapes checked against GitHub's schemas."""

from __future__ import annotations

import base64
from typing import Any

from app.sandbox import shapes
from app.sandbox.state import (
    PERMISSION_RANK,
    CheckRun,
    Comment,
    CommitStatus,
    Installation,
    Issue,
    IssueEvent,
    Label,
    Repo,
    Review,
    User,
    git_blob_sha,
)

JSON = dict[str, Any]


class Render:
    def __init__(self, base_url: str, app_id: int, app_slug: str, app_owner: User) -> None:
        self.base_url = base_url
        self.app_id = app_id
        self.app_slug = app_slug
        self.app_owner = app_owner

    def user(self, user: User | None) -> JSON | None:
        if user is None:
            return None
        return shapes.user(user.login, user.id, user.type, base_url=self.base_url)

    def app(self) -> JSON:
        return shapes.app(
            self.app_id,
            self.app_slug,
            self.user(self.app_owner),
            base_url=self.base_url,
            name="Baton",
        )

    def installation(self, inst: Installation) -> JSON:
        return shapes.installation(
            inst.id, self.user(inst.account), self.app(), base_url=self.base_url
        )

    def repository(self, repo: Repo) -> JSON:
        return shapes.repository(
            self.user(repo.owner),
            repo.name,
            repo.id,
            base_url=self.base_url,
            default_branch=repo.default_branch,
        )

    def label(self, repo: Repo, label: Label) -> JSON:
        return shapes.label(
            label.name, label.color, label.id, self.repository(repo), description=label.description
        )

    def _association(self, repo: Repo, user: User) -> str:
        if user.login == repo.owner.login:
            return "OWNER"
        if PERMISSION_RANK[repo.permission(user.login)] >= PERMISSION_RANK["write"]:
            return "COLLABORATOR"
        return "NONE"

    def _via_app(self, user: User) -> JSON | None:
        return self.app() if user.login == f"{self.app_slug}[bot]" else None

    def issue(self, repo: Repo, issue: Issue) -> JSON:
        r = self.repository(repo)
        pull = None
        if issue.is_pr:
            pull = {
                "url": f"{r['url']}/pulls/{issue.number}",
                "html_url": f"{r['html_url']}/pull/{issue.number}",
                "diff_url": f"{r['html_url']}/pull/{issue.number}.diff",
                "patch_url": f"{r['html_url']}/pull/{issue.number}.patch",
                "merged_at": issue.merged_at,
            }
        return shapes.issue(
            r,
            issue.number,
            issue.id,
            issue.title,
            issue.body,
            self.user(issue.user),
            [self.label(repo, lb) for lb in issue.labels],
            [self.user(a) for a in issue.assignees],
            issue.state,
            issue.state_reason,
            issue.comments,
            issue.created_at,
            issue.updated_at,
            issue.closed_at,
            closed_by=self.user(issue.closed_by),
            pull_request=pull,
            author_association=self._association(repo, issue.user),
        )

    def pull(self, repo: Repo, pr: Issue) -> JSON:
        return shapes.pull_request(
            self.repository(repo),
            pr.number,
            pr.id,
            pr.title,
            pr.body,
            self.user(pr.user),
            pr.head_sha,
            pr.head_ref,
            pr.base_sha,
            pr.base_ref,
            pr.state,
            created_at=pr.created_at,
            updated_at=pr.updated_at,
            draft=pr.draft,
            merged=pr.merged,
            merged_at=pr.merged_at,
            merged_by=self.user(pr.merged_by),
            closed_at=pr.closed_at,
            labels=[self.label(repo, lb) for lb in pr.labels],
            assignees=[self.user(a) for a in pr.assignees],
            author_association=self._association(repo, pr.user),
        )

    def comment(self, repo: Repo, c: Comment) -> JSON:
        return shapes.comment(
            self.repository(repo),
            c.issue_number,
            c.id,
            self.user(c.user),
            c.body,
            c.created_at,
            c.updated_at,
            performed_via_github_app=self._via_app(c.user),
            author_association=self._association(repo, c.user),
            is_pull_request=repo.issues[c.issue_number].is_pr,
            reactions=[content for _, _, content in c.reactions],
        )

    def event(self, repo: Repo, e: IssueEvent) -> JSON:
        return shapes.issue_event(
            self.repository(repo),
            e.id,
            e.event,
            self.user(e.actor),
            e.created_at,
            assignee=self.user(e.assignee),
            assigner=self.user(e.actor) if e.assignee else None,
            label=self.label(repo, e.label) if e.label else None,
            performed_via_github_app=self._via_app(e.actor),
            commit_id=e.commit_id,
        )

    def review(self, repo: Repo, rv: Review) -> JSON:
        return shapes.review(
            self.repository(repo),
            rv.pr_number,
            rv.id,
            self.user(rv.user),
            rv.state,
            rv.commit_id,
            rv.body,
            rv.submitted_at,
            author_association=self._association(repo, rv.user),
        )

    def other_app(self, app_id: int) -> JSON:
        """Another App (CI) that posts check runs: GitHub Actions' id and slug."""
        owner = shapes.user("github", 9919, "Organization", base_url=self.base_url)
        return shapes.app(app_id, "github-actions", owner, base_url=self.base_url)

    def check_suite(self, repo: Repo, run: CheckRun, **extra: Any) -> JSON:
        """The suite of `run` (a suite of one run in the sandbox)."""
        return shapes.check_suite(
            self.repository(repo),
            run.id,
            run.head_sha,
            None,
            run.status,
            run.conclusion,
            self._run_app(run),
            run.started_at,
            run.completed_at or run.started_at,
            pull_requests=self._run_prs(repo, run),
            **extra,
        )

    def _run_app(self, run: CheckRun) -> JSON:
        return self.app() if run.app_id == self.app_id else self.other_app(run.app_id)

    def _run_prs(self, repo: Repo, run: CheckRun) -> list[JSON]:
        return [
            shapes.pull_request_minimal(self.pull(repo, i))
            for i in repo.issues.values()
            if i.is_pr and i.state == "open" and i.head_sha == run.head_sha
        ]

    def check_run(self, repo: Repo, run: CheckRun) -> JSON:
        r = self.repository(repo)
        app, prs = self._run_app(run), self._run_prs(repo, run)
        suite = self.check_suite(repo, run)
        return shapes.check_run(
            r,
            run.id,
            run.name,
            run.head_sha,
            run.status,
            run.conclusion,
            run.output or None,
            app,
            run.started_at,
            run.completed_at,
            prs,
            suite=suite,
            external_id=run.external_id,
            details_url=run.details_url,
            annotations_count=len(run.annotations),
        )

    def commit_status(self, repo: Repo, st: CommitStatus) -> JSON:
        creator = self.user(st.creator) or {}
        return shapes.commit_status(
            self.repository(repo), st.id, st.sha, st.state, st.context, creator,
            st.created_at, st.created_at, description=st.description, target_url=st.target_url,
        )  # fmt: skip

    def latest_statuses(self, repo: Repo, sha: str) -> list[CommitStatus]:
        """The latest status per context (case-insensitive, as GitHub), newest first."""
        seen: set[str] = set()
        found = []
        for st in reversed(repo.statuses):
            if st.sha == sha and st.context.lower() not in seen:
                seen.add(st.context.lower())
                found.append(st)
        return found

    def status_event(self, repo: Repo, st: CommitStatus) -> JSON:
        branches = [b for b, head in repo.branches.items() if head == st.sha]
        author = self.user(st.creator) or {}
        return shapes.status_event(
            self.repository(repo), self.commit_status(repo, st), st.sha, "a commit", author,
            branches,
        )  # fmt: skip

    def push(self, repo: Repo, pusher: User, branch: str, before: str, after: str,
             message: str, time: str) -> JSON:  # fmt: skip
        """The fields of a `push` delivery of one commit besides repository and sender."""
        old, new = repo.commits.get(before, {}), repo.commits[after]
        person = {"name": pusher.login, "email": f"{pusher.login}@users.noreply.github.com",
                  "username": pusher.login}  # fmt: skip
        r = self.repository(repo)
        commit = {
            "id": after, "tree_id": after, "distinct": True, "message": message,
            "timestamp": time, "url": f"{r['html_url']}/commit/{after}",
            "author": person, "committer": person,
            "added": sorted(p for p in new if p not in old),
            "modified": sorted(p for p in new if p in old and old[p] != new[p]),
            "removed": sorted(p for p in old if p not in new),
        }  # fmt: skip
        return {
            "ref": f"refs/heads/{branch}", "before": before, "after": after,
            "created": False, "deleted": False, "forced": False, "base_ref": None,
            "compare": f"{r['html_url']}/compare/{before[:12]}...{after[:12]}",
            "commits": [commit], "head_commit": commit,
            "pusher": {"name": pusher.login, "email": person["email"]},
        }  # fmt: skip

    def permission(self, repo: Repo, user: User) -> JSON:
        perm = repo.permission(user.login)
        legacy = {"maintain": "write", "triage": "read"}.get(perm, perm)
        return {"permission": legacy, "role_name": perm, "user": self.user(user)}

    def content(self, repo: Repo, path: str, data: bytes) -> JSON:
        sha = git_blob_sha(data)
        r = self.repository(repo)
        return {
            "type": "file",
            "encoding": "base64",
            "size": len(data),
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": sha,
            "content": base64.encodebytes(data).decode(),
            "url": f"{r['url']}/contents/{path}",
            "git_url": f"{r['url']}/git/blobs/{sha}",
            "html_url": f"{r['html_url']}/blob/{repo.default_branch}/{path}",
            "download_url": None,
            "_links": {
                "self": f"{r['url']}/contents/{path}",
                "git": f"{r['url']}/git/blobs/{sha}",
                "html": f"{r['html_url']}/blob/{repo.default_branch}/{path}",
            },
        }

    def tree(self, repo: Repo, sha: str, files: dict[str, bytes], recursive: bool) -> JSON:
        url = self.repository(repo)["url"]
        entries: list[JSON] = []
        dirs: set[str] = set()
        for path in sorted(files):
            parts = path.split("/")
            for depth in range(1, len(parts)):
                dirs.add("/".join(parts[:depth]))
            if recursive or len(parts) == 1:
                blob = git_blob_sha(files[path])
                entries.append(
                    {
                        "path": path,
                        "mode": "100644",
                        "type": "blob",
                        "sha": blob,
                        "size": len(files[path]),
                        "url": f"{url}/git/blobs/{blob}",
                    }
                )
        for d in sorted(dirs):
            if recursive or "/" not in d:
                entries.append(
                    {
                        "path": d,
                        "mode": "040000",
                        "type": "tree",
                        "sha": "0" * 40,
                        "url": f"{url}/git/trees/{d}",
                    }
                )
        return {"sha": sha, "url": f"{url}/git/trees/{sha}", "tree": entries, "truncated": False}

    def blob(self, repo: Repo, sha: str, data: bytes) -> JSON:
        return {
            "sha": sha,
            "node_id": shapes.node_id("Blob", int(sha[:8], 16)),
            "size": len(data),
            "url": f"{self.repository(repo)['url']}/git/blobs/{sha}",
            "content": base64.encodebytes(data).decode(),
            "encoding": "base64",
        }

    def pull_file(self, repo: Repo, path: str, old: bytes | None, new: bytes | None) -> JSON:
        status = "added" if old is None else "removed" if new is None else "modified"
        sha = git_blob_sha(new if new is not None else old or b"")
        r = self.repository(repo)
        return {
            "sha": sha,
            "filename": path,
            "status": status,
            "additions": 0,
            "deletions": 0,
            "changes": 0,
            "blob_url": f"{r['html_url']}/blob/{sha}/{path}",
            "raw_url": f"{r['html_url']}/raw/{sha}/{path}",
            "contents_url": f"{r['url']}/contents/{path}",
        }
