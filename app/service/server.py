"""The webhook service: `create_app(settings)` wires intake, queue, worker and the sweep."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import resource
import signal
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import orjson
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.service import intake
from app.service.dispatch import Clock, Dispatcher, Features, utcnow
from app.service.github import GitHubClient
from app.service.logs import MalformedRequests
from app.service.metrics import Metrics
from app.service.queue import DeliveryStore, GroupCommit, Now, maintain
from app.service.settings import Settings
from app.service.worker import Worker

log = logging.getLogger(__name__)

STORE = web.AppKey("store", DeliveryStore)
WORKER = web.AppKey("worker", Worker)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
METRICS = web.AppKey("metrics", Metrics)
BODY_BUDGET = web.AppKey("body_budget", intake.BodyBudget)

# Connections: an idle one is closed after KEEPALIVE seconds (aiohttp's default is an hour), and
# a burst of connects waits in a listen backlog that the kernel's somaxconn may shorten.
KEEPALIVE = 30.0
LISTEN_BACKLOG = 4096


class Reconciler:
    """Every RECONCILE_INTERVAL, queue one sweep per repository: missed deliveries heal."""

    def __init__(self, dispatcher: Dispatcher, store: DeliveryStore, worker: Worker) -> None:
        self._dispatcher = dispatcher
        self._store = store
        self._worker = worker

    async def enqueue_sweeps(self) -> int:
        stamp = int(time.time() * 1000)
        count = 0
        for installation_id, repo in await self._dispatcher.repositories():
            body = json.dumps({"installation_id": installation_id, "repo": repo}).encode()
            if self._store.put(f"sweep:{repo}:{stamp}", "baton_sweep", f"{repo}:sweep", body):
                count += 1
        self._worker.notify()
        return count

    async def run(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.enqueue_sweeps()
            except Exception:
                log.exception("reconciliation sweep could not be queued")


async def _healthz(request: web.Request) -> web.Response:
    """Kept counts and the last dead letters, from memory: the same cost at any depth."""
    store = request.app[STORE]
    body = {
        "status": "ok",
        "queue_depth": store.depth(),
        "dead_letters": store.dead_count(),
        "recent_dead_letters": store.recent_dead(),
    }
    return web.Response(body=orjson.dumps(body), content_type="application/json")


async def _metrics(request: web.Request) -> web.Response:
    data = generate_latest(request.app[METRICS].registry)
    return web.Response(body=data, headers={"Content-Type": CONTENT_TYPE_LATEST})


def create_app(
    settings: Settings,
    *,
    features: Features,
    clock: Clock = utcnow,
    queue_clock: Now = time.time,
    max_held: int = intake.MAX_HELD,
    body_timeout: float = intake.BODY_TIMEOUT,
) -> web.Application:
    """`queue_clock`: when deliveries are due (tests move it instead of waiting);
    `max_held`, `body_timeout`: intake's bounds on request bodies (SPEC 2)."""
    app = web.Application(client_max_size=intake.MAX_BODY + 1)
    store = DeliveryStore(settings.db_path, now=queue_clock)
    metrics = Metrics(store.depth, store.dead_count)
    app[STORE] = store
    app[METRICS] = metrics
    writer = GroupCommit(store, lambda: app[WORKER].notify() if WORKER in app else None)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            client = GitHubClient(
                session,
                app_id=settings.app_id,
                private_key=settings.private_key,
                base_url=settings.github_api_url,
                retry_base=min(1.0, settings.retry_base),
                clock=clock,
            )
            metrics.watch_github(lambda: (client.requests, client.rate_limit_remaining))
            dispatcher = Dispatcher(client, features, clock)
            worker = Worker(
                store,
                dispatcher.handle,
                concurrency=settings.workers,
                max_attempts=settings.max_attempts,
                retry_base=settings.retry_base,
                now=queue_clock,
                metrics=metrics,
            )
            reconciler = Reconciler(dispatcher, store, worker)
            app[DISPATCHER] = dispatcher
            app[WORKER] = worker
            worker.start()
            upkeep = asyncio.create_task(maintain(store))
            sweeping = (
                asyncio.create_task(reconciler.run(settings.reconcile_interval))
                if settings.reconcile_interval > 0
                else None
            )
            yield
            if sweeping:
                sweeping.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeping
            upkeep.cancel()
            await worker.stop()
            await writer.close()
        store.close()

    app.cleanup_ctx.append(lifecycle)
    app[BODY_BUDGET] = intake.BodyBudget(max_held)
    receive = intake.make_handler(
        settings.webhook_secret,
        writer,
        metrics=metrics,
        budget=app[BODY_BUDGET],
        body_timeout=body_timeout,
    )
    app.router.add_post(settings.webhook_path, receive)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/metrics", _metrics)
    return app


def raise_open_files_limit() -> int:
    """Soft RLIMIT_NOFILE up to the hard one: each connection is a file descriptor, and the
    usual soft 1024 runs out long before memory does."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    return soft


async def serve(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    on_start: Callable[[web.Application], None] | None = None,
    **kwargs: Any,
) -> None:
    """Run until SIGTERM/SIGINT (or `stop`): stop accepting, let the worker finish its work."""
    raise_open_files_limit()
    server_log = logging.getLogger("aiohttp.server")
    malformed = MalformedRequests()
    server_log.addFilter(malformed)
    app = create_app(settings, **kwargs)
    runner = web.AppRunner(
        app, access_log=None, handle_signals=False, keepalive_timeout=KEEPALIVE
    )
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port, backlog=LISTEN_BACKLOG)
    await site.start()
    log.info("listening on %s:%s%s", settings.host, settings.port, settings.webhook_path)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    if on_start:
        on_start(app)
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        await runner.cleanup()
        server_log.removeFilter(malformed)
