"""The sandbox's commit statuses against GitHub's descriptions, and through its REST API."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from app.sandbox import shapes
from app.sandbox.actions import Invalid
from app.service.server import DISPATCHER
from tests import octokit
from tests.conftest import REPO, Stack, running_stack

BASE = "http://127.0.0.1:8765"
SHA = "c" * 40
T0 = "2026-01-02T03:04:05Z"
OWNER = shapes.user("octo-org", 10, "Organization", base_url=BASE)
JENKINS = shapes.user("jenkins", 11, base_url=BASE)
REPOSITORY = shapes.repository(OWNER, "widgets", 20, base_url=BASE)


def _status(id: int, context: str, state: str) -> dict:
    return shapes.commit_status(REPOSITORY, id, SHA, state, context, JENKINS, T0, T0,
                                description="build", target_url="https://ci.example/1")  # fmt: skip


def test_status_shapes_match_githubs_descriptions() -> None:
    one = _status(1, "ci/build", "pending")
    assert octokit.validate_response("post", "/repos/{owner}/{repo}/statuses/{sha}", "201",
                                     one) == []  # fmt: skip
    combined = shapes.combined_status(REPOSITORY, SHA, [one, _status(2, "ci/lint", "success")])
    template = "/repos/{owner}/{repo}/commits/{ref}/status"
    assert octokit.validate_response("get", template, "200", combined) == []
    assert combined["state"] == "pending" and combined["total_count"] == 2
    fields = shapes.status_event(REPOSITORY, one, SHA, "msg", JENKINS, ["main"])
    event = shapes.webhook(
        "status", None, repository=REPOSITORY, sender=JENKINS, installation_id=1, **fields
    )
    assert octokit.validate_webhook("status", event) == []


def test_combined_state() -> None:
    def state(*states: str) -> str:
        statuses = [_status(i, f"c{i}", s) for i, s in enumerate(states)]
        return str(shapes.combined_status(REPOSITORY, SHA, statuses)["state"])

    assert state() == "pending"
    assert state("success", "success") == "success"
    assert state("success", "pending") == "pending"
    assert state("pending", "error") == "failure"


async def test_statuses_through_the_rest_api(tmp_path: Path) -> None:
    async with running_stack(tmp_path, files={"README.md": b"#\n"}) as stack:
        sandbox = stack.sandbox
        repo = sandbox.world.repos[REPO]
        sha = repo.branches["main"]
        jenkins = sandbox.person("jenkins")
        jenkins.status(REPO, sha, "ci/build", "pending")
        jenkins.status(REPO, sha, "CI/Build", "failure")  # contexts are case-insensitive
        jenkins.status(REPO, sha, "ci/lint", "success")
        token = await sandbox_token(stack)
        headers = {"Authorization": f"token {token}"}
        async with aiohttp.ClientSession() as http:
            url = f"{sandbox.url}/repos/{REPO}/commits/main/status"
            async with http.get(url, headers=headers) as resp:
                body = await resp.json()
            post = f"{sandbox.url}/repos/{REPO}/statuses/{sha}"
            async with http.post(post, json={"state": "success", "context": "ci/build"},
                                 headers=headers) as resp:  # fmt: skip
                created = resp.status, await resp.json()
        assert body["state"] == "failure"
        assert [(s["context"], s["state"]) for s in body["statuses"]] == [
            ("ci/lint", "success"),
            ("CI/Build", "failure"),
        ]
        with pytest.raises(Invalid):  # GitHub answers 422 (not sent: the log must stay valid)
            sandbox.actions.set_status(repo, jenkins.user, sha, "nope", "ci/build")
        assert created[0] == 201 and created[1]["creator"]["login"] == "baton[bot]"
        assert [d.event for d in sandbox.deliveries].count("status") == 4



async def sandbox_token(stack: Stack) -> str:
    """An installation token, as the app gets one."""
    return str(await stack.app[DISPATCHER].client.installation_token(1))
