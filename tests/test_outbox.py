"""Slack outages: notifications wait in the outbox and arrive later, in order, exactly once.

Bursts of 429 and 5xx on chat.postMessage, permanent errors that must not block a
channel, a restart in the middle, and two bot processes sharing one database.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import bot.notify
from bot.app import startup
from handlers.blocks import message
from store import Store
from tests.conftest import NOTIFY, Bot, start_bot, stop_bot
from tests.fake_slack import FakeSlack

SUB = "CSUB"


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Seconds-long back-off is right in production; here it would only slow the tests."""
    monkeypatch.setattr(bot.notify, "RETRY_DELAYS_S", (0.05, 0.1, 0.2))


@pytest.fixture
async def nbot(simulator: Any, fake_slack: FakeSlack, tmp_path: Path) -> AsyncIterator[Bot]:
    b = await start_bot(simulator, fake_slack, tmp_path / "bot.db")
    b.services.store.subscriptions.add(SUB, "UADMIN")
    yield b
    await stop_bot(b)


async def publish(b: Bot, n: int, prefix: str = "note") -> list[str]:
    texts = [f"{prefix} {i}" for i in range(n)]
    for text in texts:
        await b.services.notifier.publish(**message(text))
    return texts


def delivered(fake: FakeSlack) -> dict[str, list[str]]:
    """Successful posts per channel, in the order Slack accepted them."""
    out: dict[str, list[str]] = defaultdict(list)
    for c in fake.calls_to("chat.postMessage"):
        if c.status == 200:
            out[c.args["channel"]].append(c.args["text"])
    return dict(out)


async def wait_delivered(fake: FakeSlack, count: int, timeout: float = 15) -> None:
    await fake.wait_for("chat.postMessage", lambda c: c.status == 200, count=count, timeout=timeout)


async def test_bursts_of_429_and_5xx_delay_but_lose_nothing(nbot: Bot) -> None:
    fake = nbot.slack
    fake.fail_next("chat.postMessage", status=429, retry_after=0, count=6)
    fake.fail_next("chat.postMessage", status=503, count=3, html=True)
    fake.fail_next("chat.postMessage", status=500, error="internal_error", count=3)
    texts = await publish(nbot, 10)
    await wait_delivered(fake, 20)
    await nbot.settle()
    assert delivered(fake) == {NOTIFY: texts, SUB: texts}
    assert sum(1 for c in fake.calls_to("chat.postMessage") if c.status != 200) == 12
    assert nbot.services.store.outbox.pending() == []


async def test_a_long_outage_then_recovery(nbot: Bot) -> None:
    fake = nbot.slack
    fake.fail_next("chat.postMessage", status=500, error="internal_error", count=10_000)
    texts = await publish(nbot, 5)
    await fake.wait_for("chat.postMessage", count=4)  # several rounds failed
    assert delivered(fake) == {}
    assert len(nbot.services.store.outbox.pending()) == 10
    fake.clear()  # Slack is back
    nbot.services.notifier.kick()
    await wait_delivered(fake, 10)
    assert delivered(fake) == {NOTIFY: texts, SUB: texts}


@pytest.mark.parametrize(
    "error", ["channel_not_found", "not_in_channel", "is_archived", "invalid_blocks"]
)
async def test_permanent_errors_fail_the_item_not_the_channel(nbot: Bot, error: str) -> None:
    fake = nbot.slack
    fake.fail_next("chat.postMessage", status=200, error=error, count=1)
    await publish(nbot, 3)
    await wait_delivered(fake, 5)
    await nbot.settle()
    outbox = nbot.services.store.outbox
    assert outbox.pending() == []
    items = [i for i in (outbox.get(n) for n in range(1, 7)) if i is not None]
    assert sorted(i.state for i in items) == ["failed"] + ["sent"] * 5
    [bad] = [i for i in items if i.state == "failed"]
    assert error in (bad.last_error or "") and bad.attempts == 1
    # One refused post, then every other message once (the refused one is not retried).
    assert len(fake.calls_to("chat.postMessage")) == 6


async def test_outbox_survives_a_restart(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    db = tmp_path / "bot.db"
    first = await start_bot(simulator, fake_slack, db)
    first.services.store.subscriptions.add(SUB, "UADMIN")
    fake_slack.fail_next("chat.postMessage", status=503, count=10_000)
    texts = await publish(first, 6)
    await fake_slack.wait_for("chat.postMessage", count=2)
    await stop_bot(first)
    assert delivered(fake_slack) == {}
    fake_slack.clear()

    second = await start_bot(simulator, fake_slack, db)
    try:
        await startup(second.services)  # what `dialer-bot serve` runs before listening
        await wait_delivered(fake_slack, 12)
        await second.settle()
        assert delivered(fake_slack) == {NOTIFY: texts, SUB: texts}
        assert second.services.store.outbox.pending() == []
    finally:
        await stop_bot(second)


async def test_two_processes_deliver_each_item_once_in_order(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    db = tmp_path / "bot.db"
    bots = [await start_bot(simulator, fake_slack, db) for _ in range(2)]
    try:
        bots[0].services.store.subscriptions.add(SUB, "UADMIN")
        fake_slack.set_delay("chat.postMessage", 0.02)  # keep posts in flight while both run
        fake_slack.fail_next("chat.postMessage", status=503, count=10_000)
        texts = await publish(bots[0], 15)
        await fake_slack.wait_for("chat.postMessage", count=2)
        fake_slack.clear()
        fake_slack.set_delay("chat.postMessage", 0.02)
        for _ in range(3):
            for b in bots:
                b.services.notifier.kick()
            await asyncio.sleep(0)
        await wait_delivered(fake_slack, 30)
        for b in bots:
            await b.settle()
        assert delivered(fake_slack) == {NOTIFY: texts, SUB: texts}
    finally:
        for b in bots:
            await stop_bot(b)


def test_a_dead_senders_claim_expires(tmp_path: Path) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    store = Store(tmp_path / "bot.db", clock=lambda: now[0])
    try:
        outbox = store.outbox
        first = outbox.enqueue(NOTIFY, {"text": "a", "blocks": []})
        second = outbox.enqueue(NOTIFY, {"text": "b", "blocks": []})
        other = outbox.enqueue(SUB, {"text": "c", "blocks": []})
        assert outbox.claim(first, lease_s=60)
        assert not outbox.claim(first, lease_s=60)  # held
        assert not outbox.claim(second, lease_s=60)  # not the head of its channel
        assert outbox.claim(other, lease_s=60)  # other channels are independent
        now[0] += timedelta(seconds=61)  # the sender died: its claim goes stale
        assert outbox.claim(first, lease_s=60)
        outbox.mark_sent(first, "1.0")
        assert outbox.claim(second, lease_s=60)
        outbox.mark_attempt(second, "Slack answered 503")  # released at once
        assert outbox.claim(second, lease_s=60)
    finally:
        store.close()


async def test_views_update_rate_limits_are_retried(nbot: Bot) -> None:
    client = nbot.services.client
    opened = await client.views_open(
        trigger_id="1.2.3", view={"type": "modal", "title": _plain("x"), "blocks": []}
    )
    view_id = opened["view"]["id"]
    nbot.slack.fail_next("views.update", status=429, retry_after=0, count=2)
    resp = await client.views_update(
        view_id=view_id, view={"type": "modal", "title": _plain("y"), "blocks": []}
    )
    assert resp["ok"] is True
    assert [c.status for c in nbot.slack.calls_to("views.update")] == [429, 429, 200]


def _plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}
