"""The test stack: the sandbox and the real server (the `serve` code path) over loopback."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from aiohttp import web

from app.features import FEATURES
from app.sandbox import APP_ID, SandboxServer
from app.service.dispatch import Clock, Features
from app.service.server import DISPATCHER, STORE, WORKER, serve
from app.service.settings import Settings
from app.service.worker import Worker

REPO = "acme/shop"
SECRET = "test-secret"

# Every request the app made and every delivery the sandbox sent in this session, for the
# description checks in test_github_descriptions.py (which runs last, by its name).
ALL_REQUESTS: list = []
ALL_DELIVERIES: list = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "last: run after every other test (sees all traffic)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("last") is not None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    sandbox: SandboxServer
    app: web.Application
    settings: Settings
    stop: asyncio.Event
    task: asyncio.Task[None]

    @property
    def worker(self) -> Worker:
        return self.app[WORKER]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"

    async def settle(self, timeout: float = 20.0) -> None:
        """Until no delivery is in flight in either direction."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            await self.sandbox.flush()
            await self.worker.wait_idle(max(0.1, deadline - loop.time()))
            if self.sandbox.outbox_empty:
                await asyncio.sleep(0.02)
                if self.sandbox.outbox_empty and self.quiet():
                    return
            if loop.time() > deadline:
                raise TimeoutError("the stack did not settle")

    def quiet(self) -> bool:
        """Nothing ready, and no retry due soon (a long rate-limit wait does not count)."""
        store, now = self.app[STORE], time.time()
        due = store.next_due(now)
        return not store.ready(now, set(), 1) and (due is None or due - now > 2)

    def requests_since(self, mark: int) -> list:
        return self.sandbox.requests[mark:]

    async def sweep(self) -> None:
        dispatcher = self.app[DISPATCHER]
        for installation_id, repo in await dispatcher.repositories():
            await dispatcher.sweep_repo(installation_id, repo)
        await self.settle()


def make_settings(sandbox: SandboxServer, db: Path, **overrides: object) -> Settings:
    settings = Settings(
        app_id=str(APP_ID),
        private_key=sandbox.private_key,
        webhook_secret=SECRET,
        host="127.0.0.1",
        port=free_port(),
        github_api_url=sandbox.url + str(overrides.pop("api_prefix", "")),
        db_path=str(db),
        reconcile_interval=0,
        retry_base=0.01,
        max_attempts=4,
    )
    return replace(settings, **overrides)


@contextlib.asynccontextmanager
async def running_stack(
    tmp_path: Path, features: Features | None = None, files: dict[str, bytes] | None = None,
    clock: Clock | None = None, **overrides: object,
) -> AsyncIterator[Stack]:
    """`clock`: the app's clock; by default the sandbox's, so that advancing it ages claims."""
    sandbox = SandboxServer(SECRET)
    await sandbox.start()
    sandbox.add_repo(REPO, files or {})
    settings = make_settings(sandbox, tmp_path / "baton.db", **overrides)
    started: asyncio.Future[web.Application] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve(
            settings,
            stop=stop,
            on_start=started.set_result,
            features=FEATURES if features is None else features,
            clock=clock or sandbox.world.clock.now,
        )
    )
    app = await asyncio.wait_for(started, 10)
    sandbox.webhook_url = f"http://127.0.0.1:{settings.port}{settings.webhook_path}"
    stack = Stack(sandbox, app, settings, stop, task)
    try:
        yield stack
    finally:
        with contextlib.suppress(Exception):
            await stack.settle(5)
        stop.set()
        await task
        await sandbox.stop()
        ALL_REQUESTS.extend(sandbox.requests)
        ALL_DELIVERIES.extend(sandbox.deliveries)


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(tmp_path) as s:
        yield s
