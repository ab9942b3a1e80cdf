"""Logging set-up: every record of a delivery carries its delivery id; text or JSON lines."""

from __future__ import annotations

import contextvars
import json
import logging
import sys

from aiohttp.http_exceptions import HttpProcessingError

delivery_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("delivery_id", default="-")


class _DeliveryFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.delivery = delivery_id_var.get()
        return True


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "delivery": getattr(record, "delivery", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def setup_logging(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_DeliveryFilter())
    if fmt == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(delivery)s] %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


class MalformedRequests(logging.Filter):
    """On aiohttp's server logger: a malformed request (bad headers, bad framing) is the
    client's fault, so it becomes one WARNING line without a traceback, and a flood of them at
    most one line a second with the count left out."""

    def __init__(self, interval: float = 1.0) -> None:
        super().__init__()
        self._interval = interval
        self._last = float("-inf")
        self._skipped = 0

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, HttpProcessingError):
            return True
        if record.created - self._last < self._interval:
            self._skipped += 1
            return False
        self._last = record.created
        remote = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
        message = " ".join(str(getattr(exc, "message", "") or exc).split())[:200]
        more = f" ({self._skipped} more not logged)" if self._skipped else ""
        self._skipped = 0
        record.msg, record.args = "malformed request from %s: %s%s", (remote, message, more)
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info = record.exc_text = None
        return True
