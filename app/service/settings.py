"""Process settings (SPEC 1): read once from the environment and `.env`, validated, frozen.

The names and forms are Probot's, so a Probot app's `.env` works as it is: its log level names,
`LOG_FORMAT=pretty`, a base64 `PRIVATE_KEY`, `GHE_HOST`/`GHE_PROTOCOL`. Every problem is one
line naming the variable; a secret's value is never part of a message.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from dotenv import dotenv_values

# Probot's level names (pino's) and Python's own, any case, to the logging module's names.
LOG_LEVELS = {
    "trace": "DEBUG",
    "debug": "DEBUG",
    "info": "INFO",
    "warn": "WARNING",
    "warning": "WARNING",
    "error": "ERROR",
    "fatal": "CRITICAL",
    "critical": "CRITICAL",
}
LOG_FORMATS = {"text": "text", "pretty": "text", "json": "json"}
SQLITE_MAGIC = b"SQLite format 3\x00"
_HOST = re.compile(r"^[A-Za-z0-9.-]+(:\d{1,5})?$")
_SHOWN = 60  # characters of a bad (non-secret) value repeated in its message


class SettingsError(Exception):
    """Raised with one line per problem; the CLI prints them and exits 2."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Settings:
    app_id: str
    private_key: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    webhook_path: str = "/api/github/webhooks"
    host: str = "0.0.0.0"
    port: int = 3000
    github_api_url: str = "https://api.github.com"
    db_path: str = "baton.db"
    reconcile_interval: float = 900.0
    log_level: str = "INFO"
    log_format: str = "text"
    # Not part of the external contract: knobs the tests and the demo turn.
    retry_base: float = 2.0
    max_attempts: int = 6
    workers: int = 8


def _show(value: str) -> str:
    """A non-secret value as it may appear in a message: quoted, on one line, bounded."""
    shown = repr(value[:_SHOWN])
    return shown + ("…" if len(value) > _SHOWN else "")


def _show_url(url: str) -> str:
    """A URL without its user part (which may hold a token) and without its query."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(not a URL)"
    host = parts.hostname or ""
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return _show(f"{parts.scheme}://{host}{port}{parts.path}" if parts.scheme else parts.path)


def read_env(environ: Mapping[str, str], dotenv: Path | None) -> tuple[dict[str, str], list[str]]:
    """`.env` read with the usual dotenv rules (quotes, multi-line values, `#` comments), the
    environment winning over the file as in Probot. No `${VAR}` expansion: Probot does none,
    and a secret may contain `$`."""
    values: dict[str, str] = {}
    problems: list[str] = []
    if dotenv is not None and dotenv.exists():
        try:
            parsed = dotenv_values(dotenv, interpolate=False, encoding="utf-8")
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or "not UTF-8"
            problems.append(f"{dotenv}: cannot read: {reason}")
        else:
            values = {k: v for k, v in parsed.items() if v is not None}
    values.update(environ)
    return values, problems


def decode_private_key(raw: str) -> str:
    """PEM text (`\\n` escapes allowed) or the base64 of it, as Probot's get-private-key."""
    text = raw.strip()
    if text and "-----BEGIN" not in text:
        try:
            decoded = base64.b64decode("".join(text.split()), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            decoded = ""
        if "-----BEGIN" in decoded:
            text = decoded.strip()
    return text.replace("\\n", "\n").strip()


def _is_private_key(text: str) -> bool:
    """Parsed now, so a bad key stops `serve` at start and not at the first JWT."""
    try:
        serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def db_problem(path: str) -> str | None:
    """Why SQLite could not use `path` (None if it can), checked before anything listens.

    WAL mode writes `-wal` and `-shm` files beside the database, so its folder must take new
    files even when the database itself already exists; a probe file is the one test that
    holds for root, read-only mounts and pseudo file systems alike."""
    target = Path(path)
    folder = target.parent
    if target.is_dir():
        return f"{path} is a folder, not a file"
    if not folder.exists():
        return f"folder {folder} does not exist"
    if not folder.is_dir():
        return f"{folder} is not a folder"
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".baton-probe-"):
            pass
    except OSError as exc:
        return f"cannot create files in {folder}: {exc.strerror}"
    if target.exists():
        try:
            with target.open("r+b") as handle:
                head = handle.read(len(SQLITE_MAGIC))
        except OSError as exc:
            return f"cannot write {path}: {exc.strerror}"
        if head and head != SQLITE_MAGIC:
            return f"{path} is not a SQLite database"
    return None


def _number(env: Mapping[str, str], name: str, default: float, problems: list[str]) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        problems.append(f"{name}: {_show(raw)} is not a number")
        return default
    if not 0 <= value < float("inf"):
        problems.append(f"{name}: must be a number of seconds >= 0")
        return default
    return value


def _api_url(env: Mapping[str, str], problems: list[str]) -> str:
    """GITHUB_API_URL, or Probot's GHE_HOST (+ GHE_PROTOCOL) for GitHub Enterprise Server."""
    explicit = env.get("GITHUB_API_URL", "").strip().rstrip("/")
    ghe_host = env.get("GHE_HOST", "").strip().rstrip("/")
    protocol = env.get("GHE_PROTOCOL", "").strip().lower() or "https"
    url = explicit or "https://api.github.com"
    if ghe_host:
        if protocol not in ("http", "https"):
            problems.append(f"GHE_PROTOCOL: {_show(protocol)} is not http or https")
        elif not _HOST.match(ghe_host):
            problems.append("GHE_HOST: a host name (and port) only, such as github.example.com")
        else:
            from_host = f"{protocol}://{ghe_host}/api/v3"
            if explicit and explicit != from_host:
                problems.append(
                    f"GHE_HOST: says {_show_url(from_host)} but GITHUB_API_URL says "
                    f"{_show_url(explicit)}; set one of them"
                )
            url = from_host
    if explicit:
        parts = urlsplit(explicit) if "\n" not in explicit else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            problems.append(f"GITHUB_API_URL: {_show_url(explicit)} is not an http(s) URL")
    return url


def load_settings(
    environ: Mapping[str, str] | None = None,
    dotenv: Path | None = Path(".env"),
    *,
    require_app: bool = True,
) -> Settings:
    """Merge `.env` under the real environment and validate. Raises SettingsError."""
    env, problems = read_env(os.environ if environ is None else environ, dotenv)

    app_id = env.get("APP_ID", "").strip()
    if require_app and not app_id:
        problems.append("APP_ID: required (the GitHub App's id)")
    elif app_id and not app_id.isdigit():
        problems.append(f"APP_ID: {_show(app_id)} is not a number")

    key = decode_private_key(env.get("PRIVATE_KEY", ""))
    key_path = env.get("PRIVATE_KEY_PATH", "").strip()
    if not key and key_path:
        try:
            key = Path(key_path).read_text(encoding="utf-8").strip()
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or "not a text file"
            problems.append(f"PRIVATE_KEY_PATH: cannot read {key_path}: {reason}")
    if require_app and not key and not key_path:
        problems.append("PRIVATE_KEY or PRIVATE_KEY_PATH: required (the App's PEM key)")
    elif key and not _is_private_key(key):
        source = "PRIVATE_KEY" if env.get("PRIVATE_KEY", "").strip() else "PRIVATE_KEY_PATH"
        problems.append(f"{source}: not a PEM private key")

    secret = env.get("WEBHOOK_SECRET", "")
    if not secret:
        problems.append("WEBHOOK_SECRET: required (deliveries are never accepted unsigned)")

    path = env.get("WEBHOOK_PATH", "/api/github/webhooks").strip() or "/api/github/webhooks"
    if not path.startswith("/"):
        problems.append(f"WEBHOOK_PATH: {_show(path)} must start with /")

    port_raw = env.get("PORT", "3000").strip() or "3000"
    port = 3000
    if not port_raw.isdigit() or not 0 <= int(port_raw) <= 65535:
        problems.append(f"PORT: {_show(port_raw)} is not a port number")
    else:
        port = int(port_raw)

    api_url = _api_url(env, problems)
    interval = _number(env, "RECONCILE_INTERVAL", 900.0, problems)

    level_raw = env.get("LOG_LEVEL", "").strip() or "info"
    level = LOG_LEVELS.get(level_raw.lower(), "INFO")
    if level_raw.lower() not in LOG_LEVELS:
        problems.append(
            f"LOG_LEVEL: {_show(level_raw)} is not one of trace, debug, info, warn, error, fatal"
        )
    fmt_raw = env.get("LOG_FORMAT", "").strip() or "text"
    fmt = LOG_FORMATS.get(fmt_raw.lower(), "text")
    if fmt_raw.lower() not in LOG_FORMATS:
        problems.append(f"LOG_FORMAT: {_show(fmt_raw)} is not text, json or pretty")

    db_path = env.get("BATON_DB", "").strip() or "baton.db"
    if why := db_problem(db_path):
        problems.append(f"BATON_DB: {why}")

    if problems:
        # One line each, whatever a path or value held.
        raise SettingsError([p.replace("\r", "\\r").replace("\n", "\\n") for p in problems])
    return Settings(
        app_id=app_id,
        private_key=key,
        webhook_secret=secret,
        webhook_path=path,
        host=env.get("HOST", "").strip() or "0.0.0.0",
        port=port,
        github_api_url=api_url,
        db_path=db_path,
        reconcile_interval=interval,
        log_level=level,
        log_format=fmt,
    )
