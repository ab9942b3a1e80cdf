"""The delivery store's choice of what runs next: per key in order, due, not busy."""

from __future__ import annotations

import time
from pathlib import Path

from app.service.queue import DeliveryStore


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
