"""The durable delivery queue (SPEC 2): SQLite rows written before the 202 (app/worker.py runs
them in key order).

A delivery is `pending` until a handler finishes it (`done`) or runs out of tries (`dead`).
Which deliveries run is held in memory only: after a crash every pending row simply runs again,
which is what at-least-once means.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    event TEXT NOT NULL,
    key TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL DEFAULT 0,
    error TEXT,
    received_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_order ON deliveries (status, seq);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, next_at);
-- Bodies apart: finishing a delivery then rewrites a small row, not its whole payload.
CREATE TABLE IF NOT EXISTS bodies (seq INTEGER PRIMARY KEY, body BLOB NOT NULL);
"""

# The first pending delivery of each key, ready to run: later ones of a key wait their turn.
# Pending deliveries in arrival order; `ready` keeps the first of each key (the rest of a key
# wait their turn), so a backlog costs a walk of the index, not a query per row.
_PENDING = "SELECT seq, id, event, key, attempts, next_at FROM deliveries WHERE status = 'pending'"
_PENDING += " ORDER BY seq"
MAX_SCAN = 20_000


class RetryLater(Exception):
    """Raised by a handler that cannot go on before `at` (a rate limit's reset): the delivery
    runs again then, and the wait does not count as a failed try."""

    def __init__(self, at: float, reason: str) -> None:
        super().__init__(reason)
        self.at = at


@dataclass(frozen=True)
class Delivery:
    seq: int
    id: str
    event: str
    key: str
    body: bytes
    attempts: int


class DeliveryStore:
    """The SQLite side: every method is one short transaction."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._db = self._connect()
        self._db.execute("PRAGMA journal_mode=WAL")
        # Checkpoints are run by a thread (GroupCommit), so a request never waits for one.
        self._db.execute("PRAGMA wal_autocheckpoint=0")
        # WAL + NORMAL: a committed row survives a killed process; fsync happens at checkpoints.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA busy_timeout=5000")  # the maintenance thread writes too
        return db

    def close(self) -> None:
        self._db.close()

    def put(self, delivery_id: str, event: str, key: str, body: bytes) -> bool:
        """Store a new delivery; False when this delivery id was seen before."""
        return self.put_many([(delivery_id, event, key, body)])[0]

    def put_many(self, rows: list[tuple[str, str, str, bytes]]) -> list[bool]:
        """One transaction for many deliveries: the commit is what costs, so share it."""
        now = time.time()
        added = []
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for delivery_id, event, key, body in rows:
                cur = self._db.execute(
                    "INSERT OR IGNORE INTO deliveries (id, event, key, received_at)"
                    " VALUES (?, ?, ?, ?)",
                    (delivery_id, event, key, now),
                )
                added.append(cur.rowcount == 1)
                if cur.rowcount == 1:
                    self._db.execute(
                        "INSERT INTO bodies (seq, body) VALUES (?, ?)", (cur.lastrowid, body)
                    )
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        return added

    def checkpoint(self) -> None:
        """Fold the WAL into the database file; called off the event loop (see GroupCommit)."""
        with contextlib.closing(self._connect()) as db:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def ready(self, now: float, busy: set[str], limit: int) -> list[Delivery]:
        """Up to `limit` deliveries that may run now: each the earliest pending one of its key,
        due, and of a key not `busy`."""
        chosen: list[tuple[int, str, str, str, int]] = []
        seen = set(busy)
        cursor = self._db.execute(_PENDING)
        for seq, delivery_id, event, key, attempts, next_at in itertools.islice(cursor, MAX_SCAN):
            if key in seen:
                continue
            seen.add(key)
            if next_at <= now:
                chosen.append((seq, delivery_id, event, key, attempts))
                if len(chosen) >= limit:
                    break
        cursor.close()
        bodies = (
            dict(
                self._db.execute(
                    f"SELECT seq, body FROM bodies WHERE seq IN ({','.join('?' * len(chosen))})",
                    [c[0] for c in chosen],
                ).fetchall()
            )
            if chosen
            else {}
        )
        return [Delivery(s, i, e, k, bodies[s], a) for s, i, e, k, a in chosen]

    def next_due(self, now: float) -> float | None:
        """When the next delivery waiting for a retry becomes due. Deliveries that are due but
        wait for their key or a free slot are not counted: a finishing handler wakes the loop."""
        row = self._db.execute(
            "SELECT MIN(next_at) FROM deliveries WHERE status='pending' AND next_at > ?", (now,)
        )
        return row.fetchone()[0]

    def finish(self, seqs: list[int]) -> None:
        # The id stays for deduplication; the body goes at the next prune, off the hot path.
        self._db.execute("BEGIN IMMEDIATE")
        self._db.executemany(
            "UPDATE deliveries SET status='done' WHERE seq=?", [(s,) for s in seqs]
        )
        self._db.execute("COMMIT")

    def retry(self, seq: int, attempts: int, next_at: float, error: str) -> None:
        self._db.execute(
            "UPDATE deliveries SET attempts=?, next_at=?, error=? WHERE seq=?",
            (attempts, next_at, error[:2000], seq),
        )

    def bury(self, seq: int, attempts: int, error: str) -> None:
        self._db.execute(
            "UPDATE deliveries SET status='dead', attempts=?, error=? WHERE seq=?",
            (attempts, error[:2000], seq),
        )

    def depth(self) -> int:
        return self._db.execute(
            "SELECT COUNT(*) FROM deliveries WHERE status='pending'"
        ).fetchone()[0]

    def dead_letters(self, limit: int = 20) -> list[dict[str, object]]:
        rows = self._db.execute(
            "SELECT id, event, attempts, error FROM deliveries WHERE status='dead'"
            " ORDER BY seq DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [{"id": r[0], "event": r[1], "attempts": r[2], "error": r[3]} for r in rows]

    def dead_count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM deliveries WHERE status='dead'").fetchone()[0]

    def prune(self, older_than: float) -> None:
        """Drop the bodies of finished deliveries, and their rows once `older_than`. Runs in a
        thread on its own connection (see GroupCommit.maintain)."""
        with contextlib.closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "DELETE FROM bodies WHERE seq IN (SELECT seq FROM deliveries WHERE status='done')"
            )
            db.execute(
                "DELETE FROM deliveries WHERE status='done' AND received_at < ?", (older_than,)
            )
            db.execute("COMMIT")


class GroupCommit:
    """Deliveries that arrive in the same turn of the event loop share one commit.

    Each caller still gets its own answer only after its row is committed, so the 202 is never
    sent for a delivery that is not durable.
    """

    def __init__(self, store: DeliveryStore, on_commit: Callable[[], None]) -> None:
        self._store = store
        self._on_commit = on_commit
        self._batch: list[tuple[tuple[str, str, str, bytes], asyncio.Future[bool]]] = []
        self._last_commit = 0.0

    async def put(self, delivery_id: str, event: str, key: str, body: bytes) -> bool:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._batch.append(((delivery_id, event, key, body), future))
        if len(self._batch) == 1:
            loop.call_soon(self._commit)
        return await future

    def _commit(self) -> None:
        batch, self._batch = self._batch, []
        try:
            results = self._store.put_many([row for row, _ in batch])
        except Exception as exc:
            for _, future in batch:
                future.set_exception(exc)
            return
        self._last_commit = time.monotonic()
        for (_, future), added in zip(batch, results, strict=True):
            future.set_result(added)
        self._on_commit()

    async def maintain(self, interval: float = 1.0, keep_done: float = 7 * 86400) -> None:
        """In a thread, off the event loop: fold the WAL into the database;
        every minute, drop finished deliveries' bodies (and their ids after `keep_done`)."""
        last_prune = last_checkpoint = time.monotonic()
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            # While deliveries pour in, maintenance would compete with them for the CPU:
            # it waits for a quiet second, or at most 30 s.
            if now - self._last_commit < 1.0 and now - last_checkpoint < 30.0:
                continue
            try:
                if now - last_prune > 60:
                    await asyncio.to_thread(self._store.prune, time.time() - keep_done)
                    last_prune = now
                await asyncio.to_thread(self._store.checkpoint)
                last_checkpoint = now
            except sqlite3.Error:
                log.warning("queue maintenance failed", exc_info=True)
