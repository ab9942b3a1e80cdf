"""Issues, comments and issue events."""

from __future__ import annotations

from collections.abc import Sequence

from app.sandbox.shapes.accounts import JSON, _reactions, node_id


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
    reactions: Sequence[str] = (),
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
        "reactions": _reactions(api, reactions),
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
    commit_id: str | None = None,
) -> JSON:
    """One item of `GET /repos/{owner}/{repo}/issues/{number}/events`; `commit_id` names the
    commit that closed the issue (a merged PR's closing keyword)."""
    shape: JSON = {
        "id": id,
        "node_id": node_id("IssueEvent", id),
        "url": f"{repo['url']}/issues/events/{id}",
        "actor": actor,
        "event": event,
        "commit_id": commit_id,
        "commit_url": f"{repo['url']}/commits/{commit_id}" if commit_id else None,
        "created_at": created_at,
        "performed_via_github_app": performed_via_github_app,
    }
    if label is not None:  # events carry only the label's name and colour
        shape["label"] = {"name": label["name"], "color": label["color"]}
    if assignee is not None:
        shape["assignee"] = assignee
        shape["assigner"] = assigner or actor
    return shape
