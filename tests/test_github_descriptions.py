"""The sandbox against GitHub's own descriptions: every request the app made in this test session
is valid per `@octokit/openapi`, every delivery the sandbox sent per `@octokit/webhooks-schemas`,
and the app survives every recorded `@octokit/webhooks-examples` payload of its events.

conftest.py moves the `last` tests to the end of the session, so they see all the traffic.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest

from app.sandbox.server import sign
from tests import octokit
from tests.conftest import ALL_DELIVERIES, ALL_REQUESTS, REPO, SECRET, running_stack

SUBSCRIBED = [
    "issues", "issue_comment", "pull_request", "pull_request_review", "check_run",
    "check_suite", "push", "status", "installation", "installation_repositories",
]  # fmt: skip


async def _a_little_traffic(tmp_path: Path) -> None:
    """So that this file alone still checks something: a ticket's life in short."""
    async with running_stack(tmp_path) as stack:
        ann = stack.sandbox.person("ann")
        stack.sandbox.grant(REPO, "ann", "write")
        number = ann.open_issue(REPO, "Checkout", "## Acceptance criteria\n- [ ] pays")
        ann.comment(REPO, number, "/claim -- on it")
        await stack.settle()


@pytest.mark.last
async def test_every_request_the_app_made_is_in_githubs_description(tmp_path: Path) -> None:
    await _a_little_traffic(tmp_path)
    assert ALL_REQUESTS, "no traffic was recorded"
    violations = []
    checked = set()
    for r in ALL_REQUESTS:
        url = r.path + ("?" + urlencode(r.query) if r.query else "")
        key = (r.method, url, repr(r.body))
        if key in checked:
            continue
        checked.add(key)
        for problem in octokit.validate_request(r.method, url, r.body):
            violations.append(f"{r.method} {url}: {problem}")
    assert violations == []


@pytest.mark.last
async def test_every_delivery_the_sandbox_sent_matches_the_webhook_schemas(
    tmp_path: Path,
) -> None:
    await _a_little_traffic(tmp_path)
    assert ALL_DELIVERIES
    violations = [
        f"{d.event}.{d.payload.get('action')}: {problem}"
        for d in ALL_DELIVERIES
        for problem in octokit.validate_webhook(d.event, d.payload)
    ]
    assert violations == []


async def test_every_recorded_example_of_our_events_is_answered_without_5xx(
    tmp_path: Path,
) -> None:
    async with running_stack(tmp_path) as stack, aiohttp.ClientSession() as session:
        url = stack.url + stack.settings.webhook_path
        statuses: dict[int, int] = {}
        sent = 0
        for event in SUBSCRIBED:
            for example in octokit.webhook_examples(event):
                # The example's repository exists in the sandbox, installed: the handlers run
                # against it (its issues and PRs do not exist: GitHub answers 404 for them).
                repo = (example.get("repository") or {}).get("full_name")
                installation = (example.get("installation") or {}).get("id")
                if repo and installation and repo not in stack.sandbox.world.repos:
                    stack.sandbox.add_repo(repo, {}, installation_id=int(installation))
                body = json.dumps(example).encode()
                headers = {
                    "X-GitHub-Event": event,
                    "X-GitHub-Delivery": str(uuid.uuid4()),
                    "X-Hub-Signature-256": sign(SECRET, body),
                    "Content-Type": "application/json",
                }
                async with session.post(url, data=body, headers=headers) as resp:
                    statuses[resp.status] = statuses.get(resp.status, 0) + 1
                sent += 1
        await stack.settle(60)
        async with session.get(stack.url + "/healthz") as resp:
            health = await resp.json()
    assert sent > 50
    handled = [r for r in stack.sandbox.requests if r.auth == "installation"]
    assert len(handled) >= 30  # the handlers did run against the examples' repositories
    assert not [s for s in statuses if s >= 500]
    assert set(statuses) <= {200, 202}
    assert health["status"] == "ok"
    assert health["queue_depth"] == 0
    assert health["dead_letters"] == 0
