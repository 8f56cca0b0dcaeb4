"""Full garbage-collector passes wait for a quiet moment (bot/collector.py), and the acks the
collector waits for are counted where requests come in."""

from __future__ import annotations

import asyncio
import gc

import pytest
from slack_bolt.async_app import AsyncAck

from bot.collector import (
    APPLIES,
    DUE_AFTER,
    FORCE_AFTER,
    SMALL_BACKLOG,
    Acks,
    QuietCollector,
)
from bot.lifecycle import startup
from tests.conftest import Bot

pytestmark = pytest.mark.skipif(not APPLIES, reason="Python 3.14's collector is incremental")


def middle_passes(n: int) -> None:
    """n collections of the middle generation: each counts towards a full pass, as in CPython."""
    gc.collect()  # start from zero
    for _ in range(n):
        gc.collect(1)
    assert gc.get_count()[2] == n


async def test_a_due_full_pass_waits_while_an_ack_is_in_flight() -> None:
    acks = Acks()
    collector = QuietCollector(acks)
    collector.start()
    try:
        middle_passes(DUE_AFTER)
        with acks.acking():
            assert collector.check() is None
            assert gc.get_count()[2] == DUE_AFTER  # not made
        with acks.acking():
            pass
        # None is in flight, but one began since the last look: a burst may be on.
        assert collector.check() is None
        assert gc.get_count()[2] == DUE_AFTER
        assert collector.check() == "quiet"
        assert gc.get_count()[2] == 0  # the full pass reset CPython's count
        assert collector.check() is None  # nothing due any more
    finally:
        await collector.aclose()


async def test_a_due_full_pass_waits_for_the_backlog_to_drain() -> None:
    """A pass walks every command still waiting (on a slow dialer, say): it waits until
    few are left, unless it is overdue."""
    backlog = [SMALL_BACKLOG + 1]
    collector = QuietCollector(Acks(), backlog=lambda: backlog[0])
    collector.start()
    try:
        middle_passes(DUE_AFTER)
        assert collector.check() is None  # no ack at all, but many commands waiting
        assert gc.get_count()[2] == DUE_AFTER
        backlog[0] = SMALL_BACKLOG
        assert collector.check() == "quiet"
        backlog[0] = 10 * SMALL_BACKLOG
        middle_passes(FORCE_AFTER)
        assert collector.check() == "forced"  # overdue: the backlog does not hold it off
    finally:
        await collector.aclose()


async def test_the_bot_wires_its_backlog_into_the_collector(bot: Bot) -> None:
    await startup(bot.services)  # what `dialer-bot serve` runs before listening
    collector = bot.services.collector
    try:
        assert collector._backlog() == len(bot.services.tasks) == 0

        async def waits() -> None:
            await asyncio.sleep(0)

        bot.services.tasks.queue(waits())
        assert collector._backlog() == 1
        await bot.settle()
    finally:
        await collector.aclose()  # CPython's thresholds back for the other tests


async def test_a_bot_never_quiet_still_gets_its_full_pass() -> None:
    acks = Acks()
    collector = QuietCollector(acks)
    collector.start()
    try:
        with acks.acking():
            middle_passes(FORCE_AFTER - 1)
            assert collector.check() is None
            gc.collect(1)
            assert collector.check() == "forced"
            assert gc.get_count()[2] == 0
    finally:
        await collector.aclose()


async def test_cpython_makes_no_full_pass_of_its_own_while_the_collector_runs() -> None:
    before = gc.get_threshold()
    first, second = QuietCollector(Acks()), QuietCollector(Acks())
    first.start()
    second.start()  # two bots in one process (as in these tests): one saved setting
    assert gc.get_threshold()[:2] == before[:2]  # the young generations keep CPython's cadence
    assert gc.get_threshold()[2] > 10**6
    await first.aclose()
    assert gc.get_threshold()[2] > 10**6  # the second still runs
    await second.aclose()
    assert gc.get_threshold() == before


async def test_the_web_route_counts_each_ack_while_it_runs(bot: Bot) -> None:
    from bot.collector import ACKS

    app = bot.services.bolt_apps[0]
    seen: list[int] = []

    @app.command("/probe")
    async def probe(ack: AsyncAck) -> None:
        seen.append(ACKS.in_flight)
        await ack()

    started = ACKS.started
    for _ in range(3):
        assert (await bot.command("", command="/probe")).status == 200
    assert seen == [1, 1, 1]  # counted while the listener ran
    assert ACKS.in_flight == 0 and ACKS.started == started + 3
    # A request that fails in Bolt's middleware (a malformed payload) is no longer in flight.
    assert (await bot.driver.post("payload=%7B%22type%22%3A%22block_actions%22%7D")).status == 200
    assert ACKS.in_flight == 0 and ACKS.started == started + 4
