"""A delivery accepted and then the process killed (SIGKILL) is handled after restart, once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp

from app.sandbox import APP_ID, SandboxServer
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
