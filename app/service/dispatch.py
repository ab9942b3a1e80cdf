"""From a stored delivery to the feature handlers: one context, isolated handlers, no self-loops."""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import cachetools
import orjson
from gidgethub import BadRequest, routing, sansio

from app.config import CONFIG_PATH, RepoConfig, parse_config
from app.service.github import Clock, GitHubAPI, GitHubClient, is_not_found, utcnow
from app.service.queue import Delivery

__all__ = ["Clock", "Context", "Dispatcher", "Features", "utcnow"]

log = logging.getLogger(__name__)

CONFIG_TTL = 300.0
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    """One request in flight per key, its answer shared by every concurrent caller: what a
    burst of deliveries needs at once is asked for once."""

    def __init__(self) -> None:
        self._running: dict[K, asyncio.Future[V]] = {}

    async def run(self, key: K, make: Callable[[], Awaitable[V]]) -> V:
        running = self._running.get(key)
        if running is None:
            running = asyncio.ensure_future(make())
            self._running[key] = running
            running.add_done_callback(lambda _: self._running.pop(key, None))
        # Shielded: a cancelled caller does not cancel the others' request.
        return await asyncio.shield(running)


class ConfigStore:
    """`.github/baton.yml` per repository, cached; a push to the default branch refreshes it."""

    def __init__(self) -> None:
        # Freshness of a copy, not product time: on the monotonic clock.
        self._cache: cachetools.TTLCache[str, RepoConfig] = cachetools.TTLCache(
            maxsize=1024, ttl=CONFIG_TTL, timer=time.monotonic
        )
        self._reads: SingleFlight[str, RepoConfig] = SingleFlight()

    def forget(self, repo: str) -> None:
        self._cache.pop(repo, None)

    async def get(self, gh: GitHubAPI, repo: str) -> RepoConfig:
        cached = self._cache.get(repo)
        if cached is not None:
            return cached
        return await self._reads.run(repo, lambda: self._read(gh, repo))

    async def _read(self, gh: GitHubAPI, repo: str) -> RepoConfig:
        try:
            data = await gh.getitem(f"/repos/{repo}/contents/{CONFIG_PATH}")
            text: bytes | None = base64.b64decode(data.get("content") or "")
        except Exception as exc:
            if not is_not_found(exc):
                raise
            text = None
        config = parse_config(text)
        for problem in config.problems:
            log.warning("%s: %s", repo, problem)
        self._cache[repo] = config
        return config


class LabelStore:
    """The labels known to exist, per repository: a missing one is created once, however many
    deliveries need it at once (a burst would otherwise create it once each, all but one
    answered 422)."""

    def __init__(self) -> None:
        self._known: cachetools.LRUCache[tuple[str, str], bool] = cachetools.LRUCache(65_536)
        self._creating: SingleFlight[tuple[str, str], None] = SingleFlight()

    async def ensure(self, gh: GitHubAPI, repo: str, name: str, color: str, about: str) -> None:
        key = (repo.lower(), name.lower())
        if key not in self._known:
            await self._creating.run(key, lambda: self._create(gh, key, repo, name, color, about))

    async def _create(
        self, gh: GitHubAPI, key: tuple[str, str], repo: str, name: str, color: str, about: str
    ) -> None:
        try:
            await gh.post(
                f"/repos/{repo}/labels", data={"name": name, "color": color, "description": about}
            )
        except BadRequest as exc:
            if exc.status_code != 422:  # 422: someone else created it
                raise
        self._known[key] = True


@dataclass
class Context:
    """What a handler gets besides the event: an installation client and the shared parts."""

    gh: GitHubAPI
    installation_id: int
    repo: str  # owner/name, "" for events without a repository
    bot_login: str
    app_id: int  # the App's id: our own check runs are those whose `app.id` it is
    clock: Clock
    configs: ConfigStore
    # Bounded, in memory, bytes by key: blob contents and trees by SHA, status comments,
    # known labels. Lost on restart by design: GitHub is the database.
    cache: cachetools.LRUCache[str, bytes]
    labels: LabelStore
    # What runs once every feature has handled the delivery (see `after_delivery`); None for
    # a context without such an end.
    finish: dict[Hashable, Callable[[], Awaitable[None]]] | None = field(default=None)

    def after_delivery(self, key: Hashable, step: Callable[[], Awaitable[None]]) -> bool:
        """Run `step` once every feature has handled this delivery (or sweep), even if one
        failed; a later step under the same key replaces an earlier one, keeping its place.
        False, and nothing kept, for a context without an end: the caller acts now."""
        if self.finish is None:
            return False
        self.finish[key] = step
        return True

    async def finished(self) -> None:
        """Run the steps kept by `after_delivery`, each even if another fails."""
        failed: Exception | None = None
        while self.finish:
            key = next(iter(self.finish))
            step = self.finish.pop(key)
            try:
                await step()
            except Exception as exc:
                log.exception("after the delivery: %r failed", key)
                failed = failed or exc
        if failed is not None:
            raise failed

    async def config(self) -> RepoConfig:
        return await self.configs.get(self.gh, self.repo)

    async def label_exists(self, name: str, color: str, description: str) -> None:
        """Create the label in this repository unless it is known to exist."""
        await self.labels.ensure(self.gh, self.repo, name, color, description)


Sweep = Callable[[Context], Awaitable[None]]


@dataclass
class Features:
    """What the feature modules contribute: their routers and their reconciliation sweeps."""

    routers: Sequence[routing.Router]
    sweeps: Sequence[Sweep] = ()


class Dispatcher:
    def __init__(self, client: GitHubClient, features: Features, clock: Clock = utcnow) -> None:
        self.client = client
        # In feature order: tickets update the status comment before checks read it.
        self.routers = list(features.routers)
        self.sweeps = list(features.sweeps)
        self.clock = clock
        self.configs = ConfigStore()
        self.labels = LabelStore()
        self.cache: cachetools.LRUCache[str, bytes] = cachetools.LRUCache(
            maxsize=64 * 1024 * 1024, getsizeof=len
        )

    async def context(self, installation_id: int, repo: str, *, memo: bool = False) -> Context:
        """`memo`: a context for one delivery (or one sweep), whose client reads each fact once;
        without, every read goes to GitHub (a context kept across deliveries)."""
        return Context(
            gh=await self.client.installation_api(installation_id, memo=memo),
            installation_id=installation_id,
            repo=repo,
            bot_login=await self.client.bot_login(),
            app_id=self.client.app_id,
            clock=self.clock,
            configs=self.configs,
            cache=self.cache,
            labels=self.labels,
            finish={} if memo else None,
        )

    async def handle(self, delivery: Delivery) -> None:
        payload = orjson.loads(delivery.body)
        if delivery.event == "baton_sweep":
            await self.sweep_repo(int(payload["installation_id"]), payload["repo"])
            return
        event = sansio.Event(payload, event=delivery.event, delivery_id=delivery.id)
        repo = (payload.get("repository") or {}).get("full_name", "")
        default = (payload.get("repository") or {}).get("default_branch", "main")
        if delivery.event == "push" and payload.get("ref") == f"refs/heads/{default}":
            self.configs.forget(repo)
        handlers = [h for router in self.routers for h in router.fetch(event)]
        installation = (payload.get("installation") or {}).get("id")
        if not handlers or installation is None:
            return
        sender = (payload.get("sender") or {}).get("login", "")
        if sender == await self.client.bot_login():
            log.debug("skipping %s caused by the app itself", delivery.event)
            return
        try:
            ctx = await self.context(int(installation), repo, memo=True)
        except Exception as exc:
            if not is_not_found(exc):
                raise
            # The installation is gone (uninstalled, or never ours): nothing to retry.
            log.warning("installation %s not found; %s dropped", installation, delivery.event)
            return
        failures = []
        try:
            # Each handler runs even if another fails; the delivery is retried if any failed.
            for handler in handlers:
                try:
                    await handler(event, ctx)
                except Exception as exc:
                    if is_not_found(exc):
                        # The repository, issue or PR is gone (or was never visible to us):
                        # a retry cannot succeed, and the next event or sweep starts afresh.
                        name = handler.__qualname__
                        log.warning("handler %s: %s not found; skipped", name, exc)
                        continue
                    log.exception("handler %s failed", handler.__qualname__)
                    failures.append(exc)
        finally:
            try:  # what the features left for the end (e.g. one write several computed)
                await ctx.finished()
            except Exception as exc:
                if not is_not_found(exc):  # gone meanwhile: as for a handler
                    failures.append(exc)
        if failures:
            raise failures[0]

    async def sweep_repo(self, installation_id: int, repo: str) -> None:
        ctx = await self.context(installation_id, repo, memo=True)
        try:
            for sweep in self.sweeps:
                await sweep(ctx)
        finally:
            await ctx.finished()

    async def repositories(self) -> list[tuple[int, str]]:
        """Every (installation, repository) the App can see: the sweep's work list."""
        found: list[tuple[int, str]] = []
        async for inst in self.client.app_api().getiter("/app/installations"):
            if inst.get("suspended_at"):
                continue
            try:  # one broken installation must not stop the others' sweeps
                gh = await self.client.installation_api(int(inst["id"]))
                async for repo in gh.getiter(
                    "/installation/repositories", iterable_key="repositories"
                ):
                    found.append((int(inst["id"]), repo["full_name"]))
            except Exception:
                log.exception("installation %s: repositories not listed", inst.get("id"))
        return found
