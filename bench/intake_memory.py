"""Intake's memory and connection bounds (SPEC 2, issue #9 item 7), measured on a real `serve`.

    .venv/bin/python bench/intake_memory.py [--clients 60] [--mib 25] [--idle 1000]

Baton runs in its own process on loopback. Three measurements, each bounded in count and time:

1. `--clients` concurrent POSTs of `--mib` MiB bodies with a wrong signature (well-formed, so
   the body must be read to refuse it): the server's peak RSS while they run, the answers
   (401 once read, 503 past the bound on bodies held at once), and RSS afterwards.
2. A body sent one byte a second: how long until the server cuts it off.
3. `--idle` idle connections (half with a request begun and never finished): /healthz latency
   while they are open, and whether the server still answers.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.sandbox.server import _key_pair  # noqa: E402

SECRET = "bench-secret"
PATH = "/api/github/webhooks"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start(tmp: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "APP_ID": "1",
        "PRIVATE_KEY": _key_pair()[0],
        "WEBHOOK_SECRET": SECRET,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "BATON_DB": str(tmp / "baton.db"),
        "GITHUB_API_URL": f"http://127.0.0.1:{free_port()}",
        "RECONCILE_INTERVAL": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve"], env=env, cwd=tmp)
    for _ in range(400):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("serve did not start")


async def big_post(port: int, size: int) -> str:
    """One POST of `size` bytes with a wrong signature; the status line, or what went wrong."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            (
                f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: {size}\r\n"
                "X-GitHub-Event: issues\r\nX-GitHub-Delivery: big\r\n"
                f"X-Hub-Signature-256: sha256={'0' * 64}\r\n\r\n"
            ).encode()
        )
        chunk = b"x" * (1 << 20)
        sent = 0
        answer = b""
        while sent < size:
            writer.write(chunk[: min(len(chunk), size - sent)])
            sent += min(len(chunk), size - sent)
            await writer.drain()
            if reader.at_eof() or reader._buffer:  # type: ignore[attr-defined]
                break  # answered before the whole body went
        answer = await asyncio.wait_for(reader.readline(), 30)
        writer.close()
        return answer.decode().split(" ", 2)[1] if answer else "closed"
    except (ConnectionError, OSError) as exc:
        return type(exc).__name__


async def healthz_ms(port: int) -> float:
    start = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    status = await asyncio.wait_for(reader.readline(), 5)
    await reader.read()
    writer.close()
    assert b" 200 " in status, status
    return (time.perf_counter() - start) * 1000


def memory(port: int, pid: int, clients: int, mib: int) -> None:
    baseline = rss_mb(pid)
    peak = baseline
    stop = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, rss_mb(pid))
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()

    async def run() -> list[str]:
        return await asyncio.gather(*(big_post(port, mib << 20) for _ in range(clients)))

    started = time.monotonic()
    answers = asyncio.run(run())
    elapsed = time.monotonic() - started
    time.sleep(1.0)
    stop.set()
    watcher.join()
    after = rss_mb(pid)
    counts = collections.Counter(answers)
    print(f"1. {clients} concurrent unsigned {mib} MiB bodies ({clients * mib:,} MiB in all)")
    print(f"   answers: {dict(counts)} in {elapsed:.1f}s")
    print(f"   RSS: {baseline:.0f} MB before, peak {peak:.0f} MB, {after:.0f} MB one second after")


def slow_body(port: int, limit: float) -> None:
    async def run() -> tuple[float, str]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            (
                f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
                "X-GitHub-Event: issues\r\nX-GitHub-Delivery: slow\r\n"
                f"X-Hub-Signature-256: sha256={'0' * 64}\r\n\r\n"
            ).encode()
        )
        start = time.monotonic()
        status = b""
        while time.monotonic() - start < limit:
            writer.write(b"x")
            try:
                await writer.drain()
                status = await asyncio.wait_for(reader.readline(), 1.0)
            except TimeoutError:
                continue
            except ConnectionError:
                break
            if status or reader.at_eof():
                break
        writer.close()
        return time.monotonic() - start, status.decode().strip() or "closed"

    took, status = asyncio.run(run())
    print(f"2. a body sent one byte a second: cut off after {took:.1f}s ({status!r})")


def idle(port: int, pid: int, count: int) -> None:
    async def run() -> tuple[list[float], int]:
        writers = []
        try:
            for i in range(count):
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                if i % 2:
                    writer.write(f"POST {PATH} HTTP/1.1\r\nHost: x\r\n".encode())
                writers.append(writer)
            times = [await healthz_ms(port) for _ in range(20)]
            return times, len(writers)
        finally:
            for writer in writers:
                writer.close()

    times, opened = asyncio.run(run())
    times.sort()
    print(
        f"3. {opened} idle connections open: /healthz p50 {times[len(times) // 2]:.1f} ms,"
        f" max {times[-1]:.1f} ms (20 probes); server RSS {rss_mb(pid):.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=60)
    parser.add_argument("--mib", type=int, default=25)
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--slow-limit", type=float, default=30.0)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="baton-mem-"))
    port = free_port()
    proc = start(tmp, port)
    try:
        memory(port, proc.pid, args.clients, args.mib)
        slow_body(port, args.slow_limit)
        idle(port, proc.pid, args.idle)
    finally:
        proc.terminate()
        proc.wait(20)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
