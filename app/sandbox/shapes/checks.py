"""Check suites and check runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from app.sandbox.shapes.accounts import JSON, node_id
from app.sandbox.shapes.pulls import pull_request_minimal


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
