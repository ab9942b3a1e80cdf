"""The webhook service: `create_app(settings)` wires intake, queue, worker and the sweep."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
from aiohttp import web

from app.service import intake
from app.service.dispatch import Clock, Dispatcher, Features, utcnow
from app.service.github import GitHubClient
from app.service.queue import DeliveryStore, GroupCommit
from app.service.settings import Settings
from app.service.worker import Worker

log = logging.getLogger(__name__)

STORE = web.AppKey("store", DeliveryStore)
WORKER = web.AppKey("worker", Worker)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
RECONCILER: web.AppKey[Reconciler] = web.AppKey("reconciler")


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
    store = request.app[STORE]
    return web.json_response(
        {
            "status": "ok",
            "queue_depth": store.depth(),
            "dead_letters": store.dead_count(),
            "recent_dead_letters": [d["id"] for d in store.dead_letters(10)],
        }
    )


def create_app(
    settings: Settings,
    *,
    features: Features,
    clock: Clock = utcnow,
) -> web.Application:
    app = web.Application(client_max_size=intake.MAX_BODY + 1)
    store = DeliveryStore(settings.db_path)
    app[STORE] = store
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
            dispatcher = Dispatcher(client, features, clock)
            worker = Worker(
                store,
                dispatcher.handle,
                concurrency=settings.workers,
                max_attempts=settings.max_attempts,
                retry_base=settings.retry_base,
            )
            reconciler = Reconciler(dispatcher, store, worker)
            app[DISPATCHER] = dispatcher
            app[WORKER] = worker
            app[RECONCILER] = reconciler
            worker.start()
            checkpoints = asyncio.create_task(writer.maintain())
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
            checkpoints.cancel()
            await worker.stop()
        store.close()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_post(settings.webhook_path, intake.make_handler(settings.webhook_secret, writer))
    app.router.add_get("/healthz", _healthz)
    return app


async def serve(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    on_start: Callable[[web.Application], None] | None = None,
    **kwargs: Any,
) -> None:
    """Run until SIGTERM/SIGINT (or `stop`): stop accepting, let the worker finish its work."""
    app = create_app(settings, **kwargs)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
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
