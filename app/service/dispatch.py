"""From a stored delivery to the feature handlers: one context, isolated handlers, no self-loops."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import cachetools
import orjson
from gidgethub import routing, sansio

from app.config import CONFIG_PATH, RepoConfig, parse_config
from app.service.github import GitHubAPI, GitHubClient, is_not_found
from app.service.queue import Delivery

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
CONFIG_TTL = 300.0


def utcnow() -> datetime:
    return datetime.now(UTC)


class ConfigStore:
    """`.github/baton.yml` per repository, cached; a push to the default branch refreshes it."""

    def __init__(self) -> None:
        self._cache: cachetools.TTLCache[str, RepoConfig] = cachetools.TTLCache(
            maxsize=1024, ttl=CONFIG_TTL, timer=time.monotonic
        )

    def forget(self, repo: str) -> None:
        self._cache.pop(repo, None)

    async def get(self, gh: GitHubAPI, repo: str) -> RepoConfig:
        cached = self._cache.get(repo)
        if cached is not None:
            return cached
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

    async def config(self) -> RepoConfig:
        return await self.configs.get(self.gh, self.repo)


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
        self.cache: cachetools.LRUCache[str, bytes] = cachetools.LRUCache(
            maxsize=64 * 1024 * 1024, getsizeof=len
        )

    async def context(self, installation_id: int, repo: str) -> Context:
        return Context(
            gh=await self.client.installation_api(installation_id),
            installation_id=installation_id,
            repo=repo,
            bot_login=await self.client.bot_login(),
            app_id=self.client.app_id,
            clock=self.clock,
            configs=self.configs,
            cache=self.cache,
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
            ctx = await self.context(int(installation), repo)
        except Exception as exc:
            if not is_not_found(exc):
                raise
            # The installation is gone (uninstalled, or never ours): nothing to retry.
            log.warning("installation %s not found; %s dropped", installation, delivery.event)
            return
        failures = []
        # Each handler runs even if another fails; the delivery is retried if any failed.
        for handler in handlers:
            try:
                await handler(event, ctx)
            except Exception as exc:
                if is_not_found(exc):
                    # The repository, issue or PR is gone (or was never visible to us):
                    # a retry cannot succeed, and the next event or sweep starts afresh.
                    log.warning("handler %s: %s not found; skipped", handler.__qualname__, exc)
                    continue
                log.exception("handler %s failed", handler.__qualname__)
                failures.append(exc)
        if failures:
            raise failures[0]

    async def sweep_repo(self, installation_id: int, repo: str) -> None:
        ctx = await self.context(installation_id, repo)
        for sweep in self.sweeps:
            await sweep(ctx)

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
