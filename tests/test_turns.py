"""Post-ack work resumes in turns (bot/tasks.py): acks queued behind a crowd get in between."""

from __future__ import annotations

import asyncio

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
