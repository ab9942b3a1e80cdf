"""Intake throughput: the real intake against a bare aiohttp handler, in the same run.

    .venv/bin/python bench/intake.py [--requests 6000] [--concurrency 50]

Each server runs in its own process (one core each side on a 2-core machine); this process is
the load generator. (a) is `serve` with no feature handlers, so what is measured is intake:
signature, JSON, the durable SQLite insert, the 202. (b) only reads the body and answers 202.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.sandbox.server import _key_pair, sign  # noqa: E402

SECRET = "bench-secret"

SERVE_REAL = """
import asyncio, sys
from app.service.dispatch import Features
from app.service.server import serve
from app.service.settings import load_settings
asyncio.run(serve(load_settings(dotenv=None), features=Features(routers=[])))
"""

SERVE_BARE = """
import sys
from aiohttp import web
async def handle(request):
    await request.read()
    return web.json_response({"message": "accepted"}, status=202)
app = web.Application(client_max_size=26 * 1024 * 1024)
app.router.add_post("/api/github/webhooks", handle)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def payload(i: int) -> bytes:
    """An `issues` delivery of about 10 KB, like a real one with a long body."""
    body = {
        "action": "opened",
        "issue": {
            "number": i,
            "title": f"Ticket {i}",
            "body": ("## Acceptance criteria\n- [ ] works\n" + "lorem ipsum " * 700)[:8500],
            "user": {"login": "agent-1", "id": 1, "type": "Bot"},
            "labels": [],
            "assignees": [],
        },
        "repository": {"full_name": "acme/shop", "id": 1},
        "sender": {"login": "agent-1", "id": 1, "type": "Bot"},
        "installation": {"id": 1},
    }
    return json.dumps(body).encode()


async def wait_listening(port: int) -> None:
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


async def load(url: str, total: int, concurrency: int) -> tuple[float, list[float], int]:
    bodies = [payload(i) for i in range(200)]
    latencies: list[float] = []
    accepted = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(i)
    connector = aiohttp.TCPConnector(limit=concurrency)

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal accepted
        while not queue.empty():
            i = queue.get_nowait()
            body = bodies[i % len(bodies)]
            headers = {
                "X-GitHub-Event": "issues",
                "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-Hub-Signature-256": sign(SECRET, body),
                "Content-Type": "application/json",
            }
            start = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as resp:
                await resp.read()
                accepted += resp.status == 202
            latencies.append(time.perf_counter() - start)

    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return elapsed, latencies, accepted


def report(name: str, total: int, elapsed: float, latencies: list[float]) -> float:
    q = statistics.quantiles(latencies, n=100)
    rate = total / elapsed
    p50, p99 = q[49] * 1000, q[98] * 1000
    print(f"{name:<20} {rate:8.0f} deliveries/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")
    return rate


async def run(total: int, concurrency: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="baton-bench-"))
    db = tmp / "bench.db"
    results = {}
    key = _key_pair()[0]  # never used to sign: no feature handler calls GitHub
    for name, code in (("(b) bare aiohttp", SERVE_BARE), ("(a) Baton intake", SERVE_REAL)):
        port = free_port()
        env = {
            **os.environ,
            "APP_ID": "1",
            "PRIVATE_KEY": key,
            "WEBHOOK_SECRET": SECRET,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "BATON_DB": str(db),
            "RECONCILE_INTERVAL": "0",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        proc = subprocess.Popen([sys.executable, "-c", code, str(port)], env=env, cwd=tmp)
        try:
            await wait_listening(port)
            url = f"http://127.0.0.1:{port}/api/github/webhooks"
            await load(url, min(500, total), concurrency)  # warm-up
            elapsed, latencies, accepted = await load(url, total, concurrency)
            results[name] = (report(name, total, elapsed, latencies), latencies, accepted)
        finally:
            proc.terminate()
            proc.wait(10)
    counts = dict(
        sqlite3.connect(db).execute("SELECT status, COUNT(*) FROM deliveries GROUP BY status")
    )
    shutil.rmtree(tmp, ignore_errors=True)
    ratio = results["(a) Baton intake"][0] / results["(b) bare aiohttp"][0]
    accepted = results["(a) Baton intake"][2]
    print(f"ratio a/b: {ratio:.2f}   accepted {accepted} (+ warm-up); in the queue: {counts}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(run(args.requests, args.concurrency))


if __name__ == "__main__":
    main()
