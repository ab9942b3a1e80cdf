"""The sandbox's GitHub: plain records of users, repositories, issues, PRs, checks and git data."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

PERMISSION_RANK = {"none": 0, "read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}


class Clock:
    """Sandbox time; tests move it forward to make claims go stale."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0) + self.offset

    def iso(self) -> str:
        return self.now().strftime("%Y-%m-%dT%H:%M:%SZ")

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


def git_blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def commit_sha(parent: str, files: dict[str, bytes], message: str) -> str:
    digest = hashlib.sha1(parent.encode() + message.encode())
    for path in sorted(files):
        digest.update(path.encode() + b"\0" + git_blob_sha(files[path]).encode())
    return digest.hexdigest()


@dataclass
class User:
    login: str
    id: int
    type: str = "User"  # or "Bot"


@dataclass
class Label:
    id: int
    name: str
    color: str
    description: str | None = None


@dataclass
class Comment:
    id: int
    issue_number: int
    user: User
    body: str
    created_at: str
    updated_at: str
    via_app: bool = False
    reactions: list[tuple[int, str, str]] = field(default_factory=list)  # (id, login, content)


@dataclass
class IssueEvent:
    id: int
    issue_number: int
    event: str  # assigned | unassigned | labeled | unlabeled | closed | reopened
    actor: User
    created_at: str
    assignee: User | None = None
    label: Label | None = None
    commit_id: str | None = None


@dataclass
class Issue:
    number: int
    id: int
    title: str
    body: str | None
    user: User
    created_at: str
    updated_at: str
    labels: list[Label] = field(default_factory=list)
    assignees: list[User] = field(default_factory=list)
    state: str = "open"
    state_reason: str | None = None
    closed_at: str | None = None
    closed_by: User | None = None
    comments: int = 0
    # Pull request part, when this issue is a PR.
    is_pr: bool = False
    head_ref: str = ""
    head_sha: str = ""
    base_ref: str = "main"
    base_sha: str = ""
    draft: bool = False
    merged: bool = False
    merged_at: str | None = None
    merged_by: User | None = None


@dataclass
class Review:
    id: int
    pr_number: int
    user: User
    state: str  # APPROVED | CHANGES_REQUESTED | COMMENTED | DISMISSED
    commit_id: str
    body: str
    submitted_at: str


@dataclass
class CheckRun:
    id: int
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    app_id: int
    started_at: str
    completed_at: str | None = None
    external_id: str = ""
    details_url: str | None = None
    output: dict[str, object] = field(default_factory=dict)
    annotations: list[dict[str, object]] = field(default_factory=list)


@dataclass
class CommitStatus:
    id: int
    sha: str
    state: str  # pending | success | failure | error
    context: str
    creator: User
    created_at: str
    description: str | None = None
    target_url: str | None = None


@dataclass
class Repo:
    id: int
    owner: User
    name: str
    installation_id: int
    default_branch: str = "main"
    labels: dict[str, Label] = field(default_factory=dict)  # by lower-case name
    issues: dict[int, Issue] = field(default_factory=dict)
    comments: dict[int, Comment] = field(default_factory=dict)
    events: list[IssueEvent] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    check_runs: dict[int, CheckRun] = field(default_factory=dict)
    statuses: list[CommitStatus] = field(default_factory=list)  # oldest first
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)  # by git blob SHA
    branches: dict[str, str] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)  # login -> permission
    # GitHub lists an issue's events late at times: the next listings leave the newest out.
    late_event_listings: int = 0

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"

    def permission(self, login: str) -> str:
        if login == self.owner.login:
            return "admin"
        return self.permissions.get(login, "read")


@dataclass
class Installation:
    id: int
    account: User
    repos: list[str] = field(default_factory=list)


class World:
    """All sandbox state. Ids come from one counter, like GitHub's, so they never collide."""

    def __init__(self) -> None:
        self.clock = Clock()
        self._ids = itertools.count(1001)
        self.users: dict[str, User] = {}
        self.repos: dict[str, Repo] = {}
        self.installations: dict[int, Installation] = {}
        self.tokens: dict[str, tuple[int, datetime]] = {}  # token -> (installation, expiry)
        self.user_tokens: dict[str, str] = {}  # a person's own token -> login (PATs don't expire)
        self.token_ttl = timedelta(hours=1)  # GitHub's installation tokens live an hour

    def next_id(self) -> int:
        return next(self._ids)

    def user(self, login: str, type: str = "User") -> User:
        if login not in self.users:
            self.users[login] = User(login, self.next_id(), type)
        return self.users[login]

    def add_repo(self, full_name: str, installation_id: int, files: dict[str, bytes]) -> Repo:
        owner_login, name = full_name.split("/")
        owner = self.user(owner_login, "Organization")
        inst = self.installations.setdefault(installation_id, Installation(installation_id, owner))
        inst.repos.append(full_name)
        repo = Repo(self.next_id(), owner, name, installation_id)
        sha = commit_sha("", files, "initial")
        repo.commits[sha] = dict(files)
        repo.blobs.update((git_blob_sha(data), data) for data in files.values())
        repo.branches[repo.default_branch] = sha
        self.repos[full_name] = repo
        return repo

    def commit(self, repo: Repo, branch: str, changes: dict[str, bytes | None], msg: str) -> str:
        """A new commit on `branch` (created from the default branch if new); None deletes."""
        parent = repo.branches.get(branch) or repo.branches[repo.default_branch]
        files = dict(repo.commits[parent])
        for path, data in changes.items():
            if data is None:
                files.pop(path, None)
            else:
                files[path] = data
        sha = commit_sha(parent, files, msg)
        repo.commits[sha] = files
        repo.blobs.update((git_blob_sha(d), d) for d in changes.values() if d is not None)
        repo.branches[branch] = sha
        return sha
