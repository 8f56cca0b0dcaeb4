"""Post-ack work (bot/tasks.py): tracked, logged with its request, drained or closed at shutdown."""

from __future__ import annotations

import asyncio
import gc
import logging
import warnings

from bot.logs import RequestIdFilter, current_request_id, set_request_id
from bot.tasks import BackgroundTasks
from tests.conftest import Bot


async def test_spawned_work_keeps_the_spawners_request_id_and_is_counted() -> None:
    tasks, seen = BackgroundTasks(), []
    release = asyncio.Event()

    async def work(n: int) -> None:
        await release.wait()
        seen.append((n, current_request_id()))

    for n in range(3):
        set_request_id(f"r-{n}")  # as each ack's own context has its id
        tasks.spawn(work(n), name=f"work {n}")
    set_request_id(None)
    assert len(tasks) == 3  # in flight: /healthz, drain and shutdown see them
    release.set()
    assert await tasks.drain(1.0)
    assert sorted(seen) == [(0, "r-0"), (1, "r-1"), (2, "r-2")]
    assert len(tasks) == 0 and current_request_id() is None


async def test_a_failure_is_logged_with_its_request_id() -> None:
    tasks, records = BackgroundTasks(), []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("bot.tasks")
    logger.addHandler(handler)
    try:

        async def fails() -> None:
            raise ValueError("boom")

        set_request_id("r-fails")
        tasks.spawn(fails(), name="failing work")
        set_request_id(None)
        assert await tasks.drain(1.0)
    finally:
        logger.removeHandler(handler)
        set_request_id(None)
    failed = [r for r in records if "failing work" in r.getMessage()]
    assert len(failed) == 1 and failed[0].request_id == "r-fails"


async def test_close_cancels_what_outlives_the_grace_and_closes_unstarted_work() -> None:
    tasks, ran = BackgroundTasks(), []

    async def work(n: int) -> None:
        ran.append(n)
        await asyncio.sleep(60)

    coros = [work(n) for n in range(50)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a "never awaited" coroutine would fail the test
        for coro in coros:
            tasks.spawn(coro)
        await tasks.close(timeout=0)  # gives up at once: none has started yet
        gc.collect()
    assert tasks.closing and len(tasks) == 0 and await tasks.drain(0.1)
    assert all(c.cr_frame is None for c in coros)  # each closed, started or not


async def test_a_burst_of_commands_is_answered(bot: Bot) -> None:
    """Ack, then spawn: every command of a burst gets its reply."""
    acks = await asyncio.gather(
        *[
            bot.command("campaign 1", response_url=bot.slack.response_url(f"k{i}"))
            for i in range(30)
        ]
    )
    assert all(a.status == 200 for a in acks)
    await bot.settle()
    for i in range(30):
        assert "Spring promo" in bot.slack.texts(bot.replies(f"k{i}")[-1].args)
