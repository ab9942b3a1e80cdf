"""Webhook intake (SPEC 2): verify, validate, store durably, then answer.

The body is read in chunks into a budget shared by every request, so the bytes held before a
signature could be checked are bounded whatever the traffic; a body that trickles is cut off.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from app.service.metrics import Metrics
from app.service.queue import GroupCommit

log = logging.getLogger(__name__)

MAX_BODY = 25 * 1024 * 1024
# Bodies held in memory at once, across requests: GitHub's deliveries are mostly under 100 KB,
# so this is thousands of real ones in flight but only five of the largest allowed.
MAX_HELD = 128 * 1024 * 1024
# GitHub gives up on a delivery after 10 s: a body still arriving then is not from GitHub.
BODY_TIMEOUT = 10.0
RETRY_AFTER = "5"

# Events some feature handles; anything else is acknowledged and dropped.
HANDLED_EVENTS = frozenset(
    {
        "issues",
        "issue_comment",
        "pull_request",
        "pull_request_review",
        "check_run",
        "check_suite",
        "push",
        "status",
    }
)

_SIGNATURE = re.compile(r"sha256=[0-9a-fA-F]{64}")


def signature_ok(secret: bytes, body: bytes, header: str | None) -> bool:
    """`X-Hub-Signature-256: sha256=<hex>` over the raw body, compared in constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = b"sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest().encode()
    # Bytes, not str: compare_digest refuses non-ASCII text, and headers can carry any.
    return hmac.compare_digest(expected, header.encode("utf-8", "surrogateescape"))


# -- the shapes intake and the dispatcher read (SPEC 2: a payload of the wrong shape is a 400)


_KINDS: dict[str, Callable[[object], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "list": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "string or null": lambda v: v is None or isinstance(v, str),
}


def _field(
    parent: Mapping[str, Any], name: str, path: str, kind: str, required: bool
) -> str | None:
    if name not in parent:
        return f"{path}{name} is missing" if required else None
    value = parent[name]
    if (value is None and not required) or _KINDS[kind](value):
        return None
    return f"{path}{name} is not {'an' if kind[0] in 'aeiou' else 'a'} {kind}"


# top-level object -> its fields: (name, kind, required)
_OBJECTS: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "repository": (("full_name", "string", True), ("default_branch", "string", False)),
    "installation": (("id", "integer", True),),
    "sender": (("login", "string", False),),
    "organization": (),
    "issue": (("number", "integer", True),),
    "pull_request": (("number", "integer", True),),
    "comment": (("body", "string or null", False),),
    "review": (),
    "label": (),
    "check_run": (("head_sha", "string", False), ("pull_requests", "list", False)),
    "check_suite": (("head_sha", "string", False), ("pull_requests", "list", False)),
}
_SCALARS = ("action", "ref", "sha")


def payload_problem(payload: dict[str, Any]) -> str | None:
    """What is wrong with the shape of the fields Baton reads, or None. Only the fields
    present are looked at, so a 10 KB payload costs a few dictionary lookups."""
    for name in _SCALARS:
        if name in payload and (problem := _field(payload, name, "", "string", False)):
            return problem
    for name in _OBJECTS.keys() & payload.keys():
        obj = payload[name]
        if obj is None:
            continue
        if not isinstance(obj, dict):
            return f"{name} is not an object"
        for field, kind, required in _OBJECTS[name]:
            if problem := _field(obj, field, f"{name}.", kind, required):
                return problem
        for i, pr in enumerate(obj.get("pull_requests") or ()):
            where = f"{name}.pull_requests[{i}]"
            if not isinstance(pr, dict):
                return f"{where} is not an object"
            if problem := _field(pr, "number", where + ".", "integer", True):
                return problem
    return None


def ordering_key(event: str, payload: dict[str, Any]) -> str:
    """Deliveries about the same issue or PR share a key and run one at a time, in order.
    `payload` has passed `payload_problem`."""
    repo = (payload.get("repository") or {}).get("full_name") or "-"
    for field in ("issue", "pull_request"):
        obj = payload.get(field)
        if isinstance(obj, dict) and "number" in obj:
            return f"{repo}#{obj['number']}"
    for field in ("check_run", "check_suite"):
        obj = payload.get(field)
        if isinstance(obj, dict):
            prs = obj.get("pull_requests") or []
            if prs and isinstance(prs[0], dict) and "number" in prs[0]:
                return f"{repo}#{prs[0]['number']}"
            return f"{repo}@{obj.get('head_sha') or ''}"
    if event == "status" and payload.get("sha"):  # with the check suite of the same commit
        return f"{repo}@{payload['sha']}"
    return f"{repo}:{event}"


# -- reading the body


class BodyBudget:
    """Bytes of request bodies held at once, across every request of the process."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0

    def take(self, n: int) -> bool:
        if self.held + n > self.limit:
            return False
        self.held += n
        return True

    def give(self, n: int) -> None:
        self.held -= n


class _Refused(Exception):
    def __init__(self, response: web.Response, *, hang_up: bool = False) -> None:
        self.response = response
        self.hang_up = hang_up


@dataclass
class _Body:
    data: bytes
    signature_ok: bool


def _answer(status: int, message: str, **extra: Any) -> web.Response:
    return web.Response(
        body=orjson.dumps({"message": message, **extra}),
        status=status,
        content_type="application/json",
    )


async def _read(
    request: web.Request, mac: Any, header: str, budget: BodyBudget, timeout: float
) -> _Body:
    """Read the body within the budget and the time bound, hashing it as it comes. `mac` is an
    HMAC primed with the secret, copied here (cheaper than keying a new one per request)."""
    declared = request.content_length
    reserved = declared if declared is not None else 0
    if not budget.take(reserved):
        raise _Refused(_busy())
    content = request.content
    try:
        if content.is_eof():  # the whole body came with the headers: one chunk, no waiting
            data = content.read_nowait()
            size = len(data)
            if size > MAX_BODY:
                raise _Refused(_answer(413, "payload too large"))
            if size > reserved:
                if not budget.take(size - reserved):
                    raise _Refused(_busy())
                reserved = size
            mac = mac.copy()
            mac.update(data)
            ok = hmac.compare_digest(b"sha256=" + mac.hexdigest().encode(), header.lower().encode())
            return _Body(data if ok else b"", ok)
        return await _read_chunks(request, mac, header, budget, timeout, reserved)
    finally:
        budget.give(reserved)


async def _read_chunks(
    request: web.Request,
    mac: Any,
    header: str,
    budget: BodyBudget,
    timeout: float,
    reserved: int,
) -> _Body:
    """The body still arriving: chunk by chunk, within the time bound. What it reserves beyond
    `reserved` it gives back itself."""
    chunks: list[bytes] = []
    size = 0
    extra = 0
    mac = mac.copy()

    def feed(chunk: bytes) -> None:
        nonlocal size, extra
        size += len(chunk)
        if size > MAX_BODY:
            raise _Refused(_answer(413, "payload too large"))
        if size > reserved + extra:  # chunked, or longer than declared: reserve as it comes
            if not budget.take(size - reserved - extra):
                raise _Refused(_busy())
            extra = size - reserved
        mac.update(chunk)
        chunks.append(chunk)

    content = request.content
    try:
        async with asyncio.timeout(timeout):
            while chunk := await content.readany():
                feed(chunk)
        expected = b"sha256=" + mac.hexdigest().encode()
        ok = hmac.compare_digest(expected, header.lower().encode())
        return _Body(b"".join(chunks) if ok else b"", ok)
    except TimeoutError:
        log.warning("body from %s not received within %gs; cut off", request.remote, timeout)
        raise _Refused(_answer(408, "request body too slow"), hang_up=True) from None
    finally:
        budget.give(extra)


def _busy() -> web.Response:
    response = _answer(503, "too many request bodies in flight, retry later")
    response.headers["Retry-After"] = RETRY_AFTER
    return response


def make_handler(
    secret: str,
    store: GroupCommit,
    *,
    metrics: Metrics | None = None,
    budget: BodyBudget | None = None,
    body_timeout: float = BODY_TIMEOUT,
) -> Callable[[web.Request], Any]:
    mac = hmac.new(secret.encode(), digestmod=hashlib.sha256)  # keyed once, copied per request
    budget = budget or BodyBudget(MAX_HELD)
    accepted: dict[str, Any] = {}  # the counter of each event, looked up once

    async def receive(request: web.Request) -> web.Response:
        if (request.content_length or 0) > MAX_BODY:
            return _answer(413, "payload too large")
        header = request.headers.get("X-Hub-Signature-256", "")
        if not _SIGNATURE.fullmatch(header):  # cannot match: no need to read the body
            return _answer(401, "missing or invalid X-Hub-Signature-256")
        try:
            body = await _read(request, mac, header, budget, body_timeout)
        except _Refused as refused:
            if refused.hang_up:
                # Not from GitHub: answer, then close rather than linger reading the rest.
                refused.response.force_close()
                await refused.response.prepare(request)
                await refused.response.write_eof()
                request.protocol.force_close()
            return refused.response
        if not body.signature_ok:
            return _answer(401, "missing or invalid X-Hub-Signature-256")
        event = request.headers.get("X-GitHub-Event", "")
        delivery_id = request.headers.get("X-GitHub-Delivery", "")
        if not event or not delivery_id or len(delivery_id) > 200:
            return _answer(400, "missing X-GitHub-Event or X-GitHub-Delivery")
        try:
            payload = orjson.loads(body.data)
        except orjson.JSONDecodeError:
            return _answer(400, "body is not JSON")
        if not isinstance(payload, dict):
            return _answer(400, "body is not a JSON object")
        if event == "ping":
            return _answer(200, "pong")
        if event not in HANDLED_EVENTS:
            return _answer(200, f"event {event!r} is not handled")
        if problem := payload_problem(payload):
            log.warning("%s delivery %s refused: %s", event, delivery_id[:80], problem)
            return _answer(400, f"unexpected payload: {problem}")
        if not await store.put(delivery_id, event, ordering_key(event, payload), body.data):
            return _answer(200, "duplicate delivery, already accepted", delivery=delivery_id)
        if metrics:
            if event not in accepted:
                accepted[event] = metrics.accepted.labels(event)
            accepted[event].inc()
        log.debug("accepted %s delivery %s", event, delivery_id)
        return _answer(202, "accepted", delivery=delivery_id)

    return receive
