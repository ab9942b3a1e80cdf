"""The sandbox's GitHub shapes, checked against GitHub's own descriptions (octokit packages)."""

from __future__ import annotations

import base64
import copy
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.sandbox import shapes
from tests import octokit

BASE = "http://127.0.0.1:8765"
T0, T1, T2 = "2026-01-02T03:04:05Z", "2026-01-02T04:00:00Z", "2026-01-02T05:00:00Z"
SHA_A, SHA_B, SHA_M = "a" * 40, "b" * 40, "c" * 40


# -- the validators themselves -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("POST", f"{BASE}/repos/o/r/issues/1/labels", {"labels": ["claimed", "ready"]}),
        ("PUT", f"{BASE}/repos/o/r/issues/1/labels", {"labels": ["ready"]}),
        ("DELETE", f"{BASE}/repos/o/r/issues/1/labels", None),
        ("DELETE", f"{BASE}/repos/o/r/issues/1/labels/claimed%3Aalice", None),
        ("POST", f"{BASE}/repos/o/r/issues/1/assignees", {"assignees": ["alice"]}),
        ("PATCH", f"{BASE}/repos/o/r/issues/7", {"state": "closed", "state_reason": "completed"}),
        ("PATCH", f"{BASE}/repos/o/r/issues/7", {"milestone": None, "body": None}),
        ("POST", f"{BASE}/repos/o/r/issues/7/comments", {"body": "hello"}),
        ("PATCH", f"{BASE}/repos/o/r/issues/comments/99", {"body": "edited"}),
        ("GET", f"{BASE}/repos/o/r/issues/7/events?per_page=100&page=2", None),
        ("GET", f"{BASE}/repos/o/r/issues?state=open&labels=a,b&per_page=50", None),
        ("GET", f"{BASE}/repos/o/r/contents/src/app/main.py?ref=main", None),
        ("GET", f"{BASE}/repos/o/r/git/trees/{SHA_A}?recursive=1", None),
        ("GET", "https://ghe.example/api/v3/repos/o/r/pulls/3/files", None),
        ("POST", f"{BASE}/app/installations/12/access_tokens", None),
        (
            "POST",
            f"{BASE}/repos/o/r/check-runs",
            {
                "name": "baton/verify",
                "head_sha": SHA_A,
                "status": "completed",
                "conclusion": "failure",
                "started_at": T0,
                "completed_at": T1,
                "output": {"title": "t", "summary": "s", "annotations": []},
            },
        ),
        ("PATCH", f"{BASE}/repos/o/r/check-runs/5", {"status": "in_progress"}),
    ],
)
def test_validate_request_accepts_calls_github_accepts(method: str, url: str, body: Any) -> None:
    assert octokit.validate_request(method, url, body) == []


@pytest.mark.parametrize(
    ("method", "url", "body", "expected"),
    [
        # unknown field: the description does not name it, GitHub ignores or refuses it
        ("POST", "/repos/o/r/issues/7/comments", {"body": "x", "bodyy": "y"}, "'bodyy' was"),
        # wrong types
        ("PATCH", "/repos/o/r/issues/7", {"assignees": "alice"}, "is not of type 'array'"),
        ("POST", "/repos/o/r/issues/1/labels", {"labels": "claimed"}, "labels"),
        # missing required
        ("POST", "/repos/o/r/check-runs", {"head_sha": SHA_A}, "'name' is a required property"),
        ("POST", "/repos/o/r/issues/7/comments", {}, "'body' is a required property"),
        ("POST", "/repos/o/r/issues/7/comments", None, "a request body is required"),
        # enum, format, nullable only where the description says so
        ("PATCH", "/repos/o/r/issues/7", {"state": "shut"}, "'shut' is not one of"),
        (
            "POST",
            "/repos/o/r/check-runs",
            {"name": "n", "head_sha": "x", "started_at": "now"},
            "is not a 'date-time'",
        ),
        ("PATCH", "/repos/o/r/issues/7", {"state": None}, "None is not of type 'string'"),
        # paths, methods, query
        ("GET", "/repos/o/r/nonsense/7", None, "no such path"),
        ("PUT", "/repos/o/r/issues/7/comments", None, "method not allowed"),
        ("GET", "/repos/o/r/issues/7/events?per_pag=100", None, "unknown query parameter"),
        ("GET", "/repos/o/r/issues/7/events?per_page=all", None, "is not an integer"),
        ("GET", "/repos/o/r/issues?state=shut", None, "is not one of"),
        ("GET", "/repos/o/r/issues/7", {"body": "x"}, "takes no request body"),
        ("GET", "/repos/o/r/issues/seven", None, "not an integer"),
    ],
)
def test_validate_request_reports_violations(
    method: str, url: str, body: Any, expected: str
) -> None:
    violations = octokit.validate_request(method, BASE + url, body)
    assert violations, (method, url, body)
    assert any(expected in v for v in violations), violations


def test_most_specific_template_wins() -> None:
    assert octokit.match_path("/repos/o/r/issues/comments/5") == (
        "/repos/{owner}/{repo}/issues/comments/{comment_id}"
    )
    assert octokit.match_path("/repos/o/r/issues/5/comments") == (
        "/repos/{owner}/{repo}/issues/{issue_number}/comments"
    )
    assert octokit.match_path("/repos/o/r/git/ref/heads/feature/x") == (
        "/repos/{owner}/{repo}/git/ref/{ref}"
    )


_BATON_PATHS = re.compile(
    r"^/repos/\{owner\}/\{repo\}/(issues|check-runs|check-suites|labels|git|pulls)"
)


def test_githubs_own_request_examples_validate() -> None:
    """The OpenAPI translation (refs, nullable, strict objects) accepts GitHub's examples."""
    document = octokit.openapi()
    checked = 0
    for template, item in document["paths"].items():
        if not _BATON_PATHS.match(template) or "codespaces" in template:
            continue
        url = BASE + re.sub(r"\{[^}]+\}", "1", template)
        for method, operation in item.items():
            content = (operation.get("requestBody") or {}).get("content", {})
            for example in content.get("application/json", {}).get("examples", {}).values():
                if "value" in example:
                    checked += 1
                    assert octokit.validate_request(method, url, example["value"]) == [], template
    assert checked > 30


@pytest.mark.parametrize(
    "event",
    ["issues", "issue_comment", "pull_request", "pull_request_review", "check_run", "check_suite",
     "installation", "ping"],
)  # fmt: skip
def test_githubs_recorded_payloads_mostly_validate(event: str) -> None:
    # A few recorded examples predate fields the schema now requires; most must pass.
    examples = octokit.webhook_examples(event)
    valid = [e for e in examples if not octokit.validate_webhook(event, e)]
    assert len(valid) * 3 >= len(examples) * 2, event


def test_validate_webhook_catches_bad_payloads() -> None:
    good = _issue_payload("opened")
    assert octokit.validate_webhook("issues", good) == []

    missing = copy.deepcopy(good)
    del missing["issue"]["node_id"]
    assert any("'node_id' is a required property" in v for v in octokit.validate_webhook(
        "issues", missing))  # fmt: skip

    wrong_type = copy.deepcopy(good)
    wrong_type["issue"]["number"] = "7"
    assert any("is not of type 'integer'" in v for v in octokit.validate_webhook(
        "issues", wrong_type))  # fmt: skip

    unknown = {**good, "baton": True}
    assert any("'baton' was unexpected" in v for v in octokit.validate_webhook("issues", unknown))

    closed_yet_opened = copy.deepcopy(good)
    closed_yet_opened["issue"]["state"] = "closed"
    assert octokit.validate_webhook("issues", closed_yet_opened)

    assert octokit.validate_webhook("issues", {**good, "action": "exploded"})
    assert octokit.validate_webhook("no_such_event", good)


def test_fetch_uses_the_cache_without_npm(monkeypatch: pytest.MonkeyPatch) -> None:
    octokit.fetch(octokit.WEBHOOK_SCHEMAS)
    monkeypatch.setenv("PATH", "")
    assert octokit.fetch(octokit.WEBHOOK_SCHEMAS).is_file()


def test_fetch_fails_loudly_when_npm_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "bin" / "npm"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'npm ERR! 404 Not Found' >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(fake.parent) + os.pathsep + os.environ.get("PATH", ""))
    monkeypatch.setenv("BATON_OCTOKIT_CACHE", str(tmp_path / "cache"))
    with pytest.raises(octokit.OctokitFetchError, match="404"):
        octokit.fetch(octokit.WEBHOOK_SCHEMAS)


# -- a small world built from shapes -----------------------------------------------------------

OWNER = shapes.user("octo-org", 10, "Organization", base_url=BASE)
ALICE = shapes.user("alice", 11, base_url=BASE)
BOB = shapes.user("bob", 12, base_url=BASE)
BOT = shapes.user("baton[bot]", 13, "Bot", base_url=BASE)
APP = shapes.app(3, "baton", OWNER, base_url=BASE, name="Baton")
INSTALLATION = shapes.installation(1, OWNER, APP, base_url=BASE)
REPO = shapes.repository(OWNER, "widgets", 20, base_url=BASE)
FORK = shapes.repository(BOB, "widgets", 21, base_url=BASE)
CLAIMED = shapes.label("claimed", "fbca04", 30, REPO, description="Someone is on it")
READY = shapes.label("ready", "0e8a16", 31, REPO)


def _issue(state: str = "open", **changes: Any) -> dict[str, Any]:
    closed = state == "closed"
    fields: dict[str, Any] = {
        "repo": REPO, "number": 7, "id": 70, "title": "Widgets wobble", "body": "They do.",
        "user": ALICE, "labels": [READY], "assignees": [], "state": state,
        "state_reason": "completed" if closed else None, "comments": 1, "created_at": T0,
        "updated_at": T1, "closed_at": T1 if closed else None,
        "closed_by": BOT if closed else None, "author_association": "MEMBER",
    } | changes  # fmt: skip
    return shapes.issue(**fields)


def _issue_payload(action: str, **objects: Any) -> dict[str, Any]:
    objects.setdefault("issue", _issue())
    return shapes.webhook("issues", action, repository=REPO, sender=ALICE, installation_id=1,
                          **objects)  # fmt: skip


def _pr(state: str = "open", **changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "repo": REPO, "number": 8, "id": 80, "title": "Fix wobble", "body": "Closes #7",
        "user": BOB, "head_sha": SHA_B, "head_ref": "fix-wobble", "base_sha": SHA_A,
        "base_ref": "main", "state": state, "created_at": T0, "updated_at": T1,
        "labels": [CLAIMED], "assignees": [BOB], "requested_reviewers": [ALICE],
        "head_repo": FORK, "author_association": "CONTRIBUTOR",
    } | changes  # fmt: skip
    return shapes.pull_request(**fields)


def _pr_payload(action: str, pr: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return shapes.webhook("pull_request", action, repository=REPO, sender=BOB, installation_id=1,
                          pull_request=pr or _pr(), **extra)  # fmt: skip


def _comment(body: str = "/claim") -> dict[str, Any]:
    return shapes.comment(REPO, 7, 90, ALICE, body, T1, T2, author_association="MEMBER")


def _review(state: str) -> dict[str, Any]:
    return shapes.review(REPO, 8, 100, ALICE, state, SHA_B, "Looks good", T2)


def _suite(status: str = "completed", conclusion: str | None = "success") -> dict[str, Any]:
    return shapes.check_suite(REPO, 40, SHA_B, "fix-wobble", status, conclusion, APP, T0, T1,
                              pull_requests=[_pr()], latest_check_runs_count=1)  # fmt: skip


def _run(status: str = "completed", conclusion: str | None = "success") -> dict[str, Any]:
    done = status == "completed"
    return shapes.check_run(
        REPO, 50, "baton/verify", SHA_B, status, conclusion if done else None,
        {"title": "Verified", "summary": "All good", "text": None}, APP, T0,
        T1 if done else None, [_pr()], suite=_suite(status, conclusion if done else None),
    )  # fmt: skip


def _check_payload(event: str, action: str, **objects: Any) -> dict[str, Any]:
    return shapes.webhook(event, action, repository=REPO, sender=BOT, installation_id=1, **objects)


def _ping() -> dict[str, Any]:
    hook = shapes.hook(9, APP["id"], "http://127.0.0.1:3000/api/github/webhooks", base_url=BASE)
    return shapes.webhook("ping", None, sender=OWNER, zen="Keep it simple.", hook_id=9, hook=hook)


PAYLOADS: dict[str, tuple[str, Callable[[], dict[str, Any]]]] = {
    "issues.opened": ("issues", lambda: _issue_payload("opened", issue=_issue(labels=[]))),
    "issues.edited": (
        "issues",
        lambda: _issue_payload("edited", changes={"body": {"from": "old"}, "title": {"from": "t"}}),
    ),
    "issues.assigned": (
        "issues", lambda: _issue_payload("assigned", issue=_issue(assignees=[ALICE]),
                                         assignee=ALICE),
    ),
    "issues.unassigned": ("issues", lambda: _issue_payload("unassigned", assignee=ALICE)),
    "issues.labeled": (
        "issues",
        lambda: _issue_payload("labeled", issue=_issue(labels=[READY, CLAIMED]), label=CLAIMED),
    ),
    "issues.unlabeled": ("issues", lambda: _issue_payload("unlabeled", label=CLAIMED)),
    "issues.closed": ("issues", lambda: _issue_payload("closed", issue=_issue("closed"))),
    "issues.reopened": ("issues", lambda: _issue_payload("reopened")),
    "issue_comment.created": (
        "issue_comment",
        lambda: shapes.webhook("issue_comment", "created", repository=REPO, sender=ALICE,
                               installation_id=1, issue=_issue(), comment=_comment()),
    ),
    "issue_comment.created-on-pr": (
        "issue_comment",
        lambda: shapes.webhook("issue_comment", "created", repository=REPO, sender=BOT,
                               installation_id=1, issue=_issue(pull_request=_pr(), number=8),
                               comment=shapes.comment(REPO, 8, 91, BOT, "status", T1, T1,
                                                      performed_via_github_app=APP,
                                                      is_pull_request=True)),
    ),
    "issue_comment.edited": (
        "issue_comment",
        lambda: shapes.webhook("issue_comment", "edited", repository=REPO, sender=ALICE,
                               installation_id=1, issue=_issue("closed"), comment=_comment(),
                               changes={"body": {"from": "/clam"}}),
    ),
    "pull_request.opened": ("pull_request", lambda: _pr_payload("opened")),
    "pull_request.opened-draft": ("pull_request", lambda: _pr_payload("opened", _pr(draft=True))),
    "pull_request.edited": (
        "pull_request", lambda: _pr_payload("edited", changes={"body": {"from": "old"}}),
    ),
    "pull_request.synchronize": (
        "pull_request", lambda: _pr_payload("synchronize", before=SHA_A, after=SHA_B),
    ),
    "pull_request.reopened": ("pull_request", lambda: _pr_payload("reopened")),
    "pull_request.ready_for_review": ("pull_request", lambda: _pr_payload("ready_for_review")),
    "pull_request.closed-merged": (
        "pull_request",
        lambda: _pr_payload("closed", _pr("closed", merged=True, merged_at=T2, merged_by=ALICE,
                                          closed_at=T2, merge_commit_sha=SHA_M, mergeable=True)),
    ),
    "pull_request.closed-unmerged": (
        "pull_request", lambda: _pr_payload("closed", _pr("closed", closed_at=T2)),
    ),
    "pull_request_review.submitted": (
        "pull_request_review",
        lambda: shapes.webhook("pull_request_review", "submitted", repository=REPO, sender=ALICE,
                               installation_id=1, review=_review("APPROVED"), pull_request=_pr()),
    ),
    "pull_request_review.dismissed": (
        "pull_request_review",
        lambda: shapes.webhook("pull_request_review", "dismissed", repository=REPO, sender=BOB,
                               installation_id=1, review=_review("DISMISSED"), pull_request=_pr()),
    ),
    "check_run.created": (
        "check_run", lambda: _check_payload("check_run", "created", check_run=_run("queued")),
    ),
    "check_run.created-in-progress": (
        "check_run", lambda: _check_payload("check_run", "created", check_run=_run("in_progress")),
    ),
    "check_run.completed": (
        "check_run",
        lambda: _check_payload("check_run", "completed", check_run=_run("completed", "failure")),
    ),
    "check_run.rerequested": (
        "check_run", lambda: _check_payload("check_run", "rerequested", check_run=_run()),
    ),
    "check_suite.completed": (
        "check_suite", lambda: _check_payload("check_suite", "completed", check_suite=_suite()),
    ),
    "installation.created": (
        "installation",
        lambda: shapes.webhook("installation", "created", sender=OWNER, installation=INSTALLATION,
                               repositories=[{k: REPO[k] for k in
                                              ("id", "node_id", "name", "full_name", "private")}]),
    ),
    "ping": ("ping", _ping),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(PAYLOADS))
def test_built_deliveries_validate_against_the_webhook_schema(case: str) -> None:
    event, build = PAYLOADS[case]
    assert octokit.validate_webhook(event, build()) == []


def test_webhook_adapts_rest_objects() -> None:
    closed = _issue_payload("closed", issue=_issue("closed"))
    assert "closed_by" not in closed["issue"]
    assert _issue("closed")["closed_by"] == BOT
    review = shapes.webhook("pull_request_review", "submitted", review=_review("APPROVED"),
                            pull_request=_pr())  # fmt: skip
    assert review["review"]["state"] == "approved"
    assert "merged" not in review["pull_request"]
    assert _pr_payload("opened")["number"] == 8
    assert _ping().get("installation") is None


def test_urls_follow_the_base_and_web_roots() -> None:
    issue = _issue()
    assert issue["url"] == f"{BASE}/repos/octo-org/widgets/issues/7"
    assert issue["html_url"] == f"{BASE}/web/octo-org/widgets/issues/7"
    assert BOT["html_url"] == f"{BASE}/web/apps/baton"
    ghes = shapes.repository(OWNER, "w", 1, base_url="https://ghe.example/api/v3")
    assert ghes["url"] == "https://ghe.example/api/v3/repos/octo-org/w"
    assert ghes["html_url"] == "https://ghe.example/octo-org/w"


# -- REST responses: the same builders match the documented response schemas ------------------

REST_RESPONSES: dict[str, tuple[str, str, Callable[[], Any]]] = {
    "issue": ("get", "/repos/{owner}/{repo}/issues/{issue_number}", lambda: _issue("closed")),
    "pr-as-issue": (
        "get", "/repos/{owner}/{repo}/issues/{issue_number}",
        lambda: _issue(pull_request=_pr(), number=8),
    ),
    "comments": (
        "get", "/repos/{owner}/{repo}/issues/{issue_number}/comments", lambda: [_comment()],
    ),
    "labels": ("get", "/repos/{owner}/{repo}/labels", lambda: [CLAIMED, READY]),
    "events": (
        "get", "/repos/{owner}/{repo}/issues/{issue_number}/events",
        lambda: [
            shapes.issue_event(REPO, 1, "labeled", BOT, T1, label=CLAIMED),
            shapes.issue_event(REPO, 2, "assigned", BOT, T1, assignee=ALICE),
            shapes.issue_event(REPO, 3, "unassigned", ALICE, T2, assignee=ALICE, assigner=ALICE),
            shapes.issue_event(REPO, 4, "closed", ALICE, T2),
        ],
    ),
    "pull": ("get", "/repos/{owner}/{repo}/pulls/{pull_number}", _pr),
    "reviews": (
        "get", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
        lambda: [_review("APPROVED"), _review("CHANGES_REQUESTED")],
    ),
    "check-run": ("get", "/repos/{owner}/{repo}/check-runs/{check_run_id}", _run),
    "check-suite": ("get", "/repos/{owner}/{repo}/check-suites/{check_suite_id}", _suite),
    "repository": ("get", "/repos/{owner}/{repo}", lambda: shapes.full_repository(REPO)),
    "pull-files": (
        "get", "/repos/{owner}/{repo}/pulls/{pull_number}/files",
        lambda: [
            shapes.diff_entry(REPO, SHA_B, "src/a b.ts", SHA_A, "modified", 3, 1, patch="@@"),
            shapes.diff_entry(REPO, SHA_B, "new.ts", SHA_M, "renamed", 0, 0,
                              previous_filename="old.ts"),
        ],
    ),
    "git-tree": (
        "get", "/repos/{owner}/{repo}/git/trees/{tree_sha}",
        lambda: shapes.git_tree(REPO, SHA_A, [
            {"path": "src", "mode": "040000", "type": "tree", "sha": SHA_B},
            {"path": "src/a.ts", "mode": "100644", "type": "blob", "sha": SHA_M, "size": 12},
        ]),
    ),
    "git-blob": (
        "get", "/repos/{owner}/{repo}/git/blobs/{file_sha}",
        lambda: shapes.git_blob(REPO, SHA_M, b"export const a = 1;\n" * 10),
    ),
    "app": ("get", "/app", lambda: APP),
    "installation": ("get", "/repos/{owner}/{repo}/installation", lambda: INSTALLATION),
}  # fmt: skip


REST_OTHER_STATUS: dict[str, tuple[str, str, str, Callable[[], Any]]] = {
    "access-token": (
        "post", "/app/installations/{installation_id}/access_tokens", "201",
        lambda: shapes.access_token("ghs_x", T2, INSTALLATION),
    ),
    "not-found": (
        "get", "/repos/{owner}/{repo}/issues/{issue_number}", "404",
        lambda: shapes.error(404, "Not Found"),
    ),
    "validation-failed": (
        "post", "/repos/{owner}/{repo}/issues/{issue_number}/labels", "422",
        lambda: shapes.error(422, "Validation Failed", errors=[
            {"resource": "Label", "field": "name", "code": "invalid", "value": "x"}]),
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(REST_OTHER_STATUS))
def test_rest_objects_match_documented_other_responses(case: str) -> None:
    method, template, status, build = REST_OTHER_STATUS[case]
    assert octokit.validate_response(method, template, status, build()) == []


def test_git_blob_round_trips_base64() -> None:
    data = bytes(range(256)) * 3
    blob = shapes.git_blob(REPO, SHA_M, data)
    assert base64.b64decode(blob["content"]) == data
    assert max(len(line) for line in blob["content"].splitlines()) == 60
    assert blob["size"] == len(data)


@pytest.mark.parametrize("case", sorted(REST_RESPONSES))
def test_rest_objects_match_documented_responses(case: str) -> None:
    method, template, build = REST_RESPONSES[case]
    assert octokit.validate_response(method, template, "200", build()) == []


def test_response_validation_catches_a_wrong_shape() -> None:
    broken = _issue()
    del broken["number"]
    broken["labels"] = "ready"
    violations = octokit.validate_response(
        "get", "/repos/{owner}/{repo}/issues/{issue_number}", "200", broken
    )
    assert any("'number' is a required property" in v for v in violations)
    assert any("labels" in v for v in violations)
