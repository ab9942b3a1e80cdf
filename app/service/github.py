"""GitHub client (SPEC 3): App JWT, cached installation tokens, retries and rate-limit waits."""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import aiohttp
import cachetools
import jwt
from gidgethub import BadRequest, HTTPException, sansio
from gidgethub import aiohttp as gh_aiohttp
from gidgethub.abc import JSON_CONTENT_TYPE

from app.service.queue import RetryLater

log = logging.getLogger(__name__)

USER_AGENT = "baton-app"
TOKEN_RENEW_MARGIN = 300.0  # renew installation tokens five minutes before they expire
MAX_INLINE_WAIT = 60.0

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], datetime]
DEFAULT_ACCEPT = sansio.accept_format()


def utcnow() -> datetime:
    return datetime.now(UTC)


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


# The facts one delivery may read more than once, by path (the query string aside): an issue,
# its events, the check runs of a commit, a login's permission, a PR, the open PRs.
FACT = re.compile(
    r"^/repos/[^/]+/[^/]+/(?:issues/\d+(?:/events)?|commits/[^/]+/check-runs"
    r"|collaborators/[^/]+/permission|pulls(?:/\d+)?)$"
)
# What a fact belongs to, so that a write to it is seen: an issue (and its events), a commit's
# check runs.
_ISSUE = re.compile(r"^/repos/([^/]+/[^/]+)/issues/(\d+)(/.*)?$")
_RUNS = re.compile(r"^/repos/([^/]+/[^/]+)/commits/([^/]+)/check-runs$")
_RUN_WRITE = re.compile(r"^/repos/([^/]+/[^/]+)/check-runs(?:/\d+)?$")
_LISTING = re.compile(r"^/repos/([^/]+/[^/]+)/issues$")


def _subject(path: str) -> str | None:
    if m := _ISSUE.match(path):
        return f"{m[1].lower()}#{m[2]}"
    if m := _RUNS.match(path):
        return f"{m[1].lower()}@{m[2]}"
    return None


class Generations:
    """Process-wide: a number per subject (an issue, a commit's check runs) that changes with
    every write the app makes to it. A delivery's memo holds a fact only while the number it
    read with is current: another delivery's write makes it read again. Bounded: a forgotten
    subject answers with a floor that rises on each eviction, so nothing stale survives one."""

    def __init__(self, maxsize: int = 65_536) -> None:
        self._numbers: OrderedDict[str, int] = OrderedDict()
        self._next = itertools.count(1)
        self._floor = 0
        self._latest = 0
        self._maxsize = maxsize

    @property
    def latest(self) -> int:
        """The number of the latest write: unchanged means no write since."""
        return self._latest

    def of(self, subject: str | None) -> int:
        return 0 if subject is None else self._numbers.get(subject, self._floor)

    def bump(self, subject: str) -> int:
        self._numbers[subject] = number = self._latest = next(self._next)
        self._numbers.move_to_end(subject)
        if len(self._numbers) > self._maxsize:
            self._numbers.popitem(last=False)
            self._floor = next(self._next)
        return number


Answer = tuple[Any, str | None, int]  # gidgethub's (data, next page, status)


class Memo:
    """One delivery's answers to the facts it reads (see FACT), shared by every feature handling
    it: one fetch per fact per delivery. Concurrent readers share one request. The app's own
    writes are seen: an issue written (PATCH, assignees) is kept as GitHub answered, its labels
    and comment count follow the label and comment writes, its events are read again after a
    write that may add (un)assignment or close events; a check run written joins its commit's
    list. Keys are paths with their query strings (a later page is its own key)."""

    def __init__(self, generations: Generations) -> None:
        self._generations = generations
        self._answers: dict[str, tuple[int, Answer]] = {}
        self._pending: dict[str, asyncio.Future[Answer]] = {}

    async def read(self, path: str, send: Callable[[], Awaitable[Answer]]) -> Answer:
        if not FACT.match(_bare(path)):
            before = self._generations.latest
            answer = await send()
            if self._generations.latest == before:  # no write meanwhile: the items are current
                self._seed(path, answer)
            return answer
        subject = _subject(_bare(path))
        number = self._generations.of(subject)
        kept = self._answers.get(path)
        if kept is not None and kept[0] == number:
            return kept[1]
        pending = self._pending.get(path)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._pending[path] = future
        try:
            answer = await send()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # marked retrieved: a lone reader raises it below
            raise
        finally:
            self._pending.pop(path, None)
        future.set_result(answer)
        if self._generations.of(subject) == number:  # no write meanwhile
            self._answers[path] = (number, answer)
        return answer

    def _seed(self, path: str, answer: Answer) -> None:
        """An issue listing holds each issue as GET would answer it."""
        m = _LISTING.match(_bare(path))
        if not m or not isinstance(answer[0], list):
            return
        for issue in answer[0]:
            if isinstance(issue, dict) and "number" in issue:
                item = f"/repos/{m[1]}/issues/{issue['number']}"
                number = self._generations.of(_subject(item))
                self._answers.setdefault(item, (number, (issue, None, 200)))

    def wrote(self, method: str, path: str, data: Any) -> None:
        """The app wrote `path` (`data`: GitHub's answer, None when the write failed)."""
        if m := _ISSUE.match(_bare(path)):
            self._wrote_issue(f"/repos/{m[1]}/issues/{m[2]}", m[3] or "", method, data)
        elif (m := _RUN_WRITE.match(_bare(path))) and isinstance(data, dict) and "head_sha" in data:
            self._wrote_run(m[1], data)

    def _of(self, subject: str) -> list[str]:
        return [k for k in self._answers if _subject(_bare(k)) == subject]

    def _wrote_issue(self, issue: str, rest: str, method: str, data: Any) -> None:
        subject = _subject(issue)
        assert subject is not None
        number = self._generations.bump(subject)
        kept = self._answers.get(issue)
        current = dict(kept[1][0]) if kept is not None else None
        if rest in ("", "/assignees") and isinstance(data, dict) and "number" in data:
            current = data  # GitHub answers with the whole issue
        elif rest.startswith("/labels") and isinstance(data, list) and current is not None:
            current["labels"] = data  # GitHub answers with the issue's labels
        elif rest == "/comments" and method == "POST" and isinstance(data, dict):
            if current is not None:
                current["comments"] = int(current.get("comments") or 0) + 1
        else:
            current = None
        # Labels and comments add no (un)assignment or close events: the events still hold.
        keep_events = data is not None and (rest.startswith("/labels") or rest == "/comments")
        for key in self._of(subject):
            if keep_events and key != issue:
                self._answers[key] = (number, self._answers[key][1])
            else:
                del self._answers[key]
        if current is not None:
            self._answers[issue] = (number, (current, None, 200))

    def _wrote_run(self, repo: str, run: dict[str, Any]) -> None:
        subject = f"{repo.lower()}@{run['head_sha']}"
        number = self._generations.bump(subject)
        for key in self._of(subject):
            data, more, status = self._answers[key][1]
            if re.search(r"[?&]page=", key) or not isinstance(data, dict):
                del self._answers[key]  # a later page: read again if needed
                continue
            listed = [r for r in data.get("check_runs", []) if r.get("id") != run["id"]]
            total = int(data.get("total_count", len(listed))) + (
                1 if len(listed) == len(data.get("check_runs", [])) else 0
            )
            data = {**data, "check_runs": [*listed, run], "total_count": total}
            self._answers[key] = (number, (data, more, status))


def _bare(path: str) -> str:
    return path.partition("?")[0]


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
        memo: Memo | None = None,
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
        self.memo = memo
        self._on_request = on_request  # for /metrics
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

    async def _make_request(
        self,
        method: str,
        url: str,
        url_vars: Mapping[str, Any] | None,
        data: Any,
        accept: str,
        jwt: str | None = None,
        oauth_token: str | None = None,
        content_type: str = JSON_CONTENT_TYPE,
        extra_headers: dict[str, str] | None = None,
    ) -> tuple[Any, str | None, int]:
        async def send() -> tuple[Any, str | None, int]:
            return await super(GitHubAPI, self)._make_request(
                method, url, url_vars, data, accept, jwt, oauth_token, content_type, extra_headers
            )

        if self.memo is None:
            return await send()
        path = sansio.format_url(url, url_vars or {}, base_url=self.base_url)
        path = path.removeprefix(self.base_url)
        if method == "GET" and data == b"" and accept == DEFAULT_ACCEPT:
            return await self.memo.read(path, send)
        try:
            answer = await send()
        except BaseException:
            self.memo.wrote(method, path, None)
            raise
        self.memo.wrote(method, path, answer[0])
        return answer

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
        clock: Clock = utcnow,
    ) -> None:
        self._session = session
        self._app_id = app_id
        self._private_key = private_key
        self._base_url = base_url
        self._retry_base = retry_base
        self._max_attempts = max_attempts
        self._sleep = sleep
        # token -> expiry is per item, so a TLRU cache: each token lives until its renewal time,
        # on the injected clock (GitHub's `expires_at` is on the same clock as the app's).
        self._tokens: cachetools.TLRUCache[int, tuple[str, float]] = cachetools.TLRUCache(
            maxsize=4096, ttu=lambda _k, v, _now: v[1], timer=lambda: clock().timestamp()
        )
        self._token_locks: dict[int, asyncio.Lock] = {}
        self._slug: str | None = None
        self._slug_lock = asyncio.Lock()
        self.generations = Generations()
        self._app_jwt: tuple[str, float] | None = None  # (token, reuse until)
        self.requests = 0  # for /metrics
        self.rate_limit_remaining: int | None = None

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

    @property
    def app_id(self) -> int:
        return int(self._app_id)  # settings require digits

    def app_api(self) -> GitHubAPI:
        # Signing parses the PEM key, with OpenSSL's checks: milliseconds of CPU on the event
        # loop per call. One JWT serves seven of its nine minutes.
        now = time.time()
        if self._app_jwt is None or now >= self._app_jwt[1]:
            self._app_jwt = (app_jwt(self._app_id, self._private_key, now), now + 420)
        return self._api(jwt_token=self._app_jwt[0])

    async def bot_login(self) -> str:
        """`<slug>[bot]`: the login GitHub shows for the App's own actions."""
        if self._slug is not None:
            return f"{self._slug}[bot]"
        async with self._slug_lock:  # a burst of deliveries asks once
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

    async def installation_api(self, installation_id: int, *, memo: bool = False) -> GitHubAPI:
        """`memo`: a client for one delivery, reading each fact once (see `Memo`)."""

        async def renew() -> str:
            self.forget_installation(installation_id)
            return await self.installation_token(installation_id)

        return self._api(
            oauth_token=await self.installation_token(installation_id),
            renew_token=renew,
            memo=Memo(self.generations) if memo else None,
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

