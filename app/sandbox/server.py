"""The sandbox server: GitHub's REST API over loopback, signed deliveries, injected faults."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.sandbox import shapes
from app.sandbox.actions import Actions, Invalid, NotFound
from app.sandbox.people import Person
from app.sandbox.render import Render
from app.sandbox.rest import INSTALLATION, USER, Rest, error
from app.sandbox.state import Repo, User, World

log = logging.getLogger(__name__)

APP_ID = 4242
APP_SLUG = "baton"
RATE_LIMIT = 5000
GHES_PREFIX = "/api/v3"



@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int = 502
    times: int = 1
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int
    auth: str  # app | installation | user | none
    login: str = ""  # whose token, for `user`


@dataclass
class Delivery:
    id: str
    event: str
    payload: dict[str, Any]
    status: int | None = None


def _key_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def _conditional(request: web.Request, response: web.Response) -> web.Response:
    """GitHub's ETags: a GET answered 200 carries one; sent back in `If-None-Match` while the
    answer is unchanged, it gets an empty 304."""
    if response.status != 200 or not isinstance(response.body, bytes):
        return response
    etag = f'"{hashlib.sha1(response.body).hexdigest()}"'
    response.headers["ETag"] = etag
    sent = request.headers.get("If-None-Match", "")
    wanted = {t.strip().removeprefix("W/") for t in sent.split(",")}
    if etag in wanted:
        return web.Response(status=304, headers={"ETag": etag})
    return response


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class SandboxServer:
    def __init__(self, webhook_secret: str = "sandbox-secret") -> None:
        self.world = World()
        self.webhook_secret = webhook_secret
        self.private_key, self._public_key = _key_pair()
        self.app_id = APP_ID
        self.bot = self.world.user(f"{APP_SLUG}[bot]", "Bot")
        self.requests: list[Request] = []
        self.rate_used = 0
        self.deliveries: list[Delivery] = []
        self.faults: list[Fault] = []
        self.webhook_url: str | None = None
        self._outbox: asyncio.Queue[Delivery] = asyncio.Queue()
        self._held: list[Delivery] | None = None
        self._runner: web.AppRunner | None = None
        self._sender: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""
        self.render: Render
        self.actions = Actions(self.world, self._emit)

    # --- lifecycle ----------------------------------------------------------------------
    async def start(self, port: int = 0) -> str:
        app = web.Application(middlewares=[self._middleware])
        owner = self.world.user("baton-dev", "Organization")
        self.render = Render("", APP_ID, APP_SLUG, owner)
        rest = Rest(self.world, self.actions, self.render, self.bot)
        for method, path, handler in rest.routes():
            app.router.add_route(method, path, handler)
            # GitHub Enterprise Server serves the same API under /api/v3.
            app.router.add_route(method, GHES_PREFIX + path, handler)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        sock = site._server.sockets[0]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.render.base_url = self.url
        self._session = aiohttp.ClientSession()
        self._sender = asyncio.create_task(self._send_loop())
        return self.url

    async def stop(self) -> None:
        if self._sender:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
        if self._session:
            await self._session.close()
        if self._runner:
            await self._runner.cleanup()

    # --- set-up helpers for tests and the demo -----------------------------------------
    def add_repo(
        self, full_name: str, files: dict[str, bytes] | None = None, installation_id: int = 1
    ) -> Repo:
        return self.world.add_repo(full_name, installation_id, files or {})

    def person(self, login: str, type: str = "User", **permissions: str) -> Person:
        """A user; `permissions` maps repository names (owner__repo) to a permission."""
        person = Person(self, login, type)
        for key, perm in permissions.items():
            self.world.repos[key.replace("__", "/")].permissions[login] = perm
        return person

    def grant(self, repo: str, login: str, permission: str) -> None:
        self.world.repos[repo].permissions[login] = permission

    def token_for(self, login: str) -> str:
        """A personal access token of `login` (created if new): requests with it act as them."""
        self.world.user(login, "Bot" if login.endswith("[bot]") else "User")
        token = next((t for t, who in self.world.user_tokens.items() if who == login), None)
        if token is None:
            token = "ghp_" + uuid.uuid4().hex
            self.world.user_tokens[token] = login
        return token

    # --- deliveries ---------------------------------------------------------------------
    def _emit(self, event: str, action: str, repo: Repo, sender: User, objects: dict) -> None:
        rendered: dict[str, Any] = {}
        for key, value in objects.items():
            if key == "issue":
                rendered[key] = self.render.issue(repo, value)
            elif key == "pull_request":
                rendered[key] = self.render.pull(repo, value)
            elif key == "comment":
                rendered[key] = self.render.comment(repo, value)
            elif key == "label":
                rendered[key] = self.render.label(repo, value)
            elif key == "assignee":
                rendered[key] = self.render.user(value)
            elif key == "review":
                rendered[key] = self.render.review(repo, value)
            elif key == "check_run":
                rendered[key] = self.render.check_run(repo, value)
            elif key == "status":  # a `status` delivery's fields are at the top level
                rendered.update(self.render.status_event(repo, value))
            elif key == "push":
                branch, before, after, message = value
                clock = self.world.clock.iso()
                rendered.update(self.render.push(repo, sender, branch, before, after, message,
                                                 clock))  # fmt: skip
            else:
                rendered[key] = value
        payload = shapes.webhook(
            event,
            action,
            repository=self.render.repository(repo),
            sender=self.render.user(sender),
            installation_id=repo.installation_id,
            **rendered,
        )
        delivery = Delivery(str(uuid.uuid4()), event, payload)
        self.deliveries.append(delivery)
        if self._held is not None:
            self._held.append(delivery)
        else:
            self._outbox.put_nowait(delivery)

    @contextlib.contextmanager
    def hold(self):  # type: ignore[no-untyped-def]
        """Collect deliveries instead of sending them; `release` sends them in any order."""
        self._held = []
        try:
            yield self._held
        finally:
            self._held = None

    def release(self, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            self._outbox.put_nowait(delivery)

    async def post_delivery(self, delivery: Delivery) -> int:
        assert self._session and self.webhook_url
        body = json.dumps(delivery.payload).encode()
        headers = {
            "Content-Type": "application/json",
            "X-GitHub-Event": delivery.event,
            "X-GitHub-Delivery": delivery.id,
            "X-GitHub-Hook-ID": "1",
            "X-Hub-Signature-256": sign(self.webhook_secret, body),
            "User-Agent": "GitHub-Hookshot/sandbox",
        }
        async with self._session.post(self.webhook_url, data=body, headers=headers) as resp:
            delivery.status = resp.status
            return resp.status

    async def _send_loop(self) -> None:
        while True:
            delivery = await self._outbox.get()
            try:
                if self.webhook_url:
                    await self.post_delivery(delivery)
            except Exception:
                log.exception("delivery %s could not be posted", delivery.id)
            finally:
                self._outbox.task_done()

    async def flush(self) -> None:
        """Until every queued delivery has been posted."""
        await self._outbox.join()

    @property
    def outbox_empty(self) -> bool:
        return self._outbox.empty() and self._outbox._unfinished_tasks == 0  # type: ignore[attr-defined]

    # --- faults -------------------------------------------------------------------------
    def inject(
        self,
        method: str,
        path: str,
        status: int = 502,
        *,
        times: int = 1,
        delay: float = 0.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.faults.append(
            Fault(method.upper(), re.compile(path), status, times, delay, headers or {})
        )

    def _fault(self, request: web.Request) -> Fault | None:
        for fault in self.faults:
            if (
                fault.times > 0
                and fault.method in (request.method, "*")
                and fault.path.search(request.path)
            ):
                fault.times -= 1
                return fault
        return None

    # --- the middleware: faults, auth, errors, rate-limit headers, the request log ------
    def _auth(self, request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        scheme, _, credential = header.partition(" ")
        if request.path.removeprefix(GHES_PREFIX).startswith("/app"):
            if scheme.lower() != "bearer":
                return None
            try:
                claims = jwt.decode(
                    credential,
                    self._public_key,
                    algorithms=["RS256"],
                    options={"require": ["iat", "exp", "iss"]},
                )
            except jwt.PyJWTError:
                return None
            if str(claims["iss"]) != str(APP_ID) or claims["exp"] - claims["iat"] > 600:
                return None
            return "app"
        if scheme.lower() in ("token", "bearer") and credential in self.world.user_tokens:
            request[USER] = self.world.user_tokens[credential]
            return "user"
        if scheme.lower() not in ("token", "bearer") or credential not in self.world.tokens:
            return None
        installation_id, expiry = self.world.tokens[credential]
        if expiry <= self.world.clock.now():
            return None
        request[INSTALLATION] = installation_id
        return "installation"

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body: Any = None
        if request.body_exists:
            raw = await request.read()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
        auth = self._auth(request)
        record = Request(
            request.method, request.path, dict(request.query), body, 0, auth or "none",
            request.get(USER, ""),
        )  # fmt: skip
        self.requests.append(record)
        fault = self._fault(request)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status >= 400:
                record.status = fault.status
                message = (
                    "You have exceeded a secondary rate limit."
                    if fault.status in (403, 429)
                    else "Server Error"
                )
                resp = error(fault.status, message)
                resp.headers.update(fault.headers)
                return resp
        if auth is None:
            response: web.StreamResponse = error(401, "Bad credentials")
        else:
            try:
                response = await handler(request)
            except NotFound:
                response = error(404, "Not Found")
            except Invalid as exc:
                response = error(
                    422,
                    "Validation Failed",
                    errors=[{"resource": "Request", "code": "invalid", "message": str(exc)}],
                )
            except web.HTTPException as exc:
                response = error(exc.status, exc.reason)
        if request.method == "GET" and isinstance(response, web.Response):
            response = _conditional(request, response)
        record.status = response.status
        if response.status != 304:  # as on GitHub, a 304 costs no rate limit
            self.rate_used += 1
        used = self.rate_used
        response.headers.update(
            {
                "X-RateLimit-Limit": str(RATE_LIMIT),
                "X-RateLimit-Remaining": str(max(0, RATE_LIMIT - used)),
                "X-RateLimit-Reset": str(int(time.time()) + 3600),
                "X-RateLimit-Used": str(used),
                "X-RateLimit-Resource": "core",
                "X-GitHub-Media-Type": "github.v3; format=json",
            }
        )
        return response
