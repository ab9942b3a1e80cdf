"""Settings (SPEC 1): a Probot app's `.env` works as it is; a bad setting is exit 2, one line.

The end-to-end tests run the real `python -m app serve` in a folder holding a Probot-style
`.env`, against the sandbox over loopback (under `/api/v3` when `GHE_HOST` says so).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.cli import main
from app.sandbox import APP_ID, SandboxServer
from app.service.settings import LOG_LEVELS, SettingsError, load_settings
from tests.conftest import ALL_REQUESTS, REPO, free_port

SECRET = "s3cret-webhook-value"
URL_TOKEN = "ghp_urltoken123"
NAMES = (
    "APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_PATH", "WEBHOOK_SECRET", "WEBHOOK_PATH", "HOST", "PORT",
    "GITHUB_API_URL", "GHE_HOST", "GHE_PROTOCOL", "BATON_DB", "RECONCILE_INTERVAL", "LOG_LEVEL",
    "LOG_FORMAT",
)  # fmt: skip


def _pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


PEM = _pem()
PEM_LINE = PEM.splitlines()[1]  # a line of key material: it must never be printed


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A working folder with no settings in the environment; `.env` is written per test."""
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- reading: the pure side ---------------------------------------------------------------


def test_a_probot_env_file_reads_as_probot_reads_it(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# written by Probot's setup\n"
        "APP_ID=12345\n"
        f"PRIVATE_KEY={_b64(PEM)}\n"
        f"WEBHOOK_SECRET={SECRET}\n"
        "LOG_LEVEL=warn\n"
        "LOG_FORMAT=pretty\n"
        "GHE_HOST=ghe.example.com   # our Enterprise Server\n"
        "PORT=3000 # dev\n"
        f"BATON_DB={tmp_path / 'q.db'}\n"
    )
    settings = load_settings({}, env_file)
    assert settings.app_id == "12345"
    assert settings.private_key == PEM.strip()
    assert (settings.log_level, settings.log_format) == ("WARNING", "text")
    assert settings.github_api_url == "https://ghe.example.com/api/v3"
    assert settings.port == 3000


def test_quoted_multi_line_pem_inline_comments_and_the_environment_winning(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "APP_ID=7\n"
        f'PRIVATE_KEY="{PEM}"\n'
        f"WEBHOOK_SECRET='{SECRET}'  # single quotes: literal\n"
        "GITHUB_API_URL=https://api.github.com   # comment\n"
        "LOG_LEVEL=trace\n"
        "PORT=3000 # dev\n"
        f"BATON_DB={tmp_path / 'q.db'}\n"
    )
    settings = load_settings({"PORT": "8080", "LOG_LEVEL": "FATAL"}, env_file)
    assert settings.private_key == PEM.strip()
    assert settings.webhook_secret == SECRET
    assert settings.github_api_url == "https://api.github.com"
    assert (settings.port, settings.log_level) == (8080, "CRITICAL")  # the environment wins


def test_escaped_pem_and_no_variable_expansion(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    escaped = PEM.strip().replace("\n", "\\n")
    env_file.write_text(
        f"APP_ID=7\nPRIVATE_KEY={escaped}\nWEBHOOK_SECRET=a${{APP_ID}}b\n"
        f"BATON_DB={tmp_path / 'q.db'}\n"
    )
    settings = load_settings({}, env_file)
    assert settings.private_key == PEM.strip()
    assert settings.webhook_secret == "a${APP_ID}b"  # as Probot's dotenv leaves it


@pytest.mark.parametrize(
    ("given", "level"),
    [("trace", "DEBUG"), ("DEBUG", "DEBUG"), ("Info", "INFO"), ("warn", "WARNING"),
     ("WARNING", "WARNING"), ("error", "ERROR"), ("fatal", "CRITICAL"), ("", "INFO")],
)  # fmt: skip
def test_log_levels_in_probots_names_and_pythons(tmp_path: Path, given: str, level: str) -> None:
    env = _good(tmp_path) | {"LOG_LEVEL": given}
    assert load_settings(env, None).log_level == level
    assert set(LOG_LEVELS.values()) <= {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}


def test_ghe_protocol_and_an_agreeing_github_api_url(tmp_path: Path) -> None:
    env = _good(tmp_path) | {"GHE_HOST": "ghe.local:8443", "GHE_PROTOCOL": "HTTP"}
    assert load_settings(env, None).github_api_url == "http://ghe.local:8443/api/v3"
    same = env | {"GITHUB_API_URL": "http://ghe.local:8443/api/v3/"}
    assert load_settings(same, None).github_api_url == "http://ghe.local:8443/api/v3"


def test_an_existing_queue_database_is_accepted(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    sqlite3.connect(db).execute("CREATE TABLE t (x)").connection.close()
    assert load_settings(_good(tmp_path) | {"BATON_DB": str(db)}, None).db_path == str(db)
    assert not list(tmp_path.glob(".baton-probe-*"))  # the folder's probe leaves nothing


def _good(tmp_path: Path) -> dict[str, str]:
    return {
        "APP_ID": "7",
        "PRIVATE_KEY": PEM,
        "WEBHOOK_SECRET": SECRET,
        "BATON_DB": str(tmp_path / "q.db"),
    }


# --- bad settings: exit 2, one line each, nothing secret ----------------------------------


def _not_writable(tmp_path: Path) -> str:
    if os.geteuid() == 0:
        return "/sys/baton.db"  # root may write anywhere a mode allows, but not into sysfs
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o555)
    return str(folder / "baton.db")


BAD = [
    ("APP_ID", {"APP_ID": None}, "required"),
    ("APP_ID", {"APP_ID": "my-app"}, "is not a number"),
    ("PRIVATE_KEY", {"PRIVATE_KEY": "-----BEGIN RSA PRIVATE KEY-----\\nc2VjcmV0\\n-----END"},
     "not a PEM private key"),
    ("PRIVATE_KEY", {"PRIVATE_KEY": _b64("hunter2 is not a key")}, "not a PEM private key"),
    ("PRIVATE_KEY or PRIVATE_KEY_PATH", {"PRIVATE_KEY": None}, "required"),
    ("PRIVATE_KEY_PATH", {"PRIVATE_KEY": None, "PRIVATE_KEY_PATH": "missing.pem"},
     "cannot read missing.pem"),
    ("WEBHOOK_SECRET", {"WEBHOOK_SECRET": None}, "required"),
    ("WEBHOOK_PATH", {"WEBHOOK_PATH": "hooks"}, "must start with /"),
    ("PORT", {"PORT": "99999"}, "is not a port number"),
    ("PORT", {"PORT": "30OO"}, "is not a port number"),
    ("GITHUB_API_URL", {"GITHUB_API_URL": f"ftp://baton:{URL_TOKEN}@ghe.example/api/v3"},
     "is not an http(s) URL"),
    ("GITHUB_API_URL", {"GITHUB_API_URL": f"https://x:{URL_TOKEN}@"}, "is not an http(s) URL"),
    ("GHE_HOST", {"GHE_HOST": f"https://baton:{URL_TOKEN}@ghe.example"}, "a host name"),
    ("GHE_PROTOCOL", {"GHE_HOST": "ghe.example", "GHE_PROTOCOL": "ftp"}, "not http or https"),
    ("GHE_HOST", {"GHE_HOST": "ghe.example", "GITHUB_API_URL": "https://other.example/api/v3"},
     "set one of them"),
    ("RECONCILE_INTERVAL", {"RECONCILE_INTERVAL": "hourly"}, "is not a number"),
    ("RECONCILE_INTERVAL", {"RECONCILE_INTERVAL": "-5"}, ">= 0"),
    ("RECONCILE_INTERVAL", {"RECONCILE_INTERVAL": "inf"}, ">= 0"),
    ("LOG_LEVEL", {"LOG_LEVEL": "verbose"}, "trace, debug, info, warn, error, fatal"),
    ("LOG_FORMAT", {"LOG_FORMAT": "xml"}, "text, json or pretty"),
    ("BATON_DB", {"BATON_DB": "{tmp}/no/such/folder/baton.db"}, "does not exist"),
    ("BATON_DB", {"BATON_DB": "{tmp}"}, "is a folder, not a file"),
    ("BATON_DB", {"BATON_DB": "{tmp}/.env/baton.db"}, "is not a folder"),
    ("BATON_DB", {"BATON_DB": "{tmp}/.env"}, "is not a SQLite database"),
    ("BATON_DB", {"BATON_DB": "{not_writable}"}, "cannot create files in"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "change", "says"), BAD)
def test_each_bad_setting_is_exit_2_and_one_line_without_secrets(
    clean_env: Path, capsys: pytest.CaptureFixture[str],
    name: str, change: dict[str, str | None], says: str,
) -> None:  # fmt: skip
    tmp = clean_env
    values: dict[str, str | None] = {**_good(tmp), **change}
    lines = []
    for key, value in values.items():
        if value is not None:
            if "{not_writable}" in value:
                value = _not_writable(tmp)
            value = value.format(tmp=tmp)
            # One setting in the environment, the rest in `.env`: both are read.
            lines.append(f'{key}="{value}"' if key == "PRIVATE_KEY" else f"{key}={value}")
    (tmp / ".env").write_text("\n".join(lines) + "\n")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"baton: {name}: ") and says in err, err
    for secret in (SECRET, PEM_LINE, URL_TOKEN, "c2VjcmV0", "hunter2", _b64("hunter2")[:12]):
        assert secret not in err


def test_settings_come_from_the_environment_too(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (clean_env / ".env").write_text(f"APP_ID=7\nWEBHOOK_SECRET={SECRET}\nPRIVATE_KEY_PATH=k.pem\n")
    (clean_env / "k.pem").write_text(PEM)
    monkeypatch.setenv("BATON_DB", str(clean_env / "gone" / "baton.db"))
    assert main(["serve"]) == 2
    gone = clean_env / "gone"
    assert capsys.readouterr().err == f"baton: BATON_DB: folder {gone} does not exist\n"


def test_every_problem_at_once_each_on_its_line() -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(
            {"APP_ID": "x", "LOG_LEVEL": "loud", "GHE_HOST": "a b", "BATON_DB": "/no/such\n/x.db"},
            None,
        )
    names = [p.split(":")[0] for p in err.value.problems]
    assert names == [
        "APP_ID", "PRIVATE_KEY or PRIVATE_KEY_PATH", "WEBHOOK_SECRET", "GHE_HOST", "LOG_LEVEL",
        "BATON_DB",
    ]  # fmt: skip
    assert all("\n" not in p for p in err.value.problems)


def test_a_missing_db_folder_stops_the_real_command_with_one_line(tmp_path: Path) -> None:
    """The reported case: a 31-line traceback and exit 1 before; now exit 2 and one line."""
    env = {k: v for k, v in os.environ.items() if k not in NAMES}
    env |= _good(tmp_path) | {"BATON_DB": str(tmp_path / "nowhere" / "baton.db")}
    proc = subprocess.run(
        [sys.executable, "-m", "app", "serve"], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr == f"baton: BATON_DB: folder {tmp_path / 'nowhere'} does not exist\n"
    assert proc.stdout == ""


# --- the real `serve` with a Probot `.env`, against the sandbox ---------------------------


@contextlib.asynccontextmanager
async def _serve(folder: Path, dotenv: str, port: int) -> AsyncIterator[tuple[str, Path]]:
    """`python -m app serve` in `folder` with only `dotenv` as settings, until /healthz answers."""
    (folder / ".env").write_text(dotenv)
    log = folder / "serve.log"
    env = {k: v for k, v in os.environ.items() if k not in NAMES}
    with log.open("wb") as sink:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "app", "serve", cwd=folder, env=env,
            stdout=sink, stderr=sink,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(600):  # readiness, bounded: 600 polls of at most 50 ms apart
                assert proc.returncode is None, log.read_text()
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(f"{url}/healthz") as resp:
                        if resp.status == 200 and (await resp.json())["status"] == "ok":
                            break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("serve did not answer /healthz: " + log.read_text())
        yield url, log
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 30)
    assert code == 0, log.read_text()


async def _an_issue_reaches_github(sandbox: SandboxServer, url: str) -> list[str]:
    """Open an issue; the delivery's handling calls the sandbox: the paths it asked for."""
    sandbox.webhook_url = f"{url}/api/github/webhooks"
    sandbox.person("ann").open_issue(REPO, "Cart", "body")
    await sandbox.flush()
    assert [d.status for d in sandbox.deliveries] == [202]
    for _ in range(600):  # bounded: until a repository read arrives
        if any(f"/repos/{REPO}/" in r.path for r in sandbox.requests):
            break
        await asyncio.sleep(0.05)
    return [r.path for r in sandbox.requests]


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxServer]:
    box = SandboxServer(SECRET)
    await box.start()
    box.add_repo(REPO, {})
    try:
        yield box
    finally:
        await box.stop()
        ALL_REQUESTS.extend(box.requests)


async def test_serve_with_a_probot_env_reaches_ghe_host_under_api_v3(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    """warn, pretty, a base64 key and GHE_HOST (with GHE_PROTOCOL), inline comments."""
    host, port = sandbox.url.removeprefix("http://"), free_port()
    dotenv = (
        "# Probot app settings\n"
        f"APP_ID={APP_ID}\n"
        f"PRIVATE_KEY={_b64(sandbox.private_key)}\n"
        f"WEBHOOK_SECRET={SECRET} # from the App's settings page\n"
        f"GHE_HOST={host}   # our Enterprise Server\n"
        "GHE_PROTOCOL=http\n"
        f"PORT={port} # dev\n"
        "HOST=127.0.0.1\n"
        "LOG_LEVEL=warn\n"
        "LOG_FORMAT=pretty\n"
        "RECONCILE_INTERVAL=0\n"
    )
    async with _serve(tmp_path, dotenv, port) as (url, log):
        paths = await _an_issue_reaches_github(sandbox, url)
    assert "/api/v3/app/installations/1/access_tokens" in paths
    assert any(p.startswith(f"/api/v3/repos/{REPO}/") for p in paths)
    assert all(p.startswith("/api/v3/") for p in paths), paths
    assert "listening on" not in log.read_text()  # warn: INFO lines are not written


async def test_serve_with_a_quoted_multi_line_pem_trace_and_commented_api_url(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    port = free_port()
    dotenv = (
        f"APP_ID={APP_ID}\n"
        f'PRIVATE_KEY="{sandbox.private_key}"\n'
        f'WEBHOOK_SECRET="{SECRET}"\n'
        f"GITHUB_API_URL={sandbox.url}   # comment\n"
        f"PORT={port} # dev\n"
        "HOST=127.0.0.1\n"
        "LOG_LEVEL=trace\n"
        "RECONCILE_INTERVAL=0\n"
    )
    async with _serve(tmp_path, dotenv, port) as (url, log):
        paths = await _an_issue_reaches_github(sandbox, url)
    assert "/app/installations/1/access_tokens" in paths
    assert not any(p.startswith("/api/v3/") for p in paths)
    text = log.read_text()
    assert " INFO app.service.server [-] listening on 127.0.0.1:" in text  # text format
    assert SECRET not in text and sandbox.private_key.splitlines()[1] not in text


def test_the_example_env_file_loads_and_says_the_defaults(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    example = (Path(__file__).resolve().parents[1] / ".env.example").read_text()
    (clean_env / ".env").write_text(example)
    (clean_env / "baton.private-key.pem").write_text(PEM)
    settings = load_settings()
    assert (settings.app_id, settings.webhook_secret, settings.private_key) == (
        "123456", "change-me", PEM.strip(),
    )  # fmt: skip
    assert (settings.webhook_path, settings.host, settings.port) == (
        "/api/github/webhooks", "0.0.0.0", 3000,
    )  # fmt: skip
    assert (settings.github_api_url, settings.db_path, settings.reconcile_interval) == (
        "https://api.github.com", "baton.db", 900.0,
    )  # fmt: skip
    assert (settings.log_level, settings.log_format) == ("INFO", "text")
    # Every name the example mentions, set or in a comment, is one that is read.
    mentioned = {line.lstrip("# ").split("=")[0] for line in example.splitlines() if "=" in line}
    assert {m for m in mentioned if m.isupper() and " " not in m} <= set(NAMES)


def test_an_unreadable_env_file_is_a_settings_problem(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"WEBHOOK_SECRET=caf\xe9\n")
    with pytest.raises(SettingsError) as err:
        load_settings(_good(tmp_path), tmp_path / ".env")
    assert err.value.problems == [f"{tmp_path / '.env'}: cannot read: not UTF-8"]
