"""Webhook intake (SPEC 2): verify, validate, store durably, then answer."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

from app.service.queue import GroupCommit

log = logging.getLogger(__name__)

MAX_BODY = 25 * 1024 * 1024

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


def signature_ok(secret: bytes, body: bytes, header: str | None) -> bool:
    """`X-Hub-Signature-256: sha256=<hex>` over the raw body, compared in constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = b"sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest().encode()
    # Bytes, not str: compare_digest refuses non-ASCII text, and headers can carry any.
    return hmac.compare_digest(expected, header.encode("utf-8", "surrogateescape"))


def ordering_key(event: str, payload: dict[str, Any]) -> str:
    """Deliveries about the same issue or PR share a key and run one at a time, in order."""
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
            return f"{repo}@{obj.get('head_sha', '')}"
    return f"{repo}:{event}"


def _answer(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"message": message, **extra}, status=status)


def make_handler(secret: str, store: GroupCommit) -> Callable[[web.Request], Any]:
    key = secret.encode()

    async def receive(request: web.Request) -> web.Response:
        if (request.content_length or 0) > MAX_BODY:
            return _answer(413, "payload too large")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _answer(413, "payload too large")
        if not signature_ok(key, body, request.headers.get("X-Hub-Signature-256")):
            return _answer(401, "missing or invalid X-Hub-Signature-256")
        event = request.headers.get("X-GitHub-Event", "")
        delivery_id = request.headers.get("X-GitHub-Delivery", "")
        if not event or not delivery_id or len(delivery_id) > 200:
            return _answer(400, "missing X-GitHub-Event or X-GitHub-Delivery")
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _answer(400, "body is not JSON")
        if not isinstance(payload, dict):
            return _answer(400, "body is not a JSON object")
        if event == "ping":
            return _answer(200, "pong")
        if event not in HANDLED_EVENTS:
            return _answer(200, f"event {event!r} is not handled")
        if not await store.put(delivery_id, event, ordering_key(event, payload), body):
            return _answer(200, "duplicate delivery, already accepted", delivery=delivery_id)
        log.debug("accepted %s delivery %s", event, delivery_id)
        return _answer(202, "accepted", delivery=delivery_id)

    return receive
