"""Accounts and repositories: users, the App, installations, repositories, labels."""

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


def _reactions(url: str, contents: Sequence[str] = ()) -> JSON:
    """GitHub's reaction rollup: a count per content."""
    counts = dict.fromkeys(
        ("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes"), 0
    )
    for content in contents:
        counts[content] += 1
    return {"url": f"{url}/reactions", "total_count": len(contents), **counts}


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
