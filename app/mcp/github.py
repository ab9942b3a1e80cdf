"""GitHub as the agent sees it, with the agent's own token: one aiohttp session, and every GET
conditional (ETags kept per URL), so a repeated read of unchanged data is a free 304."""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import aiohttp
import cachetools
from gidgethub import BadRequest, GitHubException, RateLimitExceeded
from gidgethub.aiohttp import GitHubAPI

from app.config import CONFIG_PATH, MAX_CONFIG_BYTES, RepoConfig, parse_config

Json = dict[str, Any]
USER_AGENT = "baton-mcp"
MAX_PAGES = 5  # of 100 items per listing
CONFIG_TTL = 300.0  # seconds a read `.github/baton.yml` is used without asking again
MAX_BLOBS = 4_000


class GitHubError(RuntimeError):
    """A failed request, with what the agent should do about it."""


class AgentGitHub:
    def __init__(
        self, session: aiohttp.ClientSession, token: str, api_url: str, repo: str
    ) -> None:
        self.repo = repo
        self.api_url = api_url.rstrip("/")
        # gidgethub's cache: url -> (etag, last-modified, data, next page); it sends
        # If-None-Match and answers a 304 from the copy.
        self.etags: cachetools.LRUCache[str, Any] = cachetools.LRUCache(maxsize=2_000)
        self.gh = GitHubAPI(
            session, USER_AGENT, oauth_token=token, cache=self.etags, base_url=self.api_url
        )
        self.blobs: cachetools.LRUCache[str, bytes] = cachetools.LRUCache(maxsize=MAX_BLOBS)
        self._login: str | None = None
        self._config: tuple[float, RepoConfig] | None = None

    # --- errors -----------------------------------------------------------------------
    def _explain(self, exc: GitHubException, doing: str) -> GitHubError:
        status = getattr(exc, "status_code", 0)
        status = int(getattr(status, "value", status) or 0)
        if isinstance(exc, RateLimitExceeded):
            reset = exc.rate_limit.reset_datetime.isoformat() if exc.rate_limit else "later"
            return GitHubError(f"GitHub's rate limit is used up; try again after {reset}.")
        if status == 401:
            return GitHubError(
                "GitHub refused GITHUB_TOKEN (401 Bad credentials): set GITHUB_TOKEN to a valid "
                f"token of the agent's account, with Issues read/write on {self.repo}."
            )
        if status in (403, 429) and "rate limit" in str(exc).lower():
            return GitHubError(f"GitHub's secondary rate limit was hit ({exc}); wait a minute.")
        if status == 403:
            return GitHubError(
                f"No permission to {doing} on {self.repo} (403): the token needs Issues "
                "read/write (and Contents, Checks, Pull requests read); ask a maintainer for "
                "access."
            )
        if status == 404:
            return GitHubError(
                f"Not found while trying to {doing}: check the number or ref, and that "
                f"{self.repo} exists and the token can read it (BATON_REPO, GITHUB_API_URL)."
            )
        return GitHubError(f"GitHub answered {status or 'an error'} while trying to {doing}: {exc}")

    def _unreachable(self, exc: Exception) -> GitHubError:
        return GitHubError(f"Cannot reach {self.api_url} ({exc}); check GITHUB_API_URL.")

    async def get(self, url: str, doing: str, url_vars: Mapping[str, Any] | None = None) -> Any:
        try:
            return await self.gh.getitem(url, url_vars or {})
        except GitHubException as exc:
            raise self._explain(exc, doing) from None
        except aiohttp.ClientError as exc:
            raise self._unreachable(exc) from None

    async def get_all(
        self, url: str, doing: str, url_vars: Mapping[str, Any] | None = None
    ) -> tuple[list[Json], bool]:
        """A listing's items, at most MAX_PAGES pages, and whether there were more."""
        items: list[Json] = []
        try:
            async for item in self.gh.getiter(url, url_vars or {}):
                if len(items) >= MAX_PAGES * 100:
                    return items, True
                items.append(item)
        except GitHubException as exc:
            raise self._explain(exc, doing) from None
        except aiohttp.ClientError as exc:
            raise self._unreachable(exc) from None
        return items, False

    # --- who and where ----------------------------------------------------------------
    async def login(self) -> str:
        """The agent's login; asked once per session (a token's account does not change)."""
        if self._login is None:
            user = await self.get("/user", "read the token's account")
            self._login = str(user["login"])
        return self._login

    async def config(self) -> RepoConfig:
        """`.github/baton.yml` of the default branch, kept a few minutes as the App does."""
        now = time.monotonic()
        if self._config and now - self._config[0] < CONFIG_TTL:
            return self._config[1]
        text = await self.file(CONFIG_PATH, None)
        config = parse_config(text)
        self._config = (now, config)
        return config

    async def file(self, path: str, ref: str | None) -> bytes | None:
        """A file's bytes at `ref` (default branch when None), None when it is not there."""
        url = f"/repos/{self.repo}/contents/{path}" + ("{?ref}" if ref else "")
        try:
            data = await self.gh.getitem(url, {"ref": ref} if ref else {})
        except BadRequest as exc:
            if int(getattr(exc.status_code, "value", exc.status_code)) == 404:
                return None
            raise self._explain(exc, f"read {path}") from None
        if not isinstance(data, dict) or data.get("type") != "file":
            return None
        raw = base64.b64decode(str(data.get("content") or ""))
        return raw[:MAX_CONFIG_BYTES + 1] if path == CONFIG_PATH else raw

    # --- issues and comments ----------------------------------------------------------
    async def issue(self, number: int) -> Json:
        data: Json = await self.get(
            f"/repos/{self.repo}/issues/{{number}}", f"read issue #{number}", {"number": number}
        )
        return data

    async def comments(self, number: int, since: str | None = None) -> list[Json]:
        url = f"/repos/{self.repo}/issues/{{number}}/comments{{?since,per_page}}"
        query: dict[str, Any] = {"number": number, "per_page": 100}
        if since:
            query["since"] = since
        items, _ = await self.get_all(url, f"read the comments of #{number}", query)
        return items

    async def find_comment(
        self, number: int, wanted: Callable[[Json], bool], limit: int = 500
    ) -> Json | None:
        """The first comment `wanted` picks, page by page: no page after the one it is on."""
        url = f"/repos/{self.repo}/issues/{{number}}/comments{{?per_page}}"
        try:
            async for seen, c in _enumerate(self.gh.getiter(url, {"number": number,
                                                                 "per_page": 100})):
                if wanted(c):
                    return c
                if seen >= limit:
                    break
        except GitHubException as exc:
            raise self._explain(exc, f"read the comments of #{number}") from None
        return None

    async def comment(self, number: int, body: str) -> Json:
        try:
            data: Json = await self.gh.post(
                f"/repos/{self.repo}/issues/{{number}}/comments", {"number": number},
                data={"body": body},
            )  # fmt: skip
        except GitHubException as exc:
            raise self._explain(exc, f"comment on #{number}") from None
        return data

    async def reactions(self, comment_id: int) -> list[Json]:
        """The reactions on an issue comment, each with who reacted (the rollup on the comment
        only counts them)."""
        data: list[Json] = await self.get(
            f"/repos/{self.repo}/issues/comments/{{id}}/reactions{{?per_page}}",
            "read the reactions on your comment", {"id": comment_id, "per_page": 100},
        )  # fmt: skip
        return data

    async def blob(self, sha: str) -> bytes:
        """A git blob: immutable, so kept by SHA and never asked for twice."""
        if (cached := self.blobs.get(sha)) is not None:
            return cached
        data = await self.get(f"/repos/{self.repo}/git/blobs/{{sha}}", "read a file", {"sha": sha})
        content = str(data.get("content") or "")
        raw = base64.b64decode(content) if data.get("encoding") == "base64" else content.encode()
        self.blobs[sha] = raw
        return raw


async def _enumerate(items: AsyncIterator[Json]) -> AsyncIterator[tuple[int, Json]]:
    n = 0
    async for item in items:
        n += 1
        yield n, item
