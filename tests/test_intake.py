"""Webhook intake and the delivery queue, through the real server and the sandbox (SPEC 2, 3)."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from pathlib import Path

import aiohttp
import pytest
from gidgethub import routing

from app.sandbox.server import sign
from app.service.dispatch import Context, Features
from app.service.intake import ordering_key, signature_ok
from app.service.server import STORE
from tests.conftest import REPO, SECRET, Stack, running_stack

# A feature used only here: it comments once on every opened issue, so side effects can be
# counted. It is plugged into the real server the way the real features are.
echo = routing.Router()


@echo.register("issues", action="opened")
async def _comment_on_open(event, ctx: Context) -> None:  # type: ignore[no-untyped-def]
    number = event.data["issue"]["number"]
    await ctx.gh.post(f"/repos/{ctx.repo}/issues/{number}/comments", data={"body": "seen"})


ECHO = Features(routers=[echo])


def comments(stack: Stack) -> list[str]:
    return [c.body for c in stack.sandbox.world.repos[REPO].comments.values()]


async def post(stack: Stack, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session, session.post(
        stack.url + stack.settings.webhook_path, data=body, headers=headers
    ) as resp:
        return resp.status, await resp.json()


def headers_for(body: bytes, event: str = "issues", delivery: str | None = None) -> dict[str, str]:
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(SECRET, body),
        "Content-Type": "application/json",
    }


def test_signature_is_checked_on_the_raw_body() -> None:
    body = b'{"a": 1}'
    assert signature_ok(b"s", body, sign("s", body))
    assert not signature_ok(b"s", body + b" ", sign("s", body))
    assert not signature_ok(b"s", body, None)
    assert not signature_ok(b"s", body, "sha1=" + sign("s", body)[7:])
    assert not signature_ok(b"s", body, "sha256=ü" + sign("s", body)[8:])  # not a 500


def test_ordering_key_groups_by_issue_or_pr() -> None:
    repo = {"full_name": "o/r"}
    assert ordering_key("issues", {"repository": repo, "issue": {"number": 4}}) == "o/r#4"
    assert ordering_key("pull_request", {"repository": repo, "pull_request": {"number": 5}}) == (
        "o/r#5"
    )
    run = {"head_sha": "abc", "pull_requests": [{"number": 5}]}
    assert ordering_key("check_run", {"repository": repo, "check_run": run}) == "o/r#5"


async def test_every_intake_status_code(stack: Stack) -> None:
    body = json.dumps({"action": "deleted", "repository": {"full_name": REPO}}).encode()
    assert (await post(stack, body, {**headers_for(body), "X-Hub-Signature-256": ""}))[0] == 401
    wrong = {**headers_for(body), "X-Hub-Signature-256": sign("other", body)}
    assert (await post(stack, body, wrong))[0] == 401
    assert (await post(stack, b"[1, 2]", headers_for(b"[1, 2]")))[0] == 400
    assert (await post(stack, b"{nope", headers_for(b"{nope")))[0] == 400
    no_event = headers_for(body)
    del no_event["X-GitHub-Event"]
    assert (await post(stack, body, no_event))[0] == 400
    no_id = headers_for(body)
    del no_id["X-GitHub-Delivery"]
    assert (await post(stack, body, no_id))[0] == 400
    assert (await post(stack, body, headers_for(body, "ping")))[0] == 200
    assert (await post(stack, body, headers_for(body, "star")))[0] == 200
    delivery = str(uuid.uuid4())
    status, answer = await post(stack, body, headers_for(body, delivery=delivery))
    assert (status, answer["delivery"]) == (202, delivery)
    assert (await post(stack, body, headers_for(body, delivery=delivery)))[0] == 200
    big = b'{"x": "' + b"a" * (25 * 1024 * 1024) + b'"}'
    assert (await post(stack, big, headers_for(big)))[0] == 413
    # A refused delivery left no trace: signed, the same delivery id is accepted.
    refused = headers_for(body, delivery="refused-once")
    assert (await post(stack, body, {**refused, "X-Hub-Signature-256": "sha256=0"}))[0] == 401
    assert (await post(stack, body, refused))[0] == 202
    # Nothing unsigned or malformed was stored: only the one accepted delivery.
    await stack.settle()
    assert stack.app[STORE].depth() == 0
    health = await (await aiohttp.ClientSession().__aenter__()).get(stack.url + "/healthz")
    data = await health.json()
    await health.release()
    assert data["status"] == "ok" and data["dead_letters"] == 0


async def test_duplicate_delivery_is_handled_once(tmp_path: Path) -> None:
    async with running_stack(tmp_path, ECHO) as stack:
        author = stack.sandbox.person("ann")
        with stack.sandbox.hold() as held:
            author.open_issue(REPO, "Checkout button", "body")
        assert await stack.sandbox.post_delivery(held[0]) == 202
        await stack.settle()
        assert await stack.sandbox.post_delivery(held[0]) == 200  # redelivered: same id
        await stack.settle()
        assert comments(stack) == ["seen"]


async def test_a_502_then_success_yields_exactly_one_comment(tmp_path: Path) -> None:
    async with running_stack(tmp_path, ECHO) as stack:
        stack.sandbox.inject("POST", r"/issues/\d+/comments$", 502)
        stack.sandbox.person("ann").open_issue(REPO, "Cart", "body")
        await stack.settle()
        assert comments(stack) == ["seen"]
        posts = [r for r in stack.sandbox.requests if r.method == "POST" and "comments" in r.path]
        assert [r.status for r in posts] == [502, 201]


async def test_a_403_with_retry_after_is_waited_out(tmp_path: Path) -> None:
    async with running_stack(tmp_path, ECHO) as stack:
        stack.sandbox.inject("POST", r"/comments$", 403, headers={"Retry-After": "1"})
        loop = asyncio.get_running_loop()
        start = loop.time()
        stack.sandbox.person("ann").open_issue(REPO, "Cart", "body")
        await stack.settle()
        assert comments(stack) == ["seen"]
        assert loop.time() - start >= 1.0


async def test_n_deliveries_cause_one_token_request(tmp_path: Path) -> None:
    async with running_stack(tmp_path, ECHO) as stack:
        ann = stack.sandbox.person("ann")
        for i in range(12):
            ann.open_issue(REPO, f"Ticket {i}", "body")
        await stack.settle()
        tokens = [r for r in stack.sandbox.requests if r.path.endswith("/access_tokens")]
        assert len(tokens) == 1
        assert len(comments(stack)) == 12


async def test_a_handler_that_keeps_failing_becomes_a_dead_letter(tmp_path: Path) -> None:
    async with running_stack(tmp_path, ECHO) as stack:
        stack.sandbox.inject("POST", r"/comments$", 500, times=100)
        stack.sandbox.person("ann").open_issue(REPO, "Cart", "body")
        await stack.settle()
        async with aiohttp.ClientSession() as session, session.get(stack.url + "/healthz") as r:
            health = await r.json()
        assert health["dead_letters"] == 1
        assert health["recent_dead_letters"] == [stack.sandbox.deliveries[0].id]


async def test_own_events_are_ignored(tmp_path: Path) -> None:
    async with running_stack(tmp_path, ECHO) as stack:
        bot = stack.sandbox.person("baton[bot]", "Bot")
        bot.open_issue(REPO, "made by the app itself", "body")
        await stack.settle()
        assert comments(stack) == []


@pytest.mark.parametrize("missing", ["WEBHOOK_SECRET", "APP_ID"])
async def test_missing_setting_exits_2_naming_it(missing: str, tmp_path: Path) -> None:
    import os
    import sys

    env = {
        "PATH": os.environ["PATH"],
        "APP_ID": "1",
        "PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\\nx\\n-----END PRIVATE KEY-----",
        "WEBHOOK_SECRET": "s",
    }
    del env[missing]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app", "serve", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert missing in err.decode()


async def test_a_long_rate_limit_reschedules_the_delivery_without_failing_it(
    tmp_path: Path,
) -> None:
    import time

    async with running_stack(tmp_path, ECHO) as stack:
        reset = str(int(time.time()) + 600)
        headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
        stack.sandbox.inject("POST", r"/comments$", 403, headers=headers)
        stack.sandbox.person("ann").open_issue(REPO, "Cart", "body")
        await stack.sandbox.flush()
        for _ in range(100):
            if any(r.status == 403 for r in stack.sandbox.requests):
                break
            await asyncio.sleep(0.02)
        store = stack.app[STORE]
        for _ in range(100):  # until the worker has rescheduled it (polled, not waited out)
            row = store._db.execute("SELECT status, attempts, next_at FROM deliveries").fetchone()
            if row[2] >= int(reset) - 1:
                break
            await asyncio.sleep(0.02)
        assert row[0] == "pending" and row[1] == 0  # waiting, not failed
        assert row[2] >= int(reset) - 1
        assert comments(stack) == [] and store.dead_count() == 0


async def test_the_reconciliation_sweep_runs_through_the_queue(tmp_path: Path) -> None:
    async with running_stack(tmp_path, reconcile_interval=0.2) as stack:
        store = stack.app[STORE]
        for _ in range(100):
            rows = store._db.execute(
                "SELECT id, status FROM deliveries WHERE event='baton_sweep'"
            ).fetchall()
            if any(status == "done" for _, status in rows):
                break
            await asyncio.sleep(0.05)
        assert rows and rows[0][0].startswith(f"sweep:{REPO}:")
        assert any(status == "done" for _, status in rows)
        listed = [r.path for r in stack.sandbox.requests if r.path == "/app/installations"]
        assert listed


async def test_one_issue_in_order_one_at_a_time_and_issues_concurrently(tmp_path: Path) -> None:
    spans: list[tuple[int, str, float, float]] = []
    order = routing.Router()

    @order.register("issues", action="labeled")
    async def _slow(event, ctx: Context) -> None:  # type: ignore[no-untyped-def]
        loop = asyncio.get_running_loop()
        start = loop.time()
        await asyncio.sleep(0.1)
        spans.append((event.data["issue"]["number"], event.data["label"]["name"], start,
                      loop.time()))  # fmt: skip

    async with running_stack(tmp_path, Features(routers=[order])) as stack:
        ann = stack.sandbox.person("ann")
        one = ann.open_issue(REPO, "One", "body")
        two = ann.open_issue(REPO, "Two", "body")
        for name in "abcde":
            ann.label(REPO, one, name)
            ann.label(REPO, two, name)
        await stack.settle()
    first = [s for s in spans if s[0] == one]
    second = [s for s in spans if s[0] == two]
    assert [s[1] for s in first] == list("abcde")  # in the order GitHub sent them
    for earlier, later in itertools.pairwise(first):
        assert earlier[3] <= later[2]  # never two at once for one issue
    assert any(a[2] < b[3] and b[2] < a[3] for a in first for b in second)  # but across issues


async def test_log_lines_carry_the_delivery_id_and_never_a_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import logging

    from app.service.logs import setup_logging

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    setup_logging("DEBUG", "json")
    try:
        async with running_stack(tmp_path, ECHO) as stack:
            stack.sandbox.inject("POST", r"/comments$", 500, times=100)
            stack.sandbox.person("ann").open_issue(REPO, "Cart", "body")
            await stack.settle()
            delivery = stack.sandbox.deliveries[0].id
            key = stack.sandbox.private_key
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    mine = [r for r in lines if r["delivery"] == delivery]
    assert any("dead letter" in r["message"] for r in mine)
    assert any(r["logger"] == "app.service.dispatch" for r in mine)  # the handler's failure, too
    assert all(r["delivery"] in (delivery, "-") for r in lines)
    text = "\n".join(json.dumps(r) for r in lines)
    assert SECRET not in text and key.splitlines()[1] not in text


async def test_github_enterprise_server_api_url_is_honoured(tmp_path: Path) -> None:
    async with running_stack(tmp_path, ECHO, api_prefix="/api/v3") as stack:
        stack.sandbox.person("ann").open_issue(REPO, "Cart", "body")
        await stack.settle()
        assert comments(stack) == ["seen"]
        paths = [r.path for r in stack.sandbox.requests]
        assert paths and all(p.startswith("/api/v3/") for p in paths)
