"""Intake against hostile input (SPEC 2, issue #9 items 6 and 7) and `/metrics` (SPEC 1), through
the real server on loopback: wrong payload shapes, bodies past the memory bound, bodies that
trickle, idle connections, malformed requests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from app.sandbox import SandboxServer
from app.sandbox.server import sign
from app.service.dispatch import Features
from app.service.server import BODY_BUDGET, STORE, serve
from app.service.settings import Settings
from tests.conftest import REPO, SECRET, make_settings
from tests.test_intake import ECHO, headers_for


@contextlib.asynccontextmanager
async def server(
    tmp_path: Path, features: Features = ECHO, **kwargs: Any
) -> AsyncIterator[tuple[SandboxServer, Settings, web.Application]]:
    """The real `serve` with intake's bounds set by the test (create_app's keyword arguments)."""
    sandbox = SandboxServer(SECRET)
    await sandbox.start()
    sandbox.add_repo(REPO)
    settings = make_settings(sandbox, tmp_path / "baton.db")
    started: asyncio.Future[web.Application] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve(settings, stop=stop, on_start=started.set_result, features=features, **kwargs)
    )
    app = await asyncio.wait_for(started, 10)
    sandbox.webhook_url = f"http://127.0.0.1:{settings.port}{settings.webhook_path}"
    try:
        yield sandbox, settings, app
    finally:
        stop.set()
        await task
        await sandbox.stop()


class Url:
    def __init__(self, settings: Settings) -> None:
        self.base = f"http://127.0.0.1:{settings.port}"
        self.hook = self.base + settings.webhook_path


def signed(payload: object, event: str = "issues") -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    return body, headers_for(body, event)


GOOD: dict[str, Any] = {
    "action": "opened",
    "issue": {"number": 1},
    "repository": {"full_name": REPO},
    "installation": {"id": 1},
    "sender": {"login": "ann"},
}

WRONG_SHAPES = {
    "repository is a string": {"repository": "acme/shop"},
    "repository is a list": {"repository": ["acme", "shop"]},
    "repository without full_name": {"repository": {"name": "shop"}},
    "full_name is a number": {"repository": {"full_name": 7}},
    "installation is a string": {"installation": "1"},
    "installation id is a string": {"installation": {"id": "1"}},
    "installation id is a boolean": {"installation": {"id": True}},
    "sender login is a list": {"sender": {"login": ["ann"]}},
    "issue is a list": {"issue": [1]},
    "issue number is a string": {"issue": {"number": "1"}},
    "pull_request number is a float": {"pull_request": {"number": 1.5}},
    "comment body is a number": {"comment": {"body": 3}},
    "action is an object": {"action": {"opened": True}},
    "ref is a number": {"ref": 1},
    "default_branch is a list": {"repository": {"full_name": REPO, "default_branch": []}},
}
CHECK_SHAPES = {
    "check_run is a string": {"check_run": "run"},
    "pull_requests is a number": {"check_run": {"head_sha": "a", "pull_requests": 5}},
    "a pull request is a string": {"check_run": {"head_sha": "a", "pull_requests": ["#5"]}},
    "a pull request number is null": {"check_suite": {"pull_requests": [{"number": None}]}},
    "head_sha is a number": {"check_suite": {"head_sha": 1, "pull_requests": []}},
}


async def test_a_signed_payload_of_the_wrong_shape_is_a_400_never_a_500(tmp_path: Path) -> None:
    async with server(tmp_path) as (sandbox, settings, app):
        url = Url(settings)
        async with aiohttp.ClientSession() as session:

            async def send(payload: object, event: str) -> tuple[int, dict[str, Any]]:
                body, headers = signed(payload, event)
                async with session.post(url.hook, data=body, headers=headers) as resp:
                    return resp.status, await resp.json()

            cases = [({**GOOD, **c}, "issues", n) for n, c in WRONG_SHAPES.items()]
            cases += [({**GOOD, **c}, "check_run", n) for n, c in CHECK_SHAPES.items()]
            for payload, event, name in cases:
                status, answer = await send(payload, event)
                assert status == 400, (name, status, answer)
                assert "unexpected payload" in answer["message"], name
            # The same fields of the right shape are accepted: the refusals were for the shape.
            assert (await send(GOOD, "issues"))[0] == 202
            run = {"head_sha": "a", "pull_requests": [{"number": 5}]}
            assert (await send({**GOOD, "check_run": run}, "check_run"))[0] == 202
            for event in ("issues", "push", "check_suite"):  # optional fields may be absent
                assert (await send({"action": "x"}, event))[0] == 202
        assert sandbox.deliveries == []  # posted by the test itself, not the sandbox
        assert app[STORE].depth() + app[STORE].dead_count() <= 5  # only the accepted ones


def metric_values(text: str) -> dict[str, float]:
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            values[sample.name + (f"{{{labels}}}" if labels else "")] = sample.value
    return values


async def scrape(url: Url) -> dict[str, float]:
    async with aiohttp.ClientSession() as session, session.get(url.base + "/metrics") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        return metric_values(await resp.text())


async def test_metrics_move_with_deliveries(tmp_path: Path) -> None:
    async with server(tmp_path) as (sandbox, settings, _app):
        url = Url(settings)
        before = await scrape(url)
        assert before["baton_queue_depth"] == 0 and before["baton_github_requests_total"] == 0
        assert "baton_github_rate_limit_remaining" not in before  # nothing asked GitHub yet

        ann = sandbox.person("ann")
        ann.open_issue(REPO, "One", "body")
        ann.open_issue(REPO, "Two", "body")
        await sandbox.flush()
        for _ in range(200):
            if len(comments_of(sandbox)) == 2:
                break
            await asyncio.sleep(0.02)
        await sandbox.flush()  # the deliveries of those comments, too
        after = await scrape(url)
        assert after["baton_deliveries_accepted_total{event=issues}"] == 2
        # The bot's own comments come back as issue_comment deliveries, handled (and skipped).
        accepted = sum(v for k, v in after.items() if k.startswith("baton_deliveries_accepted_t"))
        assert accepted == 4
        await wait_for_metric(url, "baton_deliveries_handled_total", accepted)
        after = await scrape(url)
        assert after["baton_handler_duration_seconds_count"] == accepted
        assert after["baton_queue_depth"] == 0
        assert after["baton_github_requests_total"] >= 4  # app, token, two comments
        assert 0 < after["baton_github_rate_limit_remaining"] < 5000

        sandbox.inject("POST", r"/comments$", 500, times=100)
        ann.open_issue(REPO, "Three", "body")
        await sandbox.flush()
        await wait_for_metric(url, "baton_deliveries_dead_total", 1)
        final = await scrape(url)
        assert final["baton_deliveries_retried_total"] == settings.max_attempts - 1
        assert final["baton_dead_letters"] == 1
        assert final["baton_deliveries_handled_total"] == accepted
        assert final["baton_deliveries_accepted_total{event=issues}"] == 3


def comments_of(sandbox: SandboxServer) -> list[str]:
    return [c.body for c in sandbox.world.repos[REPO].comments.values()]


async def wait_for_metric(url: Url, name: str, value: float) -> None:
    for _ in range(250):
        if (await scrape(url)).get(name) == value:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{name} never reached {value}: {await scrape(url)}")


async def open_request(port: int, length: int, sent: bytes = b"") -> asyncio.StreamWriter:
    """A POST whose body is promised by Content-Length but not (all) sent."""
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    body_sig = sign(SECRET, b"x" * length)
    writer.write(
        (
            f"POST /api/github/webhooks HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n"
            f"X-GitHub-Event: issues\r\nX-GitHub-Delivery: {uuid.uuid4()}\r\n"
            f"X-Hub-Signature-256: {body_sig}\r\n\r\n"
        ).encode()
        + sent
    )
    await writer.drain()
    return writer


async def test_bodies_held_at_once_are_bounded(tmp_path: Path) -> None:
    async with server(tmp_path, max_held=100_000) as (sandbox, settings, app):
        url = Url(settings)
        first = await open_request(settings.port, 60_000, b"x" * 100)  # holds 60 KB of budget
        try:
            for _ in range(100):
                if app[BODY_BUDGET].held:
                    break
                await asyncio.sleep(0.01)
            assert app[BODY_BUDGET].held == 60_000
            body = b"x" * 60_000
            async with aiohttp.ClientSession() as session:
                headers = {**headers_for(body), "X-Hub-Signature-256": sign("wrong", body)}
                async with session.post(url.hook, data=body, headers=headers) as resp:
                    assert resp.status == 503
                    assert resp.headers["Retry-After"].isdigit()
                small, small_headers = signed(GOOD)  # a real delivery still fits
                async with session.post(url.hook, data=small, headers=small_headers) as resp:
                    assert resp.status == 202
        finally:
            first.close()
        for _ in range(100):
            if not app[BODY_BUDGET].held:
                break
            await asyncio.sleep(0.01)
        assert app[BODY_BUDGET].held == 0  # given back when the client went away
        assert sandbox.deliveries == []


async def test_a_body_that_trickles_is_cut_off(tmp_path: Path) -> None:
    async with server(tmp_path, body_timeout=0.5) as (_, settings, app):
        reader_writer = await asyncio.open_connection("127.0.0.1", settings.port)
        reader, writer = reader_writer
        body = json.dumps(GOOD).encode()
        headers = headers_for(body)
        writer.write(
            (
                f"POST {settings.webhook_path} HTTP/1.1\r\nHost: x\r\n"
                f"Content-Length: {len(body)}\r\n"
                + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                + "\r\n"
            ).encode()
            + body[:10]
        )
        await writer.drain()
        start = time.monotonic()
        answer = await asyncio.wait_for(reader.read(), 5)  # the server closes the connection
        assert answer.startswith(b"HTTP/1.1 408")
        assert time.monotonic() - start < 2.0
        writer.close()
        assert app[BODY_BUDGET].held == 0


async def test_idle_connections_do_not_stop_healthz(tmp_path: Path) -> None:
    async with server(tmp_path) as (_, settings, _app):
        idle = []
        try:
            for i in range(1000):
                _, writer = await asyncio.open_connection("127.0.0.1", settings.port)
                if i % 2:  # half of them start a request and stop
                    writer.write(b"POST /api/github/webhooks HTTP/1.1\r\nHost: x\r\n")
                idle.append(writer)
            start = time.monotonic()
            async with (
                aiohttp.ClientSession() as session,
                session.get(Url(settings).base + "/healthz") as resp,
            ):
                assert resp.status == 200
            assert time.monotonic() - start < 1.0
        finally:
            for writer in idle:
                writer.close()


async def test_a_malformed_request_is_one_warning_without_a_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with server(tmp_path) as (_, settings, _app):
        caplog.set_level(logging.DEBUG, logger="aiohttp.server")
        reader, writer = await asyncio.open_connection("127.0.0.1", settings.port)
        writer.write(b"POST /api/github/webhooks HTTP/1.1\r\nHost: x\r\nBad Header\x01: y\r\n\r\n")
        answer = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        assert answer.split(b"\r\n")[0].endswith(b" 400 Bad Request")
        records = [r for r in caplog.records if r.name == "aiohttp.server"]
        assert len(records) == 1, [r.getMessage() for r in records]
        assert records[0].levelno == logging.WARNING
        message = records[0].getMessage()
        assert records[0].exc_info is None and "malformed request" in message
        assert "Invalid header token" in message and "\n" not in message


async def test_a_flood_of_malformed_requests_is_a_few_lines(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with server(tmp_path) as (_, settings, _app):
        caplog.set_level(logging.DEBUG, logger="aiohttp.server")
        for _ in range(50):
            reader, writer = await asyncio.open_connection("127.0.0.1", settings.port)
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n")
            await asyncio.wait_for(reader.read(), 5)
            writer.close()
        records = [r for r in caplog.records if r.name == "aiohttp.server"]
        assert 1 <= len(records) <= 5


async def test_unsigned_is_refused_before_the_body_is_read(tmp_path: Path) -> None:
    async with server(tmp_path, max_held=1000) as (_, settings, app):
        url = Url(settings)
        body = b"x" * 50_000  # past the budget, but never held: no signature to check
        async with aiohttp.ClientSession() as session:
            for header in ({}, {"X-Hub-Signature-256": "sha1=abc"}):
                async with session.post(url.hook, data=body, headers=header) as resp:
                    assert resp.status == 401
        assert app[BODY_BUDGET].held == 0
