"""Threaded and flat channels: one thread per campaign per channel per day, or today's posts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import bot.notify
from tests.conftest import ADMIN, NOTIFY, Bot, start_bot, stop_bot
from tests.fake_slack import FakeSlack

FLAT = "CFLAT"


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.notify, "RETRY_DELAYS_S", (0.05, 0.1, 0.2))


@pytest.fixture
async def tbot(simulator: Any, fake_slack: FakeSlack, tmp_path: Path) -> AsyncIterator[Bot]:
    b = await start_bot(simulator, fake_slack, tmp_path / "bot.db")
    yield b
    await stop_bot(b)


def posts(fake: FakeSlack, channel: str) -> list[Any]:
    return [
        c
        for c in fake.calls_to("chat.postMessage")
        if c.args["channel"] == channel and c.result.get("ok")
    ]


async def pause_and_unpause(b: Bot) -> None:
    b.sim.state.campaigns[1]["state"] = "running"
    await b.command("pause 1", user_id=ADMIN)
    await b.settle()
    b.sim.state.campaigns[1]["state"] = "running"  # e.g. someone resumed it in the portal
    await b.command("pause 1", user_id=ADMIN)
    await b.settle()


async def test_threaded_one_parent_updated_in_place_replies_in_its_thread(tbot: Bot) -> None:
    await tbot.command("subscribe flat", channel_id=FLAT, user_id=ADMIN)
    await tbot.settle()
    assert "*flat*" in FakeSlack.texts(tbot.replies()[-1].args)
    await pause_and_unpause(tbot)

    parent, *replies = posts(tbot.slack, NOTIFY)
    assert "thread_ts" not in parent.args
    assert [r.args["thread_ts"] for r in replies] == [parent.result["ts"]] * 2
    assert all("paused campaign *Spring promo* (#1)" in r.args["text"] for r in replies)
    [update] = tbot.slack.calls_to("chat.update")
    assert (update.args["channel"], update.args["ts"]) == (NOTIFY, parent.result["ts"])
    assert (
        "⏸️ paused" in FakeSlack.texts(update.args)
        and "Last: " in update.args["blocks"][0]["text"]["text"]
    )
    assert FakeSlack.button_values(update.args, "control:unpause") == ["1"]

    flat = posts(tbot.slack, FLAT)
    assert len(flat) == 2 and all("thread_ts" not in c.args for c in flat)
    assert all("paused campaign" in c.args["text"] for c in flat)

    # Switching takes effect for the next message.
    await tbot.command("subscribe threaded", channel_id=FLAT, user_id=ADMIN)
    await tbot.settle()
    tbot.slack.clear()
    tbot.sim.state.campaigns[1]["state"] = "running"
    await tbot.command("pause 1", user_id=ADMIN)
    await tbot.settle()
    parent2, reply2 = posts(tbot.slack, FLAT)
    assert reply2.args["thread_ts"] == parent2.result["ts"]
    [reply3] = posts(tbot.slack, NOTIFY)  # NOTIFY's thread of today goes on
    assert reply3.args["thread_ts"] == parent.result["ts"]

    await tbot.command("subscriptions", user_id=ADMIN)
    await tbot.settle()
    text = FakeSlack.texts(tbot.replies()[-1].args)
    assert f"<#{FLAT}> (threaded)" in text and f"<#{NOTIFY}> (NOTIFY_CHANNEL, always; threaded)"


async def test_subscribe_refuses_an_unknown_mode(tbot: Bot) -> None:
    reply = await tbot.command("subscribe loud", channel_id=FLAT, user_id=ADMIN)
    assert "`threaded`" in reply.text and "`flat`" in reply.text


async def test_a_parent_slack_refuses_leaves_its_replies_top_level(tbot: Bot) -> None:
    tbot.slack.fail_next("chat.postMessage", status=200, error="invalid_blocks")
    await pause_and_unpause(tbot)
    delivered = posts(tbot.slack, NOTIFY)
    # The first parent failed for good: its reply went on its own; the next event opened
    # a new thread.
    assert "thread_ts" not in delivered[0].args and "paused campaign" in delivered[0].args["text"]
    parent, reply = delivered[1:]
    assert reply.args["thread_ts"] == parent.result["ts"]
    assert tbot.services.store.outbox.pending() == []


async def test_two_processes_deliver_threads_once_in_order(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    from handlers.subscriptions.views import subject, thread_parent

    db = tmp_path / "bot.db"
    bots = [await start_bot(simulator, fake_slack, db) for _ in range(2)]
    try:
        fake_slack.fail_next("chat.postMessage", status=503, count=10_000)
        for i in range(6):  # two campaigns, three events each, queued while Slack is down
            cid = 1 + i % 2
            text = f"event {i} of #{cid}"
            await bots[i % 2].services.notifier.publish(
                text=text,
                blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
                subject=subject(cid),
                parent=thread_parent(cid, f"C{cid}", "running", text),
            )
        await fake_slack.wait_for("chat.postMessage", count=2)
        fake_slack.clear()
        fake_slack.set_delay("chat.postMessage", 0.02)
        for b in bots:
            b.services.notifier.kick()
        await fake_slack.wait_for("chat.postMessage", lambda c: c.result.get("ok"), count=8)
        for b in bots:
            await b.settle()
        delivered = posts(fake_slack, NOTIFY)
        parents = {c.result["ts"]: c for c in delivered if "thread_ts" not in c.args}
        assert len(parents) == 2
        replies = [c for c in delivered if "thread_ts" in c.args]
        assert [c.args["text"] for c in replies] == [f"event {i} of #{1 + i % 2}" for i in range(6)]
        for r in replies:
            assert r.args["thread_ts"] in parents
            assert r.args["text"].endswith(parents[r.args["thread_ts"]].args["text"][-2:])
        assert len(fake_slack.calls_to("chat.update")) == 4  # each parent, after its first event
    finally:
        for b in bots:
            await stop_bot(b)
