"""The delivery store and the worker: per key in order, due, not busy; retries on an injected
clock; what survives a reopen; bodies compressed and gone once handled; a bounded WAL."""

from __future__ import annotations

import asyncio
import itertools
import os
import sqlite3
import time
import uuid
import zlib
from pathlib import Path

from app.service.payload_dictionary import DICTIONARY
from app.service.queue import (
    FORMAT_DICT_1,
    FORMAT_DICT_2,
    HOLD_BYTES,
    DeliveryStore,
    GroupCommit,
    RetryLater,
    pack,
    unpack,
)
from app.service.worker import Worker


class Clock:
    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def test_ready_takes_the_first_pending_delivery_of_each_free_key(tmp_path: Path) -> None:
    store = DeliveryStore(str(tmp_path / "q.db"))
    for i in range(300):  # a backlog: three keys, interleaved
        store.put(f"d{i}", "issues", f"o/r#{i % 3}", b"{}")
    now = time.time()
    first = store.ready(now, set(), 10)
    assert [d.id for d in first] == ["d0", "d1", "d2"]
    assert [d.id for d in store.ready(now, {"o/r#0"}, 10)] == ["d1", "d2"]
    assert [d.id for d in store.ready(now, set(), 1)] == ["d0"]

    store.retry(first[0].seq, 1, now + 60, "boom")  # d0 waits: the rest of its key waits too
    assert [d.id for d in store.ready(now, set(), 10)] == ["d1", "d2"]
    assert store.next_due(now, {"o/r#1", "o/r#2"}) == now + 60  # the others are busy
    store.finish([first[1].seq])
    assert [d.id for d in store.ready(now, set(), 10)] == ["d2", "d4"]  # in arrival order
    assert store.depth() == 299

    assert store.put("d1", "issues", "o/r#1", b"{}") is False  # seen before: deduplicated
    store.prune(time.time() + 1)  # finished ones go, with their bodies
    assert store.put("d1", "issues", "o/r#1", b"{}") is True
    store.close()


def _ready_cost(store: DeliveryStore, now: float) -> tuple[int, list[str]]:
    """SQLite virtual-machine steps one `ready` takes: a measure of work, not of time."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    store._db.set_progress_handler(count, 1)
    try:
        found = [d.id for d in store.ready(now, {"busy#1"}, 4)]
    finally:
        store._db.set_progress_handler(None, 1)
    return steps, found


def test_finding_ready_work_costs_the_same_at_any_backlog(tmp_path: Path) -> None:
    """A hot key with a long tail, keys waiting for retries, a busy key: choosing costs no
    more with 20,000 pending than with 10."""
    clock = Clock()
    costs = []
    for backlog in (10, 20_000):
        store = DeliveryStore(str(tmp_path / f"q{backlog}.db"), now=clock)
        rows = [(f"busy-{i}", "issues", "busy#1", b"{}") for i in range(backlog)]
        rows += [(f"late-{i}", "issues", f"late#{i}", b"{}") for i in range(backlog)]
        store.put_many(rows)
        for delivery in store.ready(clock(), {"busy#1"}, backlog):  # all retry in an hour
            store.retry(delivery.seq, 1, clock() + 3600, "GitHub unreachable")
        store.put_many([("fresh", "issues", "fresh#1", b"{}")])
        costs.append(_ready_cost(store, clock()))
        assert store.depth() == 2 * backlog + 1
        store.close()
    (small, found_small), (large, found_large) = costs
    assert found_small == found_large == ["fresh"]
    assert large <= small * 1.5, (small, large)


def test_the_queue_is_rebuilt_on_reopen(tmp_path: Path) -> None:
    clock = Clock()
    path = str(tmp_path / "q.db")
    store = DeliveryStore(path, now=clock)
    store.put_many([(f"a{i}", "issues", "o/r#1", b"{}") for i in range(3)])
    store.put_many([(f"b{i}", "issues", "o/r#2", b"{}") for i in range(3)])
    a0, b0 = store.ready(clock(), (), 2)
    store.finish([a0.seq])
    store.retry(b0.seq, 2, clock() + 30, "boom")
    dead = store.ready(clock(), (), 2)[0]
    assert dead.id == "a1"
    store.bury(dead.seq, 6, "gave up")
    store.close()

    again = DeliveryStore(path, now=clock)
    assert (again.depth(), again.dead_count(), again.recent_dead()) == (4, 1, ["a1"])
    assert [d.id for d in again.ready(clock(), (), 5)] == ["a2"]  # b0 waits for its retry
    assert again.next_due(clock(), {"o/r#1"}) == clock() + 30
    clock.now += 31
    assert [(d.id, d.attempts) for d in again.ready(clock(), (), 5)] == [("a2", 0), ("b0", 2)]
    assert again.put("a0", "issues", "o/r#1", b"{}") is False  # still deduplicated
    again.close()


def test_bodies_are_stored_compressed_and_dropped_once_handled(tmp_path: Path) -> None:
    store = DeliveryStore(str(tmp_path / "q.db"))
    body = b'{"action":"opened","repository":{"full_name":"o/r"},"text":"' + b"ab" * 5000 + b'"}'
    store.put_many([("d1", "issues", "k1", body), ("d2", "issues", "k2", body)])
    stored = dict(store._db.execute("SELECT seq, length(body) FROM bodies"))
    assert len(stored) == 2 and all(size < len(body) / 10 for size in stored.values())
    one, two = store.ready(time.time(), (), 2)
    assert one.body == body  # read back whole
    store.finish([one.seq])
    store.bury(two.seq, 6, "no")
    kept = [seq for (seq,) in store._db.execute("SELECT seq FROM bodies")]
    assert kept == [two.seq]  # the dead letter keeps its body, for a look or a redelivery
    store.close()


def test_both_body_formats_round_trip(tmp_path: Path) -> None:
    """Rows written by the zlib version (FORMAT_DICT_1) still read after the move to zstd
    (FORMAT_DICT_2), as do raw JSON rows of before either."""
    body = b'{"action":"opened","repository":{"full_name":"o/r"},"text":"' + b"xy" * 3000 + b'"}'
    packer = zlib.compressobj(1, zdict=DICTIONARY)
    old = FORMAT_DICT_1 + packer.compress(body) + packer.flush()
    new = pack(body)
    assert new[:1] == FORMAT_DICT_2 and len(new) < len(body) / 10
    assert unpack(old) == unpack(new) == unpack(body) == body
    path = str(tmp_path / "q.db")
    store = DeliveryStore(path)
    store.put_many([("z", "issues", "k2", body)])
    store.put_many([("old", "issues", "k1", b"{}"), ("raw", "issues", "k3", b"{}")])
    with store._db:  # as an earlier version left them
        store._db.execute("UPDATE bodies SET body=? WHERE seq=2", (old,))
        store._db.execute("UPDATE bodies SET body=? WHERE seq=3", (body,))
    store.close()
    again = DeliveryStore(path)
    got = {d.id: d.body for d in again.ready(time.time(), (), 5)}
    assert got == {"z": body, "old": body, "raw": body}
    again.close()


async def test_retries_back_off_on_the_injected_clock_then_die(tmp_path: Path) -> None:
    clock = Clock()
    store = DeliveryStore(str(tmp_path / "q.db"), now=clock)
    tries: list[tuple[str, float]] = []
    ran = asyncio.Event()

    async def handler(delivery) -> None:  # type: ignore[no-untyped-def]
        tries.append((delivery.id, clock()))
        ran.set()
        if delivery.id == "later":
            raise RetryLater(clock() + 600, "rate limited")
        raise RuntimeError("GitHub is down")

    worker = Worker(store, handler, max_attempts=3, retry_base=10.0, now=clock)
    worker.start()
    try:
        store.put("d1", "issues", "k", b"{}")
        store.put("later", "issues", "other", b"{}")
        worker.notify()
        for _ in range(3):
            await asyncio.wait_for(ran.wait(), 5)
            ran.clear()
            await asyncio.sleep(0)
            while len(tries) < 2:
                await asyncio.wait_for(ran.wait(), 5)
                ran.clear()
            due = store.next_due(clock())
            assert due is not None and due > clock()  # nothing runs before its time...
            clock.now = due  # ...which the test moves, instead of waiting for it
            worker.notify()
            if len([t for t in tries if t[0] == "d1"]) == 3:
                break
        await worker.wait_idle(5)
    finally:
        await worker.stop()
    d1 = [at for i, at in tries if i == "d1"]
    gaps = [b - a for a, b in itertools.pairwise(d1)]
    assert len(d1) == 3 and store.dead_count() == 1  # max_attempts tries, then a dead letter
    assert 5 <= gaps[0] <= 10 and 10 <= gaps[1] <= 20  # exponential, with jitter
    later = store._db.execute("SELECT attempts, status FROM deliveries WHERE id='later'")
    assert later.fetchone() == (0, "pending")  # a rate-limit wait is not a failed try
    store.close()


async def test_the_wal_stays_bounded_under_sustained_writes(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    store = DeliveryStore(str(path))
    writer = GroupCommit(store, lambda: None)
    largest = 0
    for _ in range(40):  # 40 batches of 100 incompressible 20 KB bodies: 80 MB written
        await asyncio.gather(
            *(writer.put(str(uuid.uuid4()), "issues", "k", os.urandom(20_000)) for _ in range(100))
        )
        largest = max(largest, os.path.getsize(f"{path}-wal"))
    await writer.close()
    assert store.depth() == 4000
    assert largest < HOLD_BYTES + 8 * 1024 * 1024, largest
    store.close()
    with sqlite3.connect(path) as db:  # everything written is there
        assert db.execute("SELECT COUNT(*) FROM bodies").fetchone()[0] == 4000
