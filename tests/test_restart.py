"""A delivery accepted and then the process killed (SIGKILL) is handled after restart, once;
in the middle of a backlog, every accepted one is, in order per issue."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import uuid
from pathlib import Path

import aiohttp

from app.sandbox import APP_ID, SandboxServer
from app.sandbox.server import sign
from tests.conftest import REPO, SECRET, free_port


async def start_app(sandbox: SandboxServer, db: Path, port: int) -> asyncio.subprocess.Process:
    env = {
        "PATH": os.environ["PATH"],
        "APP_ID": str(APP_ID),
        "PRIVATE_KEY": sandbox.private_key.replace("\n", "\\n"),
        "WEBHOOK_SECRET": SECRET,
        "GITHUB_API_URL": sandbox.url,
        "BATON_DB": str(db),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "RECONCILE_INTERVAL": "0",
        "LOG_LEVEL": "WARNING",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        "serve",
        env=env,
        cwd=db.parent,
    )
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    if resp.status == 200:
                        return proc
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError("the app did not start")


async def test_accepted_delivery_survives_sigkill(tmp_path: Path) -> None:
    sandbox = SandboxServer(SECRET)
    await sandbox.start()
    sandbox.add_repo(REPO)
    port = free_port()
    sandbox.webhook_url = f"http://127.0.0.1:{port}/api/github/webhooks"
    db = tmp_path / "baton.db"
    first = await start_app(sandbox, db, port)
    try:
        # The first GitHub call of the handler hangs, so the kill lands mid-handling.
        sandbox.inject("GET", r"^/app$", 200, delay=3)
        sandbox.person("ann").open_issue(REPO, "Refunds", "no criteria yet")
        await sandbox.flush()
        assert sandbox.deliveries[0].status == 202
        for _ in range(200):
            if any(r.path == "/app" for r in sandbox.requests):
                break
            await asyncio.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        repo = sandbox.world.repos[REPO]
        assert not repo.comments, "nothing was done before the kill"

        second = await start_app(sandbox, db, port)
        try:
            for _ in range(200):
                if repo.comments:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.0)  # room for a second, wrong, side effect to show up
        finally:
            second.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(second.wait(), 20) == 0
        bodies = [c.body for c in repo.comments.values() if c.issue_number == 1]
        assert len([b for b in bodies if not b.startswith("<!-- baton:status")]) == 1
        assert [lb.name for lb in repo.issues[1].labels] == ["status: needs-spec"]
    finally:
        if first.returncode is None:
            first.kill()
        await sandbox.stop()


async def test_sigterm_lets_the_running_handler_finish(tmp_path: Path) -> None:
    sandbox = SandboxServer(SECRET)
    await sandbox.start()
    sandbox.add_repo(REPO)
    port = free_port()
    sandbox.webhook_url = f"http://127.0.0.1:{port}/api/github/webhooks"
    app = await start_app(sandbox, tmp_path / "baton.db", port)
    try:
        sandbox.inject("GET", r"^/app$", 200, delay=1.0)  # the handler is mid-way...
        sandbox.person("ann").open_issue(REPO, "Refunds", "no criteria yet")
        await sandbox.flush()
        for _ in range(200):
            if any(r.path == "/app" for r in sandbox.requests):
                break
            await asyncio.sleep(0.02)
        app.send_signal(signal.SIGTERM)  # ...when the deploy stops the process
        assert await asyncio.wait_for(app.wait(), 20) == 0
        repo = sandbox.world.repos[REPO]
        assert [lb.name for lb in repo.issues[1].labels] == ["status: needs-spec"]
        # Nothing listens any more: GitHub's redelivery will find the next process.
        try:
            status = await sandbox.post_delivery(sandbox.deliveries[0])
        except aiohttp.ClientError:
            status = None
        assert status is None
    finally:
        if app.returncode is None:
            app.kill()
        await sandbox.stop()


# The app of the next test: `serve` with one feature that records each delivery's effect in a
# file, idempotently (as Baton's handlers are against GitHub's state), and every try apart.
RECORDING_APP = """
import asyncio, os, sys
from gidgethub import routing
from app.service.dispatch import Features
from app.service.server import serve
from app.service.settings import load_settings

effects_path = sys.argv[1]
seen = set()
if os.path.exists(effects_path):
    with open(effects_path) as f:
        seen = {line.split()[0] for line in f if line.endswith("\\n")}
effects = open(effects_path, "a", buffering=1)
tries = open(effects_path + ".tries", "a", buffering=1)
router = routing.Router()

@router.register("issues", action="edited")
async def record(event, ctx):
    tries.write(event.delivery_id + "\\n")
    await asyncio.sleep(0.01)  # some work, so that deliveries pile up
    if event.delivery_id not in seen:
        seen.add(event.delivery_id)
        effects.write(f"{event.delivery_id} {event.data['issue']['number']} {event.data['n']}\\n")

asyncio.run(serve(load_settings(dotenv=None), features=Features(routers=[router])))
"""


async def start_recording_app(
    sandbox: SandboxServer, db: Path, port: int, effects: Path
) -> asyncio.subprocess.Process:
    env = {
        "PATH": os.environ["PATH"],
        "APP_ID": str(APP_ID),
        "PRIVATE_KEY": sandbox.private_key.replace("\n", "\\n"),
        "WEBHOOK_SECRET": SECRET,
        "GITHUB_API_URL": sandbox.url,
        "BATON_DB": str(db),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "RECONCILE_INTERVAL": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", RECORDING_APP, str(effects), env=env, cwd=db.parent
    )
    async with aiohttp.ClientSession() as session:
        for _ in range(400):
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    if resp.status == 200:
                        return proc
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError("the app did not start")


def read_effects(path: Path) -> list[tuple[str, int, int]]:
    if not path.exists():
        return []
    lines = [line.split() for line in path.read_text().splitlines(keepends=True)]
    return [(d, int(issue), int(n)) for d, issue, n in (x for x in lines if len(x) == 3)]


async def test_kill_9_in_a_backlog_loses_nothing_repeats_nothing_keeps_key_order(
    tmp_path: Path,
) -> None:
    keys, per_key = 20, 100
    sandbox = SandboxServer(SECRET)
    await sandbox.start()
    sandbox.add_repo(REPO)
    port = free_port()
    db, effects = tmp_path / "baton.db", tmp_path / "effects.txt"
    url = f"http://127.0.0.1:{port}/api/github/webhooks"
    first = await start_recording_app(sandbox, db, port, effects)
    second = None
    accepted: list[str] = []
    try:

        async def send_key(session: aiohttp.ClientSession, issue: int) -> None:
            for n in range(per_key):  # one after another: GitHub's order for this issue
                payload = {
                    "action": "edited",
                    "issue": {"number": issue},
                    "repository": {"full_name": REPO},
                    "installation": {"id": 1},
                    "sender": {"login": "ann"},
                    "n": n,
                }
                body = json.dumps(payload).encode()
                delivery = f"{issue}-{n}-{uuid.uuid4()}"
                headers = {
                    "X-GitHub-Event": "issues",
                    "X-GitHub-Delivery": delivery,
                    "X-Hub-Signature-256": sign(SECRET, body),
                }
                async with session.post(url, data=body, headers=headers) as resp:
                    assert resp.status == 202
                    accepted.append(delivery)

        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(send_key(session, issue) for issue in range(1, keys + 1)))
        assert len(accepted) == keys * per_key
        for _ in range(400):  # a third handled: the rest is the backlog the kill lands in
            if len(read_effects(effects)) >= len(accepted) // 3:
                break
            await asyncio.sleep(0.02)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        done_before = len(read_effects(effects))
        assert done_before < len(accepted) * 2 // 3, "the backlog drained before the kill"

        second = await start_recording_app(sandbox, db, port, effects)
        for _ in range(1000):
            if len(read_effects(effects)) >= len(accepted):
                break
            await asyncio.sleep(0.02)
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                async with session.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    health = await resp.json()
                if health["queue_depth"] == 0:
                    break
                await asyncio.sleep(0.02)
        assert (health["queue_depth"], health["dead_letters"]) == (0, 0)
    finally:
        for proc in (first, second):
            if proc is not None and proc.returncode is None:
                proc.kill()
                await proc.wait()
        await sandbox.stop()

    done = read_effects(effects)
    ids = [d for d, _, _ in done]
    assert sorted(ids) == sorted(accepted)  # every 202 handled, exactly once
    for issue in range(1, keys + 1):
        assert [n for _, i, n in done if i == issue] == list(range(per_key))  # in order
    tries = Path(f"{effects}.tries").read_text().split()
    repeated = len(tries) - len(set(tries))
    # Only what was running at the kill runs again (at most the worker's 8 slots).
    assert repeated <= 8, repeated
