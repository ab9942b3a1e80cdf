"""GitHub's JSON shapes for the sandbox: pure builders, plain data in, dicts out.

Each builder returns the object as GitHub's REST API returns it; `webhook` assembles a delivery
and adapts embedded objects where webhook payloads differ (no `closed_by` on issues, lowercase
review states, the short pull request in review events). API URLs live under `base_url`
(e.g. "http://127.0.0.1:PORT"), browser URLs under `web_url` (default `base_url + "/web"`).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

JSON = dict[str, Any]
EPOCH = "2024-01-01T00:00:00Z"
DEFAULT_PERMISSIONS = {
    "checks": "write",
    "contents": "read",
    "issues": "write",
    "metadata": "read",
    "pull_requests": "write",
}
DEFAULT_EVENTS = ("check_run", "check_suite", "issue_comment", "issues", "pull_request",
                  "pull_request_review")  # fmt: skip


def node_id(kind: str, id: int) -> str:
    """A legacy-format global node id, as GitHub still serves for old objects."""
    return base64.b64encode(f"0{len(kind)}:{kind}{id}".encode()).decode()


def web_url_for(base_url: str, web_url: str | None = None) -> str:
    if web_url:
        return web_url.rstrip("/")
    base = base_url.rstrip("/")
    return base.removesuffix("/api/v3") if base.endswith("/api/v3") else f"{base}/web"


def _reactions(url: str) -> JSON:
    counts = dict.fromkeys(
        ("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes"), 0
    )
    return {"url": f"{url}/reactions", "total_count": 0, **counts}


def user(
    login: str, id: int, type: str = "User", *, base_url: str, web_url: str | None = None
) -> JSON:
    api, web = f"{base_url.rstrip('/')}/users/{login}", web_url_for(base_url, web_url)
    bot_app = login.removesuffix("[bot]") if type == "Bot" and login.endswith("[bot]") else None
    return {
        "login": login,
        "id": id,
        "node_id": node_id("Bot" if type == "Bot" else type, id),
        "avatar_url": f"{web}/avatars/u/{id}?v=4",
        "gravatar_id": "",
        "url": api,
        "html_url": f"{web}/apps/{bot_app}" if bot_app else f"{web}/{login}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": type,
        "site_admin": False,
    }


def app(
    id: int,
    slug: str,
    owner: JSON,
    *,
    base_url: str,
    web_url: str | None = None,
    name: str | None = None,
    description: str | None = "",
    permissions: Mapping[str, str] | None = None,
    events: Sequence[str] = DEFAULT_EVENTS,
    created_at: str = EPOCH,
) -> JSON:
    web = web_url_for(base_url, web_url)
    return {
        "id": id,
        "slug": slug,
        "node_id": node_id("Integration", id),
        "owner": owner,
        "name": name or slug,
        "description": description,
        "external_url": f"{web}/apps/{slug}",
        "html_url": f"{web}/apps/{slug}",
        "created_at": created_at,
        "updated_at": created_at,
        "permissions": dict(DEFAULT_PERMISSIONS if permissions is None else permissions),
        "events": list(events),
    }


def installation(
    id: int,
    account: JSON,
    app: JSON,
    *,
    base_url: str,
    web_url: str | None = None,
    repository_selection: str = "selected",
    created_at: str = EPOCH,
) -> JSON:
    base, web = base_url.rstrip("/"), web_url_for(base_url, web_url)
    org = account["type"] == "Organization"
    settings = f"{web}/organizations/{account['login']}/settings" if org else f"{web}/settings"
    return {
        "id": id,
        "account": account,
        "repository_selection": repository_selection,
        "access_tokens_url": f"{base}/app/installations/{id}/access_tokens",
        "repositories_url": f"{base}/installation/repositories",
        "html_url": f"{settings}/installations/{id}",
        "app_id": app["id"],
        "app_slug": app["slug"],
        "target_id": account["id"],
        "target_type": "Organization" if org else "User",
        "permissions": dict(app["permissions"]),
        "events": list(app["events"]),
        "created_at": created_at,
        "updated_at": created_at,
        "single_file_name": None,
        "has_multiple_single_files": False,
        "single_file_paths": [],
        "suspended_by": None,
        "suspended_at": None,
    }


_REPO_URLS = {  # suffixes of the repository's API URL, as GitHub lists them
    "forks": "/forks", "keys": "/keys{/key_id}", "collaborators": "/collaborators{/collaborator}",
    "teams": "/teams", "hooks": "/hooks", "issue_events": "/issues/events{/number}",
    "events": "/events", "assignees": "/assignees{/user}", "branches": "/branches{/branch}",
    "tags": "/tags", "blobs": "/git/blobs{/sha}", "git_tags": "/git/tags{/sha}",
    "git_refs": "/git/refs{/sha}", "trees": "/git/trees{/sha}", "statuses": "/statuses/{sha}",
    "languages": "/languages", "stargazers": "/stargazers", "contributors": "/contributors",
    "subscribers": "/subscribers", "subscription": "/subscription",
    "commits": "/commits{/sha}", "git_commits": "/git/commits{/sha}",
    "comments": "/comments{/number}", "issue_comment": "/issues/comments{/number}",
    "contents": "/contents/{+path}", "compare": "/compare/{base}...{head}", "merges": "/merges",
    "archive": "/{archive_format}{/ref}", "downloads": "/downloads", "issues": "/issues{/number}",
    "pulls": "/pulls{/number}", "milestones": "/milestones{/number}",
    "notifications": "/notifications{?since,all,participating}", "labels": "/labels{/name}",
    "releases": "/releases{/id}", "deployments": "/deployments",
}  # fmt: skip


def repository(
    owner: JSON,
    name: str,
    id: int,
    *,
    base_url: str,
    web_url: str | None = None,
    default_branch: str = "main",
    private: bool = False,
    description: str | None = None,
    created_at: str = EPOCH,
    pushed_at: str = EPOCH,
) -> JSON:
    full = f"{owner['login']}/{name}"
    api, web = f"{base_url.rstrip('/')}/repos/{full}", web_url_for(base_url, web_url)
    host = web.split("://", 1)[-1].split("/", 1)[0]
    return {
        "id": id,
        "node_id": node_id("Repository", id),
        "name": name,
        "full_name": full,
        "private": private,
        "owner": owner,
        "html_url": f"{web}/{full}",
        "description": description,
        "fork": False,
        "url": api,
        **{f"{key}_url": api + suffix for key, suffix in _REPO_URLS.items()},
        "created_at": created_at,
        "updated_at": pushed_at,
        "pushed_at": pushed_at,
        "git_url": f"git://{host}/{full}.git",
        "ssh_url": f"git@{host}:{full}.git",
        "clone_url": f"{web}/{full}.git",
        "svn_url": f"{web}/{full}",
        "homepage": None,
        "size": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "language": None,
        "has_issues": True,
        "has_projects": True,
        "has_downloads": True,
        "has_wiki": True,
        "has_pages": False,
        "has_discussions": False,
        "forks_count": 0,
        "mirror_url": None,
        "archived": False,
        "disabled": False,
        "open_issues_count": 0,
        "license": None,
        "allow_forking": True,
        "is_template": False,
        "web_commit_signoff_required": False,
        "topics": [],
        "visibility": "private" if private else "public",
        "forks": 0,
        "open_issues": 0,
        "watchers": 0,
        "default_branch": default_branch,
        "custom_properties": {},
    }


def full_repository(repo: JSON) -> JSON:
    """`GET /repos/{owner}/{repo}` adds counts that webhook payloads do not carry."""
    return {**repo, "network_count": 0, "subscribers_count": 0}


def label(name: str, color: str, id: int, repo: JSON, *, description: str | None = None,
          default: bool = False) -> JSON:  # fmt: skip
    return {
        "id": id,
        "node_id": node_id("Label", id),
        "url": f"{repo['url']}/labels/{quote(name, safe=':')}",
        "name": name,
        "color": color,
        "default": default,
        "description": description,
    }


def issue(
    repo: JSON,
    number: int,
    id: int,
    title: str,
    body: str | None,
    user: JSON,
    labels: Sequence[JSON],
    assignees: Sequence[JSON],
    state: str,
    state_reason: str | None,
    comments: int,
    created_at: str,
    updated_at: str,
    closed_at: str | None,
    *,
    closed_by: JSON | None = None,
    pull_request: JSON | None = None,
    author_association: str = "OWNER",
    performed_via_github_app: JSON | None = None,
    locked: bool = False,
) -> JSON:
    """An issue (or a PR seen as an issue when `pull_request` is the PR object)."""
    api = f"{repo['url']}/issues/{number}"
    kind = "pull" if pull_request else "issues"
    shape: JSON = {
        "url": api,
        "repository_url": repo["url"],
        "labels_url": f"{api}/labels{{/name}}",
        "comments_url": f"{api}/comments",
        "events_url": f"{api}/events",
        "html_url": f"{repo['html_url']}/{kind}/{number}",
        "id": id,
        "node_id": node_id("PullRequest" if pull_request else "Issue", id),
        "number": number,
        "title": title,
        "user": user,
        "labels": list(labels),
        "state": state,
        "locked": locked,
        "assignee": assignees[0] if assignees else None,
        "assignees": list(assignees),
        "milestone": None,
        "comments": comments,
        "created_at": created_at,
        "updated_at": updated_at,
        "closed_at": closed_at,
        "author_association": author_association,
        "active_lock_reason": None,
        "body": body,
        "closed_by": closed_by,
        "reactions": _reactions(api),
        "timeline_url": f"{api}/timeline",
        "performed_via_github_app": performed_via_github_app,
        "state_reason": state_reason,
    }
    if pull_request is not None:
        shape["pull_request"] = {
            key: pull_request[key] for key in ("url", "html_url", "diff_url", "patch_url")
        } | {"merged_at": pull_request["merged_at"]}
    return shape


def comment(
    repo: JSON,
    issue_number: int,
    id: int,
    user: JSON,
    body: str,
    created_at: str,
    updated_at: str,
    *,
    performed_via_github_app: JSON | None = None,
    author_association: str = "NONE",
    is_pull_request: bool = False,
) -> JSON:
    kind = "pull" if is_pull_request else "issues"
    api = f"{repo['url']}/issues/comments/{id}"
    return {
        "url": api,
        "html_url": f"{repo['html_url']}/{kind}/{issue_number}#issuecomment-{id}",
        "issue_url": f"{repo['url']}/issues/{issue_number}",
        "id": id,
        "node_id": node_id("IssueComment", id),
        "user": user,
        "created_at": created_at,
        "updated_at": updated_at,
        "author_association": author_association,
        "body": body,
        "reactions": _reactions(api),
        "performed_via_github_app": performed_via_github_app,
    }


def issue_event(
    repo: JSON,
    id: int,
    event: str,
    actor: JSON,
    created_at: str,
    *,
    assignee: JSON | None = None,
    assigner: JSON | None = None,
    label: JSON | None = None,
    performed_via_github_app: JSON | None = None,
) -> JSON:
    """One item of `GET /repos/{owner}/{repo}/issues/{number}/events`."""
    shape: JSON = {
        "id": id,
        "node_id": node_id("IssueEvent", id),
        "url": f"{repo['url']}/issues/events/{id}",
        "actor": actor,
        "event": event,
        "commit_id": None,
        "commit_url": None,
        "created_at": created_at,
        "performed_via_github_app": performed_via_github_app,
    }
    if label is not None:  # events carry only the label's name and colour
        shape["label"] = {"name": label["name"], "color": label["color"]}
    if assignee is not None:
        shape["assignee"] = assignee
        shape["assigner"] = assigner or actor
    return shape


def _branch(repo: JSON, ref: str, sha: str) -> JSON:
    owner = repo["owner"]
    return {"label": f"{owner['login']}:{ref}", "ref": ref, "sha": sha, "user": owner, "repo": repo}


def pull_request(
    repo: JSON,
    number: int,
    id: int,
    title: str,
    body: str | None,
    user: JSON,
    head_sha: str,
    head_ref: str,
    base_sha: str,
    base_ref: str,
    state: str,
    *,
    created_at: str,
    updated_at: str,
    draft: bool = False,
    merged: bool = False,
    merged_at: str | None = None,
    merged_by: JSON | None = None,
    merge_commit_sha: str | None = None,
    closed_at: str | None = None,
    labels: Sequence[JSON] = (),
    assignees: Sequence[JSON] = (),
    requested_reviewers: Sequence[JSON] = (),
    author_association: str = "OWNER",
    head_repo: JSON | None = None,
    mergeable: bool | None = None,
    counts: Mapping[str, int] | None = None,
) -> JSON:
    """A pull request; `counts` may set commits, additions, deletions, changed_files,
    comments and review_comments (default 0, commits 1)."""
    api, html = f"{repo['url']}/pulls/{number}", f"{repo['html_url']}/pull/{number}"
    issue_api = f"{repo['url']}/issues/{number}"
    links = {
        "self": api,
        "html": html,
        "issue": issue_api,
        "comments": f"{issue_api}/comments",
        "review_comments": f"{api}/comments",
        "review_comment": f"{repo['url']}/pulls/comments{{/number}}",
        "commits": f"{api}/commits",
        "statuses": f"{repo['url']}/statuses/{head_sha}",
    }
    tallies = {"comments": 0, "review_comments": 0, "commits": 1, "additions": 0,
               "deletions": 0, "changed_files": 0} | dict(counts or {})  # fmt: skip
    return {
        "url": api,
        "id": id,
        "node_id": node_id("PullRequest", id),
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": issue_api,
        "number": number,
        "state": state,
        "locked": False,
        "title": title,
        "user": user,
        "body": body,
        "created_at": created_at,
        "updated_at": updated_at,
        "closed_at": closed_at,
        "merged_at": merged_at,
        "merge_commit_sha": merge_commit_sha,
        "assignee": assignees[0] if assignees else None,
        "assignees": list(assignees),
        "requested_reviewers": list(requested_reviewers),
        "requested_teams": [],
        "labels": list(labels),
        "milestone": None,
        "draft": draft,
        "commits_url": links["commits"],
        "review_comments_url": links["review_comments"],
        "review_comment_url": links["review_comment"],
        "comments_url": links["comments"],
        "statuses_url": links["statuses"],
        "head": _branch(head_repo or repo, head_ref, head_sha),
        "base": _branch(repo, base_ref, base_sha),
        "_links": {key: {"href": href} for key, href in links.items()},
        "author_association": author_association,
        "auto_merge": None,
        "active_lock_reason": None,
        "merged": merged,
        "mergeable": mergeable,
        "rebaseable": mergeable,
        "mergeable_state": "unknown" if mergeable is None else "clean" if mergeable else "dirty",
        "merged_by": merged_by,
        "maintainer_can_modify": False,
        **tallies,
    }


def review(
    repo: JSON,
    pr_number: int,
    id: int,
    user: JSON,
    state: str,
    commit_id: str,
    body: str | None,
    submitted_at: str | None,
    *,
    author_association: str = "NONE",
) -> JSON:
    """A review as REST serves it: `state` is APPROVED, CHANGES_REQUESTED, COMMENTED,
    DISMISSED or PENDING (webhooks lowercase it)."""
    html = f"{repo['html_url']}/pull/{pr_number}#pullrequestreview-{id}"
    pr_api = f"{repo['url']}/pulls/{pr_number}"
    shape: JSON = {
        "id": id,
        "node_id": node_id("PullRequestReview", id),
        "user": user,
        "body": body or "",
        "state": state.upper(),
        "html_url": html,
        "pull_request_url": pr_api,
        "author_association": author_association,
        "_links": {"html": {"href": html}, "pull_request": {"href": pr_api}},
        "commit_id": commit_id,
    }
    if submitted_at is not None:  # pending reviews have none
        shape["submitted_at"] = submitted_at
    return shape


def pull_request_minimal(pr: JSON) -> JSON:
    """The short PR of check runs and suites, from a full (or already short) PR."""

    def side(branch: JSON) -> JSON:
        repo = branch["repo"]
        short = {"id": repo["id"], "url": repo["url"], "name": repo["name"]}
        return {"ref": branch["ref"], "sha": branch["sha"], "repo": short}

    return {"url": pr["url"], "id": pr["id"], "number": pr["number"],
            "head": side(pr["head"]), "base": side(pr["base"])}  # fmt: skip


def check_suite(
    repo: JSON,
    id: int,
    head_sha: str,
    head_branch: str | None,
    status: str,
    conclusion: str | None,
    app: JSON,
    created_at: str,
    updated_at: str,
    *,
    before: str | None = None,
    after: str | None = None,
    pull_requests: Sequence[JSON] = (),
    latest_check_runs_count: int = 0,
    head_commit_message: str = "",
) -> JSON:
    url = f"{repo['url']}/check-suites/{id}"
    login = repo["owner"]["login"]
    author = {"name": login, "email": f"{repo['owner']['id']}+{login}@users.noreply.github.com"}
    return {
        "id": id,
        "node_id": node_id("CheckSuite", id),
        "head_branch": head_branch,
        "head_sha": head_sha,
        "status": status,
        "conclusion": conclusion,
        "url": url,
        "before": before,
        "after": after if after is not None else head_sha,
        "pull_requests": [pull_request_minimal(pr) for pr in pull_requests],
        "app": app,
        "created_at": created_at,
        "updated_at": updated_at,
        "rerequestable": True,
        "runs_rerequestable": True,
        "latest_check_runs_count": latest_check_runs_count,
        "check_runs_url": f"{url}/check-runs",
        "head_commit": {"id": head_sha, "tree_id": head_sha, "message": head_commit_message,
                        "timestamp": created_at, "author": author, "committer": author},
        "repository": repo,
    }  # fmt: skip


# Check runs embed only these keys of their suite.
_SUITE_IN_RUN = ("id", "node_id", "head_branch", "head_sha", "status", "conclusion", "url",
                 "before", "after", "pull_requests", "app", "created_at", "updated_at")  # fmt: skip


def check_run(
    repo: JSON,
    id: int,
    name: str,
    head_sha: str,
    status: str,
    conclusion: str | None,
    output: Mapping[str, Any] | None,
    app: JSON,
    started_at: str,
    completed_at: str | None,
    pull_requests: Sequence[JSON],
    *,
    suite: JSON,
    external_id: str = "",
    details_url: str | None = None,
    annotations_count: int = 0,
) -> JSON:
    """A check run; `output` is what the app sent (title, summary, text), `suite` a
    `check_suite(...)`, `pull_requests` full or short PRs."""
    url = f"{repo['url']}/check-runs/{id}"
    given = dict(output or {})
    return {
        "id": id,
        "name": name,
        "node_id": node_id("CheckRun", id),
        "head_sha": head_sha,
        "external_id": external_id,
        "url": url,
        "html_url": f"{repo['html_url']}/runs/{id}",
        "details_url": details_url or app["html_url"],  # GitHub's default
        "status": status,
        "conclusion": conclusion,
        "started_at": started_at,
        "completed_at": completed_at,
        "output": {
            "title": given.get("title"),
            "summary": given.get("summary"),
            "text": given.get("text"),
            "annotations_count": annotations_count,
            "annotations_url": f"{url}/annotations",
        },
        "check_suite": {key: suite[key] for key in _SUITE_IN_RUN},
        "app": app,
        "pull_requests": [pull_request_minimal(pr) for pr in pull_requests],
    }


def diff_entry(
    repo: JSON,
    head_sha: str,
    filename: str,
    sha: str,
    status: str,
    additions: int,
    deletions: int,
    *,
    patch: str | None = None,
    previous_filename: str | None = None,
) -> JSON:
    """One item of `GET /repos/{owner}/{repo}/pulls/{number}/files`; status is added,
    removed, modified, renamed, copied, changed or unchanged."""
    path = quote(filename)
    shape: JSON = {
        "sha": sha,
        "filename": filename,
        "status": status,
        "additions": additions,
        "deletions": deletions,
        "changes": additions + deletions,
        "blob_url": f"{repo['html_url']}/blob/{head_sha}/{path}",
        "raw_url": f"{repo['html_url']}/raw/{head_sha}/{path}",
        "contents_url": f"{repo['url']}/contents/{path}?ref={head_sha}",
    }
    if patch is not None:  # GitHub leaves it out for binary and very large diffs
        shape["patch"] = patch
    if previous_filename is not None:
        shape["previous_filename"] = previous_filename
    return shape


def git_tree(repo: JSON, sha: str, entries: Sequence[Mapping[str, Any]], *,
             truncated: bool = False) -> JSON:  # fmt: skip
    """`GET /repos/{owner}/{repo}/git/trees/{sha}`; each entry has path, mode, type
    ("blob" or "tree"), sha and, for blobs, size."""
    tree = []
    for entry in entries:
        kind = entry["type"]
        item = {"path": entry["path"], "mode": entry["mode"], "type": kind, "sha": entry["sha"]}
        if kind == "blob":
            item["size"] = entry["size"]
        item["url"] = f"{repo['url']}/git/{kind}s/{entry['sha']}"
        tree.append(item)
    return {"sha": sha, "url": f"{repo['url']}/git/trees/{sha}", "tree": tree,
            "truncated": truncated}  # fmt: skip


def git_blob(repo: JSON, sha: str, content: bytes) -> JSON:
    """`GET /repos/{owner}/{repo}/git/blobs/{sha}`: base64 in 60-column lines, as GitHub."""
    encoded = base64.b64encode(content).decode()
    lines = [encoded[i : i + 60] for i in range(0, len(encoded), 60)]
    return {
        "sha": sha,
        "node_id": base64.b64encode(f"04:Blob{repo['id']}:{sha}".encode()).decode(),
        "size": len(content),
        "url": f"{repo['url']}/git/blobs/{sha}",
        "content": "".join(line + "\n" for line in lines),
        "encoding": "base64",
    }


def access_token(token: str, expires_at: str, installation: JSON) -> JSON:
    """`POST /app/installations/{id}/access_tokens` (201)."""
    return {
        "token": token,
        "expires_at": expires_at,
        "permissions": dict(installation["permissions"]),
        "repository_selection": installation["repository_selection"],
    }


def error(status: int, message: str, *, errors: Sequence[Mapping[str, Any]] = (),
          docs: str = "https://docs.github.com/rest") -> JSON:  # fmt: skip
    """An error body: `error(404, "Not Found")`, or 422 "Validation Failed" with `errors`
    like `{"resource": "Issue", "field": "title", "code": "missing_field"}`."""
    shape: JSON = {"message": message, "documentation_url": docs, "status": str(status)}
    if errors:
        shape["errors"] = [dict(e) for e in errors]
    return shape


def hook(id: int, app_id: int, url: str, *, base_url: str, created_at: str = EPOCH,
         events: Sequence[str] = DEFAULT_EVENTS) -> JSON:  # fmt: skip
    """The App's webhook as the `ping` delivery describes it."""
    api = f"{base_url.rstrip('/')}/app/hook"
    return {
        "type": "App",
        "id": id,
        "name": "web",
        "active": True,
        "events": list(events),
        "config": {"content_type": "json", "insecure_ssl": "0", "url": url},
        "updated_at": created_at,
        "created_at": created_at,
        "app_id": app_id,
        "deliveries_url": f"{api}/deliveries",
        "url": f"{api}/config",
        "ping_url": f"{api}/pings",
    }


# Keys of REST objects that webhook payloads leave out.
_NOT_IN_WEBHOOKS = {"issue": ("closed_by",), "check_suite": ("repository",)}
# Review events carry the "simple" pull request, without these.
_NOT_IN_SIMPLE_PR = ("merged", "mergeable", "rebaseable", "mergeable_state", "merged_by",
                     "comments", "review_comments", "maintainer_can_modify", "commits",
                     "additions", "deletions", "changed_files")  # fmt: skip


def webhook(
    event: str,
    action: str | None,
    *,
    repository: JSON | None = None,
    sender: JSON | None = None,
    installation_id: int | None = None,
    **objects: Any,
) -> JSON:
    """A delivery payload, e.g. `webhook("issues", "assigned", repository=r, sender=u,
    installation_id=1, issue=i, assignee=a)`. `number` is added for pull_request events;
    `installation` given in `objects` (installation events) wins over `installation_id`."""
    payload: JSON = {} if action is None else {"action": action}
    if event == "pull_request" and "pull_request" in objects:
        payload["number"] = objects["pull_request"]["number"]
    for key, value in objects.items():
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if k not in _NOT_IN_WEBHOOKS.get(key, ())}
        if key == "pull_request" and event.startswith("pull_request_review"):
            value = {k: v for k, v in value.items() if k not in _NOT_IN_SIMPLE_PR}
        if key == "review":
            value = {**value, "state": value["state"].lower()}
        payload[key] = value
    if repository is not None:
        payload["repository"] = repository
    if sender is not None:
        payload["sender"] = sender
    if installation_id is not None and "installation" not in objects:
        payload["installation"] = {"id": installation_id,
                                   "node_id": node_id("Installation", installation_id)}  # fmt: skip
    return payload
