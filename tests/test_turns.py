"""Post-ack work resumes in turns (bot/tasks.py): acks queued behind a crowd get in between."""

from __future__ import annotations

import asyncio
import gc
import logging
import warnings

from bot.logs import RequestIdFilter, current_request_id, set_request_id
from bot.tasks import IN_CROWD, BackgroundTasks, Turnstile
from tests.conftest import Bot


async def test_one_waiter_resumes_per_loop_pass() -> None:
    gate, order = Turnstile(), []

    async def worker(n: int) -> None:
        IN_CROWD.set(True)  # as in spawned work
        await gate.turn()
        order.append(f"w{n}")

    tasks = [asyncio.create_task(worker(n)) for n in range(4)]
    await asyncio.sleep(0)  # every worker is now waiting for its turn
    assert len(gate) == 4
    loop = asyncio.get_running_loop()

    def marker(k: int) -> None:  # stands for an ack: scheduled now, runs next pass
        order.append(f"ack{k}")
        if k < 3:
            loop.call_soon(marker, k + 1)

    loop.call_soon(marker, 0)
    await asyncio.gather(*tasks)
    assert [x for x in order if x.startswith("w")] == ["w0", "w1", "w2", "w3"]  # FIFO
    # Without turns all four workers would run in one pass, before the second marker.
    assert order.index("w3") > order.index("ack2"), order


async def test_an_ack_never_waits_and_a_cancelled_waiter_loses_no_turn() -> None:
    gate = Turnstile()
    await asyncio.wait_for(gate.turn(), 0.1)  # not spawned work: at once, queue untouched
    assert len(gate) == 0
    IN_CROWD.set(True)
    first = asyncio.create_task(gate.turn())
    second = asyncio.create_task(gate.turn())
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.wait_for(second, 1.0)  # the cancelled one's turn passed on


async def test_spawned_work_takes_turns_and_a_never_started_one_is_closed() -> None:
    tasks, seen = BackgroundTasks(), []

    async def work() -> None:
        seen.append(IN_CROWD.get())

    tasks.spawn(work())  # as a listener does from its ack
    assert await tasks.drain(1.0)
    assert seen == [True] and IN_CROWD.get() is False  # the spawner's context is untouched
    never = work()
    task = tasks.spawn(never)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert never.cr_frame is None  # closed, so no "never awaited" warning


async def test_a_burst_is_answered_with_turns_on_the_dialer_and_store(bot: Bot) -> None:
    """The real wiring: the dialer client and the store take turns after an answer."""
    assert bot.services.dialer.wait_turn == bot.services.tasks.turnstile.turn
    assert bot.services.store.wait_turn == bot.services.tasks.turnstile.turn
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


async def test_queued_work_has_no_task_until_its_turn_and_keeps_the_queuers_context() -> None:
    """queue(): what a listener's post-ack work goes through (handlers/request.py)."""
    tasks, seen = BackgroundTasks(), []

    async def work(n: int) -> None:
        seen.append((n, current_request_id(), IN_CROWD.get()))

    before = len(asyncio.all_tasks())
    for n in range(3):
        set_request_id(f"r-{n}")  # as each ack's own context has its id
        tasks.queue(work(n), name=f"work {n}")
    set_request_id(None)
    assert len(asyncio.all_tasks()) == before  # nothing started yet: no task, no turn
    assert len(tasks) == 3  # but counted as in flight (healthz, drain, shutdown)
    assert await tasks.drain(1.0)
    assert seen == [(0, "r-0", True), (1, "r-1", True), (2, "r-2", True)]  # FIFO
    assert len(tasks) == 0 and current_request_id() is None and IN_CROWD.get() is False


async def test_queued_and_spawned_work_share_one_queue_of_turns() -> None:
    tasks, order = BackgroundTasks(), []

    async def work(label: str) -> None:
        order.append(label)

    tasks.queue(work("q1"))
    tasks.spawn(work("s1"))  # a task at once, whose work waits for its turn
    await asyncio.sleep(0)  # the spawned task is now waiting in line, after q1
    tasks.queue(work("q2"))
    assert await tasks.drain(1.0)
    assert order == ["q1", "s1", "q2"]


async def test_a_queued_failure_is_logged_with_its_request_id() -> None:
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

        async def fine() -> None:
            pass

        set_request_id("r-first")  # the turnstile's passes run in this first queuer's context
        tasks.queue(fine())
        set_request_id("r-fails")
        tasks.queue(fails(), name="failing work")
        assert await tasks.drain(1.0)
    finally:
        logger.removeHandler(handler)
        set_request_id(None)
    failed = [r for r in records if "failing work" in r.getMessage()]
    assert len(failed) == 1 and failed[0].request_id == "r-fails"


async def test_shutdown_closes_queued_work_whose_turn_never_came() -> None:
    tasks, ran = BackgroundTasks(), []

    async def work(n: int) -> None:
        ran.append(n)

    coros = [work(n) for n in range(50)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a "never awaited" coroutine would fail the test
        for coro in coros:
            tasks.queue(coro)
        await tasks.close(timeout=0)  # gives up at once: most turns have not come
        gc.collect()
    assert len(tasks) == 0 and await tasks.drain(0.1)
    assert len(ran) < 50  # some never started...
    assert all(c.cr_frame is None for c in coros)  # ...and each of those was closed
