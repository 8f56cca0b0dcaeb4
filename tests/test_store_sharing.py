"""Store.read_shared: identical reads asked for at once share one call on the store thread,
and none asked for after a write is queued joins a read from before it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from store import Store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = Store(tmp_path / "bot.db")
    yield s
    await s.aclose()


def pause_row(store: Store, campaign_id: int) -> int:
    return store.audit.record(
        action="pause", outcome="ok", user_id="U1", channel_id="C1", campaign_id=campaign_id
    )


class CountedReads:
    """The campaign's history, counting how often the store thread really read it."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.calls = 0
        self.gate = threading.Event()  # holds the store thread inside the read
        self.gate.set()

    def history(self, campaign_id: int) -> list[Any]:
        self.calls += 1
        self.gate.wait(5)
        return self.store.audit.history(campaign_id=campaign_id, limit=5)


async def test_reads_asked_for_at_once_share_one_call(store: Store) -> None:
    await store.run(pause_row, store, 7)
    reads = CountedReads(store)
    answers = await asyncio.gather(*(store.read_shared(reads.history, 7) for _ in range(50)))
    assert reads.calls == 1
    assert all(a is answers[0] for a in answers) and len(answers[0]) == 1
    other = await store.read_shared(reads.history, 8)  # other arguments: a read of its own
    assert other == [] and reads.calls == 2
    # Nothing is kept once answered: the next caller reads again.
    await store.read_shared(reads.history, 7)
    assert reads.calls == 3


async def test_a_read_asked_for_after_a_write_sees_the_write(store: Store) -> None:
    reads = CountedReads(store)
    reads.gate.clear()  # the first read waits on the thread, so the others queue up
    before = asyncio.ensure_future(store.read_shared(reads.history, 7))
    joined = asyncio.ensure_future(store.read_shared(reads.history, 7))
    await asyncio.sleep(0)
    write = asyncio.ensure_future(store.run(pause_row, store, 7))
    await asyncio.sleep(0)
    after = asyncio.ensure_future(store.read_shared(reads.history, 7))
    reads.gate.set()
    old, old_too, _, new = await asyncio.gather(before, joined, write, after)
    assert old == [] and old_too is old  # asked for before the write: answered as it was
    assert len(new) == 1  # queued after the write, on the same thread: sees it
    assert reads.calls == 2


async def test_a_cancelled_caller_leaves_the_others_their_answer(store: Store) -> None:
    reads = CountedReads(store)
    reads.gate.clear()
    first = asyncio.ensure_future(store.read_shared(reads.history, 7))
    second = asyncio.ensure_future(store.read_shared(reads.history, 7))
    await asyncio.sleep(0)
    first.cancel()
    reads.gate.set()
    assert await second == []
    assert first.cancelled() and reads.calls == 1


async def test_a_failed_read_reaches_every_caller_and_is_not_kept(store: Store) -> None:
    calls = []

    def broken(campaign_id: int) -> list[Any]:
        calls.append(campaign_id)
        raise RuntimeError("disk on fire")

    results = await asyncio.gather(
        *(store.read_shared(broken, 7) for _ in range(3)), return_exceptions=True
    )
    assert [str(r) for r in results] == ["disk on fire"] * 3 and calls == [7]
    with pytest.raises(RuntimeError):
        await store.read_shared(broken, 7)
    assert calls == [7, 7]
