"""GitHub client (SPEC 3): App JWT, cached installation tokens, retries and rate-limit waits."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

import aiohttp
import cachetools
import jwt
from gidgethub import BadRequest, HTTPException
from gidgethub import aiohttp as gh_aiohttp

from app.service.queue import RetryLater

log = logging.getLogger(__name__)

USER_AGENT = "baton-app"
TOKEN_RENEW_MARGIN = 300.0  # renew installation tokens five minutes before they expire
MAX_INLINE_WAIT = 60.0

Sleep = Callable[[float], Awaitable[None]]


def app_jwt(app_id: str, private_key: str, now: float | None = None) -> str:
    """RS256 App JWT, `iat` 60 s in the past for clock drift, 9 minutes of life in all."""
    issued = int(now if now is not None else time.time()) - 60
    return jwt.encode({"iat": issued, "exp": issued + 540, "iss": app_id}, private_key, "RS256")


def backoff(attempt: int, base: float) -> float:
    """Exponential backoff with full jitter, capped at 60 s."""
    return random.uniform(0, min(60.0, base * 2 ** (attempt - 1)))


def rate_limit_wait(
    status: int, headers: Mapping[str, str], now: float, message: str = ""
) -> float | None:
    """Seconds to wait before retrying a 403/429, or None when it is not a rate limit."""
    if status not in (403, 429):
        return None
    retry_after = headers.get("retry-after")
    if retry_after is not None:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            return 60.0
    if headers.get("x-ratelimit-remaining") == "0" and "x-ratelimit-reset" in headers:
        try:
            return max(0.0, float(headers["x-ratelimit-reset"]) - now)
        except ValueError:
            return 60.0
    # A secondary rate limit without Retry-After: GitHub asks for at least a minute.
    return 60.0 if status == 429 or "rate limit" in message.lower() else None


class GitHubAPI(gh_aiohttp.GitHubAPI):
    """gidgethub over the shared session, retrying 5xx, connection errors and rate limits."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        oauth_token: str | None = None,
        jwt_token: str | None = None,
        base_url: str,
        retry_base: float = 1.0,
        max_attempts: int = 5,
        sleep: Sleep = asyncio.sleep,
        on_request: Callable[[str, str], None] | None = None,
        on_response: Callable[[Mapping[str, str]], None] | None = None,
        renew_token: Callable[[], Awaitable[str]] | None = None,
    ) -> None:
        super().__init__(session, USER_AGENT, oauth_token=oauth_token, base_url=base_url)
        self._renew_token = renew_token
        self._jwt = jwt_token
        self._retry_base = retry_base
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._on_request = on_request
        self._on_response = on_response

    async def sleep(self, seconds: float) -> None:
        await self._sleep(seconds)

    async def _request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, Mapping[str, str], bytes]:
        if self._jwt is not None:
            headers = {**headers, "authorization": f"bearer {self._jwt}"}
        attempt = 0
        while True:
            attempt += 1
            if self._on_request:
                self._on_request(method, url)
            try:
                status, resp_headers, data = await super()._request(method, url, headers, body)
                if self._on_response:
                    self._on_response(resp_headers)
            except (TimeoutError, aiohttp.ClientConnectionError) as exc:
                if attempt >= self._max_attempts or not _may_repeat(method, exc):
                    raise
                delay = backoff(attempt, self._retry_base)
                log.warning("%s %s failed (%s), retry in %.2fs", method, url, exc, delay)
                await self.sleep(delay)
                continue
            if status == 401 and self._renew_token is not None and attempt == 1:
                # The token was revoked or expired early: renew it once and try again.
                self.oauth_token = await self._renew_token()
                headers = {**headers, "authorization": f"token {self.oauth_token}"}
                continue
            if status >= 500 and attempt < self._max_attempts and _may_repeat(method, None):
                delay = backoff(attempt, self._retry_base)
                log.warning("%s %s answered %d, retry in %.2fs", method, url, status, delay)
                await self.sleep(delay)
                continue
            return status, resp_headers, data

    async def handle_rate_limit_error(
        self, *, method: str, url: str, exception: HTTPException, attempt: int
    ) -> bool:
        headers = getattr(exception, "headers", None) or {}
        wait = rate_limit_wait(exception.status_code, headers, time.time(), str(exception))
        if wait is None or attempt >= self._max_attempts:
            return False
        if wait > MAX_INLINE_WAIT:  # don't hold a worker slot: the queue runs it again later
            raise RetryLater(time.time() + wait, f"rate limited until reset ({wait:.0f}s)")
        log.warning("%s %s rate limited, waiting %.1fs", method, url, wait)
        await self.sleep(wait)
        return True


class GitHubClient:
    """One per process: the App's identity, its installation tokens, one HTTP session."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        app_id: str,
        private_key: str,
        base_url: str,
        retry_base: float = 1.0,
        max_attempts: int = 5,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._session = session
        self._app_id = app_id
        self._private_key = private_key
        self._base_url = base_url
        self._retry_base = retry_base
        self._max_attempts = max_attempts
        self._sleep = sleep
        # token -> expiry is per item, so a TLRU cache: each token lives until its renewal time.
        self._tokens: cachetools.TLRUCache[int, tuple[str, float]] = cachetools.TLRUCache(
            maxsize=4096, ttu=lambda _k, v, _now: v[1], timer=time.time
        )
        self._token_locks: dict[int, asyncio.Lock] = {}
        self._slug: str | None = None
        self._app_jwt: tuple[str, float] | None = None  # (token, reuse until)
        self.requests = 0
        self.rate_limit_remaining: int | None = None  # for /metrics

    def _count(self, _method: str, _url: str) -> None:
        self.requests += 1

    def _note_limit(self, headers: Mapping[str, str]) -> None:
        remaining = headers.get("x-ratelimit-remaining")
        if remaining is not None and remaining.isdigit():
            self.rate_limit_remaining = int(remaining)

    def _api(self, **auth: Any) -> GitHubAPI:
        return GitHubAPI(
            self._session,
            base_url=self._base_url,
            retry_base=self._retry_base,
            max_attempts=self._max_attempts,
            sleep=self._sleep,
            on_request=self._count,
            on_response=self._note_limit,
            **auth,
        )

    def app_api(self) -> GitHubAPI:
        # Signing parses the PEM key, with OpenSSL's checks: milliseconds of CPU on the event
        # loop per call. One JWT serves seven of its nine minutes.
        now = time.time()
        if self._app_jwt is None or now >= self._app_jwt[1]:
            self._app_jwt = (app_jwt(self._app_id, self._private_key, now), now + 420)
        return self._api(jwt_token=self._app_jwt[0])

    async def bot_login(self) -> str:
        """`<slug>[bot]`: the login GitHub shows for the App's own actions."""
        if self._slug is None:
            info = await self.app_api().getitem("/app")
            self._slug = str(info["slug"])
        return f"{self._slug}[bot]"

    async def installation_token(self, installation_id: int) -> str:
        cached = self._tokens.get(installation_id)
        if cached is not None:
            return cached[0]
        lock = self._token_locks.setdefault(installation_id, asyncio.Lock())
        async with lock:  # concurrent deliveries share one token request
            cached = self._tokens.get(installation_id)
            if cached is not None:
                return cached[0]
            data = await self.app_api().post(
                "/app/installations/{installation_id}/access_tokens",
                {"installation_id": installation_id},
                data=b"",
            )
            expires = _parse_time(data["expires_at"])
            self._tokens[installation_id] = (data["token"], expires - TOKEN_RENEW_MARGIN)
            return str(data["token"])

    async def installation_api(self, installation_id: int) -> GitHubAPI:
        async def renew() -> str:
            self.forget_installation(installation_id)
            return await self.installation_token(installation_id)

        return self._api(
            oauth_token=await self.installation_token(installation_id), renew_token=renew
        )

    def forget_installation(self, installation_id: int) -> None:
        self._tokens.pop(installation_id, None)


def _may_repeat(method: str, error: Exception | None) -> bool:
    """A POST that may have reached GitHub is not sent twice (a second comment, a second check
    run): the delivery's retry recomputes what is missing instead. Only a connection that was
    never made is safe to repeat."""
    return method != "POST" or isinstance(error, aiohttp.ClientConnectorError)


def _parse_time(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def is_not_found(exc: Exception) -> bool:
    return isinstance(exc, BadRequest) and exc.status_code == 404


async def get_all(gh: GitHubAPI, url: str, url_vars: Mapping[str, Any] | None = None) -> list[Any]:
    """Every item of a paginated list (gidgethub follows the Link header)."""
    return [item async for item in gh.getiter(url, url_vars or {})]
