"""Commit statuses (the statuses API older CI reports through): REST objects and the `status`
delivery's fields."""

from __future__ import annotations

from collections.abc import Sequence

from app.sandbox.shapes.accounts import JSON, node_id


def commit_status(repo: JSON, id: int, sha: str, state: str, context: str, creator: JSON,
                  created_at: str, updated_at: str, *, description: str | None = None,
                  target_url: str | None = None) -> JSON:  # fmt: skip
    """`POST /repos/{owner}/{repo}/statuses/{sha}`'s answer."""
    return {
        "url": f"{repo['url']}/statuses/{sha}",
        "avatar_url": creator.get("avatar_url"),
        "id": id,
        "node_id": node_id("StatusContext", id),
        "state": state,
        "description": description,
        "target_url": target_url,
        "context": context,
        "created_at": created_at,
        "updated_at": updated_at,
        "creator": creator,
    }


def combined_status(repo: JSON, sha: str, statuses: Sequence[JSON]) -> JSON:
    """`GET /repos/{owner}/{repo}/commits/{ref}/status`: the latest status per context. The
    state is failure if any is failure or error, pending if any is pending or none exists."""
    states = {s["state"] for s in statuses}
    if states & {"failure", "error"}:
        state = "failure"
    elif "pending" in states or not statuses:
        state = "pending"
    else:
        state = "success"
    return {
        "state": state,
        "statuses": [{k: v for k, v in s.items() if k != "creator"} for s in statuses],
        "sha": sha,
        "total_count": len(statuses),
        "repository": repo,
        "commit_url": f"{repo['url']}/commits/{sha}",
        "url": f"{repo['url']}/commits/{sha}/status",
    }


def status_event(repo: JSON, status: JSON, sha: str, message: str, author: JSON,
                 branches: Sequence[str]) -> JSON:  # fmt: skip
    """The fields of a `status` delivery besides repository, sender and installation."""
    person = {"name": author["login"], "email": f"{author['login']}@users.noreply.github.com",
              "date": status["created_at"]}  # fmt: skip
    commit = {
        "sha": sha,
        "node_id": node_id("Commit", int(sha[:8], 16)),
        "commit": {
            "author": person,
            "committer": person,
            "message": message,
            "tree": {"sha": sha, "url": f"{repo['url']}/git/trees/{sha}"},
            "url": f"{repo['url']}/git/commits/{sha}",
            "comment_count": 0,
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
            },
        },
        "url": f"{repo['url']}/commits/{sha}",
        "html_url": f"{repo['html_url']}/commit/{sha}",
        "comments_url": f"{repo['url']}/commits/{sha}/comments",
        "author": author,
        "committer": author,
        "parents": [],
    }
    return {
        "id": status["id"],
        "sha": sha,
        "name": repo["full_name"],
        "target_url": status["target_url"],
        "avatar_url": status["avatar_url"],
        "context": status["context"],
        "description": status["description"],
        "state": status["state"],
        "commit": commit,
        "branches": [
            {
                "name": b,
                "commit": {"sha": sha, "url": f"{repo['url']}/commits/{sha}"},
                "protected": False,
            }
            for b in branches[:10]
        ],
        "created_at": status["created_at"],
        "updated_at": status["updated_at"],
    }
