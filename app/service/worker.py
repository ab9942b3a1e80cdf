"""The worker (SPEC 2): runs stored deliveries at least once, one at a time per issue or PR and
concurrently across them; retries with backoff, then dead letters."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable

from app.service.logs import delivery_id_var
from app.service.metrics import Metrics
from app.service.queue import Delivery, DeliveryStore, Now, RetryLater

log = logging.getLogger(__name__)

Handler = Callable[[Delivery], Awaitable[None]]


class Worker:
    """Runs pending deliveries: one at a time per key, up to `concurrency` keys at once."""

    def __init__(
        self,
        store: DeliveryStore,
        handler: Handler,
        *,
        concurrency: int = 8,
        max_attempts: int = 6,
        retry_base: float = 2.0,
        now: Now = time.time,
        metrics: Metrics | None = None,
    ) -> None:
        """`now`: the clock retry times are read and written with (the store's, in tests a
        fake one that the test moves, then `notify()`)."""
        self._store = store
        self._now = now
        self._metrics = metrics
        self._handler = handler
        self._concurrency = concurrency
        self._max_attempts = max_attempts
        self._retry_base = retry_base
        self._wake = asyncio.Event()
        self._busy: dict[str, asyncio.Task[None]] = {}
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._idle = asyncio.Event()
        self._finished: list[Delivery] = []

    def notify(self) -> None:
        """New work may be ready: wakes the loop only when it has a free slot for it."""
        if len(self._busy) < self._concurrency:
            self._wake.set()

    def start(self) -> None:
        self._loop_task = asyncio.create_task(self._run(), name="baton-worker")

    async def stop(self, grace: float = 10.0) -> None:
        """Stop taking work; let running handlers finish within `grace`, else cancel them.

        A cancelled delivery stays pending in the store and runs again after restart.
        """
        self._stopping = True
        self._wake.set()
        if self._loop_task:
            await self._loop_task
        running = list(self._busy.values())
        if running:
            _, pending = await asyncio.wait(running, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        self._flush_finished()

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """For tests and the demo: until nothing is running and nothing is ready to run."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._busy and not self._store.ready(self._now(), (), 1):
                return
            self._idle.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), 0.05)
        raise TimeoutError("the delivery queue did not drain")

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                timeout = self._start_ready()
            except Exception:
                # A database error must not end the worker silently while intake goes on.
                log.exception("the worker could not read the queue; trying again in 1 s")
                timeout = 1.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    def _start_ready(self) -> float:
        """Start what is ready; return how long to sleep unless woken. A finishing handler
        and a new key's first delivery wake the loop; the timeout is for retries coming due."""
        now = self._now()
        free = self._concurrency - len(self._busy)
        if free > 0:
            for delivery in self._store.ready(now, self._busy, free):
                task = asyncio.create_task(self._work(delivery), name=f"delivery-{delivery.id}")
                self._busy[delivery.key] = task
        due = self._store.next_due(now, self._busy)
        if not self._busy and due is None:
            self._idle.set()
        if due is None or due <= now:  # nothing waits, or it waits for a slot: a finish wakes
            return 5.0
        return max(0.01, min(5.0, due - now))

    async def _work(self, delivery: Delivery) -> None:
        token = delivery_id_var.set(delivery.id)
        handled = False
        metrics = self._metrics
        started = time.perf_counter()
        try:
            await self._handler(delivery)
            handled = True
        except asyncio.CancelledError:
            raise
        except RetryLater as later:
            self._store.retry(delivery.seq, delivery.attempts, later.at, str(later))
            if metrics:
                metrics.retried.inc()
            log.warning("%s; again at %s", later, time.strftime("%H:%M:%S", time.gmtime(later.at)))
        except Exception as exc:
            attempts = delivery.attempts + 1
            error = f"{type(exc).__name__}: {exc}"
            if attempts >= self._max_attempts:
                self._store.bury(delivery.seq, attempts, error)
                if metrics:
                    metrics.dead.inc()
                log.error("dead letter after %d tries: %s", attempts, error, exc_info=exc)
            else:
                delay = random.uniform(0.5, 1.0) * self._retry_base * 2 ** (attempts - 1)
                self._store.retry(delivery.seq, attempts, self._now() + delay, error)
                if metrics:
                    metrics.retried.inc()
                log.warning("try %d failed (%s); again in %.2fs", attempts, error, delay)
        finally:
            delivery_id_var.reset(token)
            if metrics:
                metrics.handler_seconds.observe(time.perf_counter() - started)
            if handled:
                self._finish_later(delivery)
            else:
                self._release([delivery.key])

    def _finish_later(self, delivery: Delivery) -> None:
        """Deliveries finished in one turn of the loop share one commit; each keeps its key
        busy until then, so it cannot be picked up again."""
        self._finished.append(delivery)
        if len(self._finished) == 1:
            asyncio.get_running_loop().call_soon(self._flush_finished)

    def _flush_finished(self) -> None:
        batch, self._finished = self._finished, []
        if batch:
            self._store.finish([d.seq for d in batch])
            if self._metrics:
                self._metrics.handled.inc(len(batch))
            self._release([d.key for d in batch])

    def _release(self, keys: list[str]) -> None:
        for key in keys:
            self._busy.pop(key, None)
        self._idle.set()
        self._wake.set()
