"""The durable delivery queue (SPEC 2): SQLite rows written before the 202 (app/service/worker.py
runs them in key order).

A delivery is `pending` until a handler finishes it (`done`) or runs out of tries (`dead`).
Only the earliest pending delivery of an ordering key (its head) may run, so what the worker
chooses from is one head per key, with the time it may next run: kept in memory as a heap
ordered by that time and rebuilt from the rows at start. Finding the next ready delivery costs
a heap pop whatever the backlog; moving a key's head costs one probe of a partial index.

Which deliveries are running is held in memory only: after a crash every pending row simply runs
again, which is what at-least-once means.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import logging
import os
import sqlite3
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import zstandard

from app.service.payload_dictionary import DICTIONARY

log = logging.getLogger(__name__)

Now = Callable[[], float]

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
-- Earlier versions indexed every row by status; partial indexes cost nothing for finished rows.
DROP INDEX IF EXISTS deliveries_order;
DROP INDEX IF EXISTS deliveries_due;
CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries (key, seq) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS deliveries_dead ON deliveries (seq) WHERE status = 'dead';
-- Bodies apart, compressed, deleted when their delivery is finished (dead letters keep theirs).
CREATE TABLE IF NOT EXISTS bodies (seq INTEGER PRIMARY KEY, body BLOB NOT NULL);
"""

# The WAL is folded back into the database in a thread (GroupCommit), so a checkpoint's copy and
# fsyncs never stall the event loop: in the background once the WAL passes CHECKPOINT_BYTES, and
# with commits held for one checkpoint once it passes HOLD_BYTES (under steady commits a passive
# checkpoint never catches the moving end, and the WAL restarts only once one has). After a
# restart SQLite truncates the file to JOURNAL_LIMIT, so its size tells how far it has grown.
# WAL_PAGES is the last resort: the writing connection checkpoints itself, on the event loop.
CHECKPOINT_BYTES = 8 * 1024 * 1024
HOLD_BYTES = 32 * 1024 * 1024
JOURNAL_LIMIT = CHECKPOINT_BYTES
WAL_PAGES = 32768  # 128 MB of 4 KB pages
# zstd level 1 with the same preset dictionary (GitHub's payload keys and URLs) as raw content:
# a 10 KB delivery becomes about 1.6 KB for ~25 µs, half zlib's time for a smaller result.
COMPRESS_LEVEL = 1
PRUNE_BATCH = 2000
# A stored body's first byte says how it was written: `{` raw JSON (earlier versions),
# FORMAT_DICT_1 zlib with DICTIONARY (read, no longer written), FORMAT_DICT_2 zstd with it.
FORMAT_DICT_1 = b"\x01"
FORMAT_DICT_2 = b"\x02"

_ZSTD_DICT = zstandard.ZstdCompressionDict(DICTIONARY, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
_ZSTD_DICT.precompute_compress(level=COMPRESS_LEVEL)
# zstd's (de)compressors may not be shared between threads at once: one of each per thread.
_local = threading.local()


def _compressor() -> zstandard.ZstdCompressor:
    packer: zstandard.ZstdCompressor | None = getattr(_local, "packer", None)
    if packer is None:
        packer = _local.packer = zstandard.ZstdCompressor(
            level=COMPRESS_LEVEL, dict_data=_ZSTD_DICT, write_checksum=False
        )
    return packer


def _decompressor() -> zstandard.ZstdDecompressor:
    unpacker: zstandard.ZstdDecompressor | None = getattr(_local, "unpacker", None)
    if unpacker is None:
        unpacker = _local.unpacker = zstandard.ZstdDecompressor(dict_data=_ZSTD_DICT)
    return unpacker


def pack(body: bytes) -> bytes:
    return FORMAT_DICT_2 + _compressor().compress(body)


def pack_all(bodies: list[bytes]) -> list[bytes]:
    packer = _compressor()
    return [FORMAT_DICT_2 + packer.compress(body) for body in bodies]


def unpack(stored: bytes) -> bytes:
    head = stored[:1]
    if head == FORMAT_DICT_2:
        return _decompressor().decompress(stored[1:])
    if head == FORMAT_DICT_1:
        unpacker = zlib.decompressobj(zdict=DICTIONARY)
        return unpacker.decompress(stored[1:]) + unpacker.flush()
    return stored


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


P = ParamSpec("P")
R = TypeVar("R")


def _locked(method: Callable[P, R]) -> Callable[P, R]:
    """One connection, two threads (the loop, and intake's writer): one statement sequence at
    a time, so neither reads inside the other's open transaction."""

    @functools.wraps(method)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        store: Any = args[0]
        with store._lock:
            return method(*args, **kwargs)

    return run


class DeliveryStore:
    """The SQLite side: every write is one short transaction. Intake's batches are written from
    a thread (`write_batch`); what runs next is held in memory and touched only on the event
    loop. Counts are kept, not counted, so `/healthz` costs the same at any depth."""

    def __init__(self, path: str, *, now: Now = time.time) -> None:
        self._path = path
        self._now = now
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA busy_timeout=5000")
        # Checkpoints run in a thread on a connection of their own (SQLite lets go of the GIL).
        self._checkpoint_db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._checkpoint_db.execute("PRAGMA busy_timeout=5000")
        self._db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a committed row is in the OS's hands before the 202, so it survives a
        # killed process; only a power loss can take the last commits (fsync at checkpoints).
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(f"PRAGMA wal_autocheckpoint={WAL_PAGES}")
        self._db.execute(f"PRAGMA journal_size_limit={JOURNAL_LIMIT}")
        self._db.executescript(_SCHEMA)
        # key -> (seq, next_at) of its head; `_due` holds (next_at, seq, key), stale entries
        # (a head that moved or was rescheduled) are dropped when they surface.
        self._heads: dict[str, tuple[int, float]] = {}
        self._head_keys: dict[int, str] = {}
        self._due: list[tuple[float, int, str]] = []
        self._pending = 0
        self._dead = 0
        self._next_seq = 1
        self._recent_dead: deque[str] = deque(maxlen=10)
        self._lock = threading.RLock()
        self._load()
        # Finished rows of an earlier version kept their bodies until a prune.
        self._db.execute(
            "DELETE FROM bodies WHERE seq IN (SELECT seq FROM deliveries WHERE status='done')"
        )

    def _load(self) -> None:
        # SQLite takes the bare columns of a MIN() aggregate from the row holding the minimum.
        rows = self._db.execute(
            "SELECT key, MIN(seq), next_at FROM deliveries WHERE status='pending' GROUP BY key"
        ).fetchall()
        for key, seq, next_at in rows:
            self._set_head(key, seq, next_at)
        self._pending = self._db.execute(
            "SELECT COUNT(*) FROM deliveries WHERE status='pending'"
        ).fetchone()[0]
        self._dead = self._db.execute(
            "SELECT COUNT(*) FROM deliveries WHERE status='dead'"
        ).fetchone()[0]
        # AUTOINCREMENT: never reuse a number, even one whose row was pruned.
        used = self._db.execute(
            "SELECT MAX(n) FROM (SELECT MAX(seq) AS n FROM deliveries"
            " UNION ALL SELECT seq FROM sqlite_sequence WHERE name='deliveries')"
        ).fetchone()[0]
        self._next_seq = (used or 0) + 1
        recent = self._db.execute(
            "SELECT id FROM deliveries WHERE status='dead' ORDER BY seq DESC LIMIT 10"
        ).fetchall()
        self._recent_dead.extend(r[0] for r in reversed(recent))

    def close(self) -> None:
        self._checkpoint_db.close()
        self._db.close()

    @property
    def path(self) -> str:
        return self._path

    # -- intake

    def put(self, delivery_id: str, event: str, key: str, body: bytes) -> bool:
        """Store a new delivery; False when this delivery id was seen before."""
        return self.put_many([(delivery_id, event, key, body)])[0]

    def put_many(self, rows: list[tuple[str, str, str, bytes]]) -> list[bool]:
        """One transaction for many deliveries: the commit is what costs, so share it."""
        added, _ = self.put_batch(rows)
        return added

    def put_batch(
        self, rows: list[tuple[str, str, str, bytes]]
    ) -> tuple[list[bool], bool]:
        """`put_many`, also saying whether a key got a head (work the worker may start)."""
        added, new, now = self.write_batch(rows)
        return added, self.note_new(new, now)

    def write_batch(
        self, rows: list[tuple[str, str, str, bytes]]
    ) -> tuple[list[bool], list[tuple[str, int]], float]:
        """Compress and store, in one transaction; safe from a thread. Returns which rows were
        new, their (key, seq) and the time stamped on them, for `note_new` on the loop."""
        return self._store_packed(rows, pack_all([row[3] for row in rows]))

    @_locked
    def _store_packed(
        self, rows: list[tuple[str, str, str, bytes]], packed: list[bytes]
    ) -> tuple[list[bool], list[tuple[str, int]], float]:
        now = self._now()
        # Numbered here, so both tables are written by one executemany each.
        first = self._next_seq
        self._next_seq += len(rows)
        seqs = range(first, first + len(rows))
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            stored = db.executemany(
                "INSERT OR IGNORE INTO deliveries (seq, id, event, key, next_at, received_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(q, r[0], r[1], r[2], now, now) for q, r in zip(seqs, rows, strict=True)],
            ).rowcount
            if stored == len(rows):
                kept = set(seqs)
            else:  # a redelivery (or the same id twice in the batch) was ignored
                kept = {
                    q
                    for (q,) in db.execute(
                        "SELECT seq FROM deliveries WHERE seq BETWEEN ? AND ?",
                        (first, first + len(rows) - 1),
                    )
                }
            db.executemany(
                "INSERT INTO bodies (seq, body) VALUES (?, ?)",
                [(q, body) for q, body in zip(seqs, packed, strict=True) if q in kept],
            )
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        new = [(r[2], q) for q, r in zip(seqs, rows, strict=True) if q in kept]
        return [q in kept for q in seqs], new, now

    def note_new(self, new: list[tuple[str, int]], now: float) -> bool:
        """On the loop, after `write_batch`: count the new rows, and make each the head of its
        key if the key had none (if the worker moved a head meanwhile, it saw these rows)."""
        woke = False
        for key, seq in new:
            self._pending += 1
            if key not in self._heads:
                self._set_head(key, seq, now)
                woke = True
        return woke

    # -- choosing what runs

    def _set_head(self, key: str, seq: int, at: float) -> None:
        old = self._heads.get(key)
        if old is not None:
            self._head_keys.pop(old[0], None)
        self._heads[key] = (seq, at)
        self._head_keys[seq] = key
        heapq.heappush(self._due, (at, seq, key))

    def _drop_head(self, key: str) -> None:
        old = self._heads.pop(key, None)
        if old is not None:
            self._head_keys.pop(old[0], None)

    def _walk(
        self, busy: Collection[str], want: int, now: float | None
    ) -> list[tuple[float, int, str]]:
        """Up to `want` live heads of keys not `busy`, earliest first (only due ones when `now`
        is given); the heap is left as it was, less its stale entries. Costs a pop per result
        and per busy key, whatever the backlog."""
        heap = self._due
        taken: list[tuple[float, int, str]] = []
        found: list[tuple[float, int, str]] = []
        while heap and len(found) < want:
            entry = heap[0]
            at, seq, key = entry
            if self._heads.get(key) != (seq, at):
                heapq.heappop(heap)
                continue
            if now is not None and at > now:
                break
            taken.append(heapq.heappop(heap))
            if key not in busy:
                found.append(entry)
        for entry in taken:
            heapq.heappush(heap, entry)
        return found

    @_locked
    def ready(self, now: float, busy: Collection[str], limit: int) -> list[Delivery]:
        """Up to `limit` deliveries that may run now: each the head of its key, due, and of a
        key not `busy`; the earliest due first."""
        heads = self._walk(busy, limit, now)
        if not heads:
            return []
        marks = ",".join("?" * len(heads))
        seqs = [seq for _, seq, _ in heads]
        rows = {
            r[0]: r
            for r in self._db.execute(
                "SELECT d.seq, d.id, d.event, d.key, d.attempts, b.body FROM deliveries d"
                f" JOIN bodies b ON b.seq = d.seq WHERE d.seq IN ({marks})",
                seqs,
            )
        }
        return [
            Delivery(s, i, e, k, unpack(b), a) for s, i, e, k, a, b in (rows[q] for q in seqs)
        ]

    def next_due(self, now: float, busy: Collection[str] = ()) -> float | None:
        """When the earliest head of a key not `busy` may run (at or before `now` when one is
        ready already), or None when no key waits."""
        del now  # the answer does not depend on it; kept for the callers' reading
        found = self._walk(busy, 1, None)
        return found[0][0] if found else None

    # -- outcomes

    def _key_of(self, seq: int) -> str:
        key = self._head_keys.get(seq)
        if key is None:  # not a head (a caller finishing out of order): ask the row
            key = self._db.execute("SELECT key FROM deliveries WHERE seq=?", (seq,)).fetchone()[0]
        return key

    def _advance(self, key: str) -> None:
        """The key's head is finished or dead: its next pending delivery becomes the head."""
        row = self._db.execute(
            "SELECT seq, next_at FROM deliveries WHERE key=? AND status='pending'"
            " ORDER BY seq LIMIT 1",
            (key,),
        ).fetchone()
        if row is None:
            self._drop_head(key)
        else:
            self._set_head(key, row[0], row[1])

    @_locked
    def finish(self, seqs: list[int]) -> None:
        """Handled: the row stays (its id deduplicates a redelivery), the body goes."""
        keys = [self._key_of(s) for s in seqs]
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            changed = 0
            for seq in seqs:
                changed += db.execute(
                    "UPDATE deliveries SET status='done' WHERE seq=? AND status='pending'", (seq,)
                ).rowcount
                db.execute("DELETE FROM bodies WHERE seq=?", (seq,))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        self._pending -= changed
        for key in dict.fromkeys(keys):
            self._advance(key)

    @_locked
    def retry(self, seq: int, attempts: int, next_at: float, error: str) -> None:
        self._db.execute(
            "UPDATE deliveries SET attempts=?, next_at=?, error=? WHERE seq=?",
            (attempts, next_at, error[:2000], seq),
        )
        key = self._key_of(seq)
        if self._heads.get(key, (None,))[0] == seq:
            self._set_head(key, seq, next_at)

    @_locked
    def bury(self, seq: int, attempts: int, error: str) -> None:
        key = self._key_of(seq)
        changed = self._db.execute(
            "UPDATE deliveries SET status='dead', attempts=?, error=? WHERE seq=?"
            " AND status='pending'",
            (attempts, error[:2000], seq),
        ).rowcount
        self._pending -= changed
        self._dead += changed
        if changed:
            self._recent_dead.append(
                self._db.execute("SELECT id FROM deliveries WHERE seq=?", (seq,)).fetchone()[0]
            )
        self._advance(key)

    # -- reading

    def depth(self) -> int:
        return self._pending

    def dead_count(self) -> int:
        return self._dead

    def recent_dead(self) -> list[str]:
        """The ids of the last ten dead letters, newest first, from memory."""
        return list(reversed(self._recent_dead))

    @_locked
    def dead_letters(self, limit: int = 20) -> list[dict[str, object]]:
        rows = self._db.execute(
            "SELECT id, event, attempts, error FROM deliveries WHERE status='dead'"
            " ORDER BY seq DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [{"id": r[0], "event": r[1], "attempts": r[2], "error": r[3]} for r in rows]

    def wal_bytes(self) -> int:
        try:
            return os.path.getsize(self._path + "-wal")
        except OSError:
            return 0

    # -- upkeep

    @_locked
    def prune_cutoff(self, older_than: float) -> int:
        """The first row received at or after `older_than`: rows are in arrival order, so
        every finished row before it may go. The walk covers only the old rows."""
        row = self._db.execute(
            "SELECT seq FROM deliveries WHERE received_at >= ? ORDER BY seq LIMIT 1",
            (older_than,),
        ).fetchone()
        if row is not None:
            return int(row[0])
        last = self._db.execute("SELECT MAX(seq) FROM deliveries").fetchone()[0]
        return (last or 0) + 1

    @_locked
    def prune_before(self, cutoff: int, batch: int = PRUNE_BATCH) -> int:
        """Drop up to `batch` finished rows before `cutoff` (their ids no longer deduplicate);
        returns how many went."""
        return self._db.execute(
            "DELETE FROM deliveries WHERE seq IN (SELECT seq FROM deliveries"
            " WHERE seq < ? AND status='done' ORDER BY seq LIMIT ?)",
            (cutoff, batch),
        ).rowcount

    def prune(self, older_than: float) -> None:
        cutoff = self.prune_cutoff(older_than)
        while self.prune_before(cutoff) == PRUNE_BATCH:
            pass

    def checkpoint_passive(self) -> None:
        """Fold back what the WAL holds now; for a thread (see GroupCommit)."""
        self._checkpoint_db.execute("PRAGMA wal_checkpoint(PASSIVE)")


class GroupCommit:
    """Deliveries that arrive while the previous batch is written share one commit.

    Each caller still gets its own answer only after its row is committed, so the 202 is never
    sent for a delivery that is not durable. A batch is compressed and written in a thread (zstd
    and SQLite let go of the GIL), so the event loop goes on reading requests meanwhile.
    `on_ready` is called only when a key got a head, not on every commit: a delivery queued
    behind its key wakes nobody.
    """

    def __init__(self, store: DeliveryStore, on_ready: Callable[[], None]) -> None:
        self._store = store
        self._on_ready = on_ready
        self._batch: list[tuple[tuple[str, str, str, bytes], asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._checkpoint: asyncio.Future[None] | None = None

    async def put(self, delivery_id: str, event: str, key: str, body: bytes) -> bool:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._batch.append(((delivery_id, event, key, body), future))
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._write())
        return await future

    async def _write(self) -> None:
        while self._batch:
            wal = self._store.wal_bytes()
            if wal > HOLD_BYTES:
                # Commits wait (the loop does not) for a checkpoint that reaches the WAL's end;
                # background ones have copied most of it, so this one is short.
                if self._checkpoint is not None:
                    await asyncio.gather(self._checkpoint, return_exceptions=True)
                await asyncio.to_thread(self._store.checkpoint_passive)
            elif wal > CHECKPOINT_BYTES and (self._checkpoint is None or self._checkpoint.done()):
                self._checkpoint = asyncio.ensure_future(
                    asyncio.to_thread(self._store.checkpoint_passive)
                )
                self._checkpoint.add_done_callback(_log_failure)
            batch, self._batch = self._batch, []
            rows = [row for row, _ in batch]
            try:
                results, new, now = await asyncio.to_thread(self._store.write_batch, rows)
                woke = self._store.note_new(new, now)
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), added in zip(batch, results, strict=True):
                if not future.done():  # the client may have gone: its row is stored all the same
                    future.set_result(added)
            if woke:
                self._on_ready()

    async def close(self) -> None:
        """Let a running write and checkpoint end before the store closes."""
        for task in (self._writer, self._checkpoint):
            if task is not None:
                await asyncio.gather(task, return_exceptions=True)


def _log_failure(future: asyncio.Future[None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.warning("checkpoint failed: %s", future.exception())


async def maintain(
    store: DeliveryStore,
    *,
    interval: float = 60.0,
    keep_done: float = 7 * 86400,
    wal_limit: int = CHECKPOINT_BYTES,
) -> None:
    """Every `interval`: drop finished rows older than `keep_done` in small batches (each a
    short transaction on the loop, so intake waits milliseconds at most), and fold back a WAL
    left over `wal_limit` by a burst (intake's own checkpoints run only while it writes)."""
    while True:
        await asyncio.sleep(interval)
        try:
            cutoff = store.prune_cutoff(time.time() - keep_done)
            while store.prune_before(cutoff) == PRUNE_BATCH:
                await asyncio.sleep(0)
            if store.wal_bytes() > wal_limit:  # after a burst, with nothing written since
                await asyncio.to_thread(store.checkpoint_passive)
        except sqlite3.Error:
            log.warning("queue maintenance failed", exc_info=True)
