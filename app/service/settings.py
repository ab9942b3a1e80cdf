"""Process settings (SPEC 1): read once from the environment and `.env`, validated, frozen."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


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


def read_dotenv(path: Path) -> dict[str, str]:
    """Minimal `.env` reader: KEY=VALUE lines, optional quotes, `#` comments."""
    values: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return values
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _is_private_key(text: str) -> bool:
    """Parsed now, so a bad key stops `serve` at start and not at the first JWT."""
    try:
        serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def _number(env: Mapping[str, str], name: str, default: float, problems: list[str]) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        problems.append(f"{name}: {raw!r} is not a number")
        return default
    if value < 0:
        problems.append(f"{name}: must not be negative")
    return value


def load_settings(
    environ: Mapping[str, str] | None = None,
    dotenv: Path | None = Path(".env"),
    *,
    require_app: bool = True,
) -> Settings:
    """Merge `.env` under the real environment and validate. Raises SettingsError."""
    env: dict[str, str] = read_dotenv(dotenv) if dotenv else {}
    env.update(os.environ if environ is None else environ)
    problems: list[str] = []

    app_id = env.get("APP_ID", "").strip()
    if require_app and not app_id:
        problems.append("APP_ID: required (the GitHub App's id)")
    elif app_id and not app_id.isdigit():
        problems.append(f"APP_ID: {app_id!r} is not a number")

    key = env.get("PRIVATE_KEY", "").replace("\\n", "\n").strip()
    key_path = env.get("PRIVATE_KEY_PATH", "").strip()
    if not key and key_path:
        try:
            key = Path(key_path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            problems.append(f"PRIVATE_KEY_PATH: cannot read {key_path}: {exc.strerror}")
    if require_app and not key and not key_path:
        problems.append("PRIVATE_KEY or PRIVATE_KEY_PATH: required (the App's PEM key)")
    elif key and not _is_private_key(key):
        problems.append("PRIVATE_KEY: not a PEM private key")

    secret = env.get("WEBHOOK_SECRET", "")
    if not secret:
        problems.append("WEBHOOK_SECRET: required (deliveries are never accepted unsigned)")

    path = env.get("WEBHOOK_PATH", "/api/github/webhooks").strip() or "/api/github/webhooks"
    if not path.startswith("/"):
        problems.append(f"WEBHOOK_PATH: {path!r} must start with /")

    port_raw = env.get("PORT", "3000").strip() or "3000"
    port = 3000
    if not port_raw.isdigit() or not 0 <= int(port_raw) <= 65535:
        problems.append(f"PORT: {port_raw!r} is not a port number")
    else:
        port = int(port_raw)

    api_url = (env.get("GITHUB_API_URL", "").strip() or "https://api.github.com").rstrip("/")
    if not api_url.startswith(("http://", "https://")):
        problems.append(f"GITHUB_API_URL: {api_url!r} is not an http(s) URL")

    interval = _number(env, "RECONCILE_INTERVAL", 900.0, problems)

    level = (env.get("LOG_LEVEL", "INFO").strip() or "INFO").upper()
    if level not in LOG_LEVELS:
        problems.append(f"LOG_LEVEL: {level!r} is not one of {', '.join(LOG_LEVELS)}")
    fmt = (env.get("LOG_FORMAT", "text").strip() or "text").lower()
    if fmt not in ("text", "json"):
        problems.append(f"LOG_FORMAT: {fmt!r} is not text or json")

    if problems:
        raise SettingsError(problems)
    return Settings(
        app_id=app_id,
        private_key=key,
        webhook_secret=secret,
        webhook_path=path,
        host=env.get("HOST", "0.0.0.0").strip() or "0.0.0.0",
        port=port,
        github_api_url=api_url,
        db_path=env.get("BATON_DB", "baton.db").strip() or "baton.db",
        reconcile_interval=interval,
        log_level=level,
        log_format=fmt,
    )
