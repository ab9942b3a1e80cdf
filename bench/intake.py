"""Intake under load: Baton `serve` against bare aiohttp, measured with `wrk` in the same run.

    apt-get install -y wrk        # the load generator (Debian package `wrk`)
    .venv/bin/python bench/intake.py [--duration 10] [--sustain 60] [--connections 50]

Each server runs in its own process, on loopback. Baton is the real `python -m app serve` with
every feature and its worker running, and GitHub unreachable (GITHUB_API_URL is a closed
loopback port), so handlers fail and retry while deliveries pile up. The bare server reads the
body and answers 200. wrk sends a signed ~10 KB `issues` delivery (the HMAC precomputed; only
X-GitHub-Delivery varies, unique per request) in three shapes of load:

- one key: every delivery about the same issue (they queue behind one busy key);
- 1,000 keys: deliveries spread over 1,000 issues, sustained for --sustain seconds
  (WAL, database growth and RSS are sampled through it);
- backlog: 100,000 deliveries already pending when the load starts.

Per shape it prints req/s, p50, p99, the ratio to bare aiohttp, /healthz latency under load,
the WAL's size, database growth per 100k deliveries, the server's RSS, and the CPU seconds of
wrk and of the server (when wrk used more, the load generator was the bottleneck).
Everything stops by itself: wrk runs for a fixed time, the servers are stopped, the temporary
directory removed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.sandbox.server import _key_pair, sign  # noqa: E402
from app.sandbox.shapes import accounts, issues  # noqa: E402
from app.service.intake import ordering_key  # noqa: E402
from app.service.queue import DeliveryStore  # noqa: E402

SECRET = "bench-secret"
PATH = "/api/github/webhooks"
BODY_SIZE = 10 * 1024

SERVE_BARE = """
import sys
from aiohttp import web
async def handle(request):
    await request.read()
    return web.json_response({"message": "ok"})
app = web.Application(client_max_size=26 * 1024 * 1024)
app.router.add_post(sys.argv[2], handle)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None,
            backlog=4096)
"""

# wrk's Lua: the requests are prebuilt up to the delivery id; each request adds a unique one.
LUA = r"""
local data = dofile(os.getenv("BATON_BENCH_DATA"))
local heads, tails, n = data.heads, data.tails, #data.heads
local counter = 0
local next_tid = 0

-- setup runs in the main state; `tid` becomes a global of each thread's own state.
function setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
end

function request()
  counter = counter + 1
  local i = counter % n + 1
  return heads[i] .. data.nonce .. "-" .. tid .. "-" .. counter .. tails[i]
end
"""

WORDS = [
    "the", "a", "checkout", "cart", "button", "refund", "order", "payment", "customer",
    "invoice", "page", "error", "retry", "when", "user", "clicks", "should", "shows", "returns",
    "total", "discount", "coupon", "shipping", "address", "test", "expected", "actual", "steps",
    "reproduce", "browser", "version", "mobile", "desktop", "api", "endpoint", "status",
    "timeout", "slow", "fails", "passes", "merge", "branch", "deploy", "release", "config",
    "flag", "feature", "ticket", "criteria", "acceptance", "agent", "review", "approve",
    "change", "request", "label", "claim", "handoff", "done",
]  # fmt: skip


def payload(number: int, rng: random.Random) -> bytes:
    """An `issues` `opened` delivery shaped like GitHub's, about 10 KB: mostly the repository's
    URLs, as in real payloads, and an issue body of text."""
    base = "https://api.github.com"
    owner = accounts.user("acme", 1, "Organization", base_url=base)
    repo = accounts.repository(owner, "shop", 100, base_url=base)
    author = accounts.user("agent-1", 7, "Bot", base_url=base)
    stamp = "2026-11-30T06:00:00Z"
    data = {
        "action": "opened",
        "issue": issues.issue(
            repo, number, 5000 + number, f"Checkout refunds, part {number}", "",
            author, [], [], "open", None, 0, stamp, stamp, None,
        ),
        "repository": repo,
        "organization": {"login": "acme", "id": 1, "url": f"{base}/orgs/acme"},
        "sender": author,
        "installation": {"id": 1, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="},
    }
    size = len(json.dumps(data, separators=(",", ":")))
    words: list[str] = []
    while size + sum(len(w) + 1 for w in words) < BODY_SIZE:
        words.append(rng.choice(WORDS))
    data["issue"]["body"] = "## Acceptance criteria\n" + " ".join(words)
    return json.dumps(data, separators=(",", ":")).encode()  # compact, as GitHub sends


def write_lua_data(path: Path, port: int, keys: int, nonce: str) -> None:
    rng = random.Random(keys)
    heads, tails = [], []
    for number in range(1, keys + 1):
        body = payload(number, rng)
        head = (
            f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/json\r\nX-GitHub-Event: issues\r\n"
            f"X-Hub-Signature-256: {sign(SECRET, body)}\r\nContent-Length: {len(body)}\r\n"
            "X-GitHub-Delivery: "
        )
        heads.append(head)
        tails.append("\r\n\r\n" + body.decode())

    def lua(s: str) -> str:
        # A quoted string: Lua's long brackets would turn each CRLF into LF.
        out = ['"']
        for ch in s.encode():
            c = chr(ch)
            out.append(c if 32 <= ch < 127 and c not in '"\\' else f"\\{ch:03d}")
        return "".join(out) + '"'

    path.write_text(
        "return { nonce = " + lua(nonce)
        + ", heads = {" + ",".join(map(lua, heads)) + "}"
        + ", tails = {" + ",".join(map(lua, tails)) + "} }\n"
    )  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loop_cpu_seconds(pid: int) -> float:
    """The main thread's CPU: the event loop, which bounds req/s when other cores are free."""
    return cpu_seconds_of(f"/proc/{pid}/task/{pid}/stat")


def cpu_seconds_of(stat: str) -> float:
    fields = Path(stat).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def file_mb(path: Path) -> float:
    try:
        return path.stat().st_size / 2**20
    except OSError:
        return 0.0


def wait_listening(port: int) -> None:
    for _ in range(400):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    errors: str
    cpu: float


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(
    lua: Path, data: Path, port: int, seconds: float, threads: int, connections: int
) -> WrkResult:
    cmd = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{int(seconds)}s", "--latency",
        "--timeout", "5s", "-s", str(lua), f"http://127.0.0.1:{port}{PATH}",
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "BATON_BENCH_DATA": str(data)},
    )
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0 or "Requests/sec" not in out:
        raise RuntimeError(f"wrk failed:\n{out}")
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    if set(latency) != {"50", "99"}:
        raise RuntimeError(f"no latency distribution in wrk's output:\n{out}")
    errors = re.search(r"Socket errors:.*", out)
    return WrkResult(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        p50_ms=_ms(latency["50"]),
        p99_ms=_ms(latency["99"]),
        requests=int(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
        non_2xx=int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0,
        errors=errors.group(0) if errors else "",
        cpu=usage.ru_utime + usage.ru_stime,
    )


@dataclass
class Samples:
    """Sampled while wrk runs: /healthz latency, WAL size, RSS."""

    healthz_ms: list[float] = field(default_factory=list)
    wal_mb: list[float] = field(default_factory=list)
    rss: list[tuple[float, float]] = field(default_factory=list)
    failures: int = 0


def sample(port: int, pid: int | None, wal: Path | None, stop: threading.Event) -> Samples:
    samples = Samples()

    async def loop() -> None:
        start = time.monotonic()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            while not stop.is_set():
                t0 = time.perf_counter()
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as resp:
                        await resp.read()
                        ok = resp.status == 200
                except aiohttp.ClientError:
                    ok = False
                if ok:
                    samples.healthz_ms.append((time.perf_counter() - t0) * 1000)
                else:
                    samples.failures += 1
                if wal is not None:
                    samples.wal_mb.append(file_mb(wal))
                if pid is not None:
                    samples.rss.append((time.monotonic() - start, rss_mb(pid)))
                await asyncio.sleep(0.2)

    asyncio.run(loop())
    return samples


def start_baton(tmp: Path, db: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "APP_ID": "1",
        "PRIVATE_KEY": _key_pair()[0],
        "WEBHOOK_SECRET": SECRET,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "BATON_DB": str(db),
        "GITHUB_API_URL": f"http://127.0.0.1:{free_port()}",  # nothing listens: unreachable
        "RECONCILE_INTERVAL": "0",
        "LOG_LEVEL": "CRITICAL",  # every failed try logs; the bench measures intake
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "app", "serve"], env=env, cwd=tmp, stderr=subprocess.DEVNULL
    )


def fill_backlog(db: Path, count: int, keys: int) -> float:
    """`count` pending deliveries written straight into the queue, as if accepted earlier."""
    store = DeliveryStore(str(db))
    rng = random.Random(0)
    bodies = [payload(n, rng) for n in range(1, keys + 1)]
    parsed = [json.loads(b) for b in bodies]
    start = time.perf_counter()
    for first in range(0, count, 2000):
        store.put_many(
            [
                (str(uuid.uuid4()), "issues", ordering_key("issues", parsed[i % keys]),
                 bodies[i % keys])
                for i in range(first, min(count, first + 2000))
            ]
        )  # fmt: skip
    store.close()
    return time.perf_counter() - start


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def measure(
    name: str, tmp: Path, keys: int, seconds: float, sustain: float, args: argparse.Namespace,
    backlog: int = 0,
) -> dict[str, float]:  # fmt: skip
    lua = tmp / "delivery.lua"
    lua.write_text(LUA)
    nonce = uuid.uuid4().hex[:8]

    # Bare aiohttp first, same script and data.
    port = free_port()
    data = tmp / f"data-{keys}.lua"
    write_lua_data(data, port, keys, nonce + "b")
    bare = subprocess.Popen([sys.executable, "-c", SERVE_BARE, str(port), PATH])
    try:
        wait_listening(port)
        run_wrk(lua, data, port, 2, args.threads, args.connections)  # warm-up
        bare_cpu = cpu_seconds(bare.pid)
        b = run_wrk(lua, data, port, seconds, args.threads, args.connections)
        bare_cpu = cpu_seconds(bare.pid) - bare_cpu
    finally:
        stop(bare)

    db = tmp / f"{name}.db"
    filled = fill_backlog(db, backlog, keys) if backlog else 0.0
    port = free_port()
    write_lua_data(data, port, keys, nonce + "a")
    proc = start_baton(tmp, db, port)
    try:
        wait_listening(port)
        size_before = file_mb(db) + file_mb(Path(f"{db}-wal"))  # the filled backlog, if any
        cpu_before = cpu_seconds(proc.pid)
        loop_before = loop_cpu_seconds(proc.pid)
        halt = threading.Event()
        box: dict[str, Samples] = {}
        sampler = threading.Thread(
            target=lambda: box.setdefault(
                "s", sample(port, proc.pid, Path(f"{db}-wal"), halt)
            )
        )
        sampler.start()
        try:
            a = run_wrk(lua, data, port, sustain or seconds, args.threads, args.connections)
        finally:
            halt.set()
            sampler.join()
        server_cpu = cpu_seconds(proc.pid) - cpu_before
        loop_cpu = loop_cpu_seconds(proc.pid) - loop_before
        s = box["s"]
        health = json.loads(
            subprocess.run(
                ["curl", "-s", f"http://127.0.0.1:{port}/healthz"], capture_output=True, check=True
            ).stdout
        )
    finally:
        stop(proc)
    size_after = file_mb(db) + file_mb(Path(f"{db}-wal"))  # closed: the WAL is folded in
    accepted = a.requests - a.non_2xx
    growth = (size_after - size_before) / max(1, accepted) * 100_000
    ratio = a.rps / b.rps
    rss = s.rss
    print(f"\n== {name}: {keys} key(s)" + (f", {backlog:,} pending at start" if backlog else ""))
    if backlog:
        print(f"   backlog written in {filled:.1f}s; depth at the end {health['queue_depth']:,}")
    print(
        f"   bare aiohttp  {b.rps:9,.0f} req/s  p50 {b.p50_ms:6.2f} ms  p99 {b.p99_ms:6.2f} ms"
        f"  (wrk cpu {b.cpu:.1f}s)"
    )
    print(
        f"   Baton         {a.rps:9,.0f} req/s  p50 {a.p50_ms:6.2f} ms  p99 {a.p99_ms:6.2f} ms"
        f"  ratio {ratio:.2f}  over {sustain or seconds:.0f}s"
    )
    print(
        f"   accepted {accepted:,}, refused {a.non_2xx} {a.errors};"
        f" queue depth {health['queue_depth']:,}"
    )
    print(
        f"   /healthz under load: p50 {quantile(s.healthz_ms, 0.5):.2f} ms"
        f"  p99 {quantile(s.healthz_ms, 0.99):.2f} ms  max {max(s.healthz_ms, default=0):.2f} ms"
        f"  ({len(s.healthz_ms)} probes, {s.failures} failed)"
    )
    print(
        f"   WAL max {max(s.wal_mb, default=0):.1f} MB; database growth"
        f" {growth:.1f} MB per 100k deliveries ({size_after - size_before:.1f} MB"
        f" for {accepted:,})"
    )
    marks = [r for i, r in enumerate(rss) if i % max(1, len(rss) // 6) == 0] + rss[-1:]
    print("   RSS MB over time: " + ", ".join(f"{t:.0f}s {m:.0f}" for t, m in marks))
    us_bare, us_baton = bare_cpu / b.requests * 1e6, server_cpu / a.requests * 1e6
    us_loop = loop_cpu / a.requests * 1e6
    print(
        f"   server CPU per request: bare {us_bare:.0f} µs; Baton {us_baton:.0f} µs in all,"
        f" {us_loop:.0f} µs on the event loop (ratio {us_bare / us_loop:.2f})"
    )
    print(f"   CPU seconds: wrk {a.cpu:.1f}, server {server_cpu:.1f}", end="")
    if a.cpu > server_cpu:
        print("  -> wrk used more CPU than the server: the load generator was the bottleneck")
    else:
        print()
    return {"ratio": ratio, "p99": a.p99_ms, "healthz_p99": quantile(s.healthz_ms, 0.99)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per measurement")
    parser.add_argument("--sustain", type=float, default=60, help="seconds of the 1,000-key run")
    parser.add_argument("--backlog", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--only", choices=["one", "many", "backlog"], action="append")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("bench/intake.py needs wrk: apt-get install -y wrk")
    tmp = Path(tempfile.mkdtemp(prefix="baton-bench-"))
    try:
        shapes = args.only or ["one", "many", "backlog"]
        if "one" in shapes:
            measure("one-key", tmp, 1, args.duration, 0, args)
        if "many" in shapes:
            measure("1000-keys", tmp, 1000, args.duration, args.sustain, args)
        if "backlog" in shapes:
            measure("backlog", tmp, 1000, args.duration, 0, args, backlog=args.backlog)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
