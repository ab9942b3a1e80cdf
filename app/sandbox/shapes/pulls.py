"""Pull requests, reviews and the files of a PR."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import quote

from app.sandbox.shapes.accounts import JSON, node_id


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
