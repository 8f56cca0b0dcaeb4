"""The campaign watcher: outside changes announced exactly once, the bot's own not again.

The simulator's PUT /_sim/campaigns/{id}/state is the Voipex portal (a change made outside
Slack). Polls are driven one at a time with poll_once() where the test is about what one
poll does; the loop runs for real where the test is about timing and takeover.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import bot.notify
from tests.conftest import ADMIN, NOTIFY, Bot, start_bot, stop_bot
from tests.fake_slack import FakeSlack
from tests.test_control import confirmation_token
from tests.test_dialects import PAUSED, RUNNING, dbot  # noqa: F401  (dbot: fixture)
from tests.test_dialects import set_state_outside_slack as set_state

OUTSIDE = "changed outside Slack"


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.notify, "RETRY_DELAYS_S", (0.05, 0.1, 0.2))


@pytest.fixture
async def wbot(simulator: Any, fake_slack: FakeSlack, tmp_path: Path) -> AsyncIterator[Bot]:
    b = await start_bot(simulator, fake_slack, tmp_path / "bot.db")
    yield b
    await stop_bot(b)


async def portal_set_state(sim: Any, campaign_id: int, state: str) -> None:
    """What a supervisor in the Voipex portal does: the bot is not involved."""
    async with (
        aiohttp.ClientSession() as session,
        session.put(f"{sim.url}/_sim/campaigns/{campaign_id}/state", json={"state": state}) as r,
    ):
        assert r.status == 200, await r.text()


def announced(fake: FakeSlack, needle: str = OUTSIDE, channel: str = NOTIFY) -> list[Any]:
    """Replies (or flat posts) in `channel` that carry the watcher's text."""
    return [
        c
        for c in fake.calls_to("chat.postMessage")
        if c.status == 200
        and c.args.get("channel") == channel
        and needle in c.args["text"]
        and (c.args.get("thread_ts") or "Last:" not in FakeSlack.texts(c))
    ]


async def test_first_poll_is_a_silent_baseline_then_a_change_is_announced_once(wbot: Bot) -> None:
    w = wbot.services.watcher
    assert (await w.poll_once()).status == "baseline"
    assert (await w.poll_once()).status == "unchanged"
    await wbot.settle()
    assert wbot.slack.calls_to("chat.postMessage") == []

    await portal_set_state(wbot.sim, 1, "running")
    result = await w.poll_once()
    assert [(e.kind, e.campaign_id) for e in result.announced] == [("state", 1)]
    await wbot.settle()
    [note] = announced(wbot.slack)
    assert note.args["text"] == (
        "*Spring promo* (#1) is now 🟢 running — changed outside Slack (was ⏹️ stopped)"
    )
    assert FakeSlack.button_values(note, "control:pause") == ["1"]  # what running allows
    assert FakeSlack.buttons(note, "control:start") == []

    for _ in range(3):
        assert (await w.poll_once()).status == "unchanged"
    await wbot.settle()
    assert len(announced(wbot.slack)) == 1
    assert w.last_success_age() is not None and w.last_success_age() < 5


async def test_etag_makes_an_unchanged_poll_a_304(wbot: Bot) -> None:
    w = wbot.services.watcher
    await w.poll_once()
    wbot.sim.requests.clear()
    assert (await w.poll_once()).status == "unchanged"
    polls = [r for r in wbot.sim.requests if r["path"] == "/dialer/campaigns"]
    assert [r["status"] for r in polls] == [304]
    await portal_set_state(wbot.sim, 2, "running")
    assert (await w.poll_once()).status == "events"


async def test_the_bots_own_change_is_not_announced_twice(wbot: Bot) -> None:
    w = wbot.services.watcher
    await w.poll_once()
    await portal_set_state(wbot.sim, 2, "running")
    await w.poll_once()
    await wbot.settle()
    assert len(announced(wbot.slack)) == 1
    wbot.slack.clear()

    await wbot.command("pause 2", user_id=ADMIN)  # the bot pauses it and announces it itself
    await wbot.settle()
    own = [
        c for c in wbot.slack.calls_to("chat.postMessage") if "paused campaign" in c.args["text"]
    ]
    assert own, wbot.slack.describe()
    result = await w.poll_once()
    # The pause's outcome is what Slack last showed: the snapshot holds it, nothing differs.
    assert result.events == [] and result.announced == []
    await wbot.settle()
    assert announced(wbot.slack) == []


async def test_state_names_the_table_does_not_know_are_shown_as_given(wbot: Bot) -> None:
    w = wbot.services.watcher
    await w.poll_once()
    await portal_set_state(wbot.sim, 1, "<!channel> DRAINING")
    await w.poll_once()
    await portal_set_state(wbot.sim, 1, "COMPLETED")
    await w.poll_once()
    await wbot.settle()
    notes = announced(wbot.slack, "(#1)")
    texts = [c.args["text"] for c in notes]
    assert texts[0] == (
        "*Spring promo* (#1) is now &lt;!channel&gt; DRAINING — changed outside Slack "
        "(was ⏹️ stopped)"
    )
    # A state the bot does not know: every command is offered, Pause above all; the dialer decides.
    assert FakeSlack.button_values(notes[0], "control:pause") == ["1"]
    assert FakeSlack.buttons(notes[1], "control:pause") == []  # completed: the table knows
    assert texts[1] == (
        "*Spring promo* (#1) has finished — it is now 🏁 completed (was &lt;!channel&gt; DRAINING)"
    )


async def test_appeared_disappeared_and_edited_outside_slack(wbot: Bot) -> None:
    w = wbot.services.watcher
    await w.poll_once()
    state = wbot.sim.state
    body = {k: v for k, v in state.campaigns[1].items() if k not in ("id", "state")}
    new = state.add_campaign({**body, "name": "Autumn <b>"})
    state.campaigns[2]["activePeriod"] = {
        "startTime": "10:00",
        "endTime": "12:00",
        "weekDays": [6, 7],
    }
    del state.campaigns[1]
    result = await w.poll_once()
    assert sorted((e.kind, e.campaign_id) for e in result.announced) == [
        ("appeared", new["id"]),
        ("changed", 2),
        ("disappeared", 1),
    ]
    await wbot.settle()
    texts = "\n".join(FakeSlack.texts(c) for c in wbot.slack.calls_to("chat.postMessage"))
    assert f"*Autumn &lt;b&gt;* (#{new['id']}) appeared — created outside Slack" in texts
    assert "*Outage Brno* (#2): active period changed outside Slack" in texts
    assert "every day 08:00–20:00 → weekends 10:00–12:00" in texts
    assert "*Spring promo* (#1) was removed — outside Slack (was ⏹️ stopped)" in texts
    removal = [
        c for c in wbot.slack.calls_to("chat.postMessage") if "was removed" in c.args["text"]
    ]
    assert all(c.args.get("reply_broadcast") for c in removal if c.args.get("thread_ts"))


async def test_a_restart_repeats_nothing_and_a_change_while_down_is_announced_once(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    db = tmp_path / "bot.db"
    first = await start_bot(simulator, fake_slack, db)
    try:
        await first.services.watcher.poll_once()
        await portal_set_state(simulator, 1, "running")
        await first.services.watcher.poll_once()
        await first.settle()
    finally:
        await stop_bot(first)
    assert len(announced(fake_slack)) == 1

    second = await start_bot(simulator, fake_slack, db)  # a restart: nothing changed
    try:
        assert (await second.services.watcher.poll_once()).status == "unchanged"
        await second.settle()
    finally:
        await stop_bot(second)
    assert len(announced(fake_slack)) == 1

    await portal_set_state(simulator, 1, "paused")  # while the bot is down
    third = await start_bot(simulator, fake_slack, db)
    try:
        w = third.services.watcher
        assert [e.campaign_id for e in (await w.poll_once()).announced] == [1]
        assert (await w.poll_once()).status == "unchanged"
        await third.settle()
    finally:
        await stop_bot(third)
    notes = announced(fake_slack)
    assert len(notes) == 2
    assert notes[1].args["text"].startswith("*Spring promo* (#1) is now ⏸️ paused")


async def test_two_processes_one_announcement(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    db = tmp_path / "bot.db"
    a = await start_bot(simulator, fake_slack, db)
    b = await start_bot(simulator, fake_slack, db)  # its own Store: another connection
    try:
        wa, wb = a.services.watcher, b.services.watcher
        results = await asyncio.gather(wa.poll_once(), wb.poll_once())
        assert sorted(r.status for r in results) == ["baseline", "standby"]
        await portal_set_state(simulator, 2, "running")
        for _ in range(3):
            results = await asyncio.gather(wa.poll_once(), wb.poll_once())
            assert "standby" in {r.status for r in results}
        await a.settle()
        await b.settle()
        assert len(announced(fake_slack)) == 1
    finally:
        await stop_bot(a)
        await stop_bot(b)


async def test_the_other_process_takes_over_within_two_intervals(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    db = tmp_path / "bot.db"
    a = await start_bot(simulator, fake_slack, db, dialer_watch_interval=0.5)
    b = await start_bot(simulator, fake_slack, db, dialer_watch_interval=0.5)
    try:
        a.services.watcher.start()
        await portal_set_state(simulator, 1, "running")  # before any baseline: silent
        await a.services.watcher.wait_success(5)  # the baseline
        b.services.watcher.start()
        await portal_set_state(simulator, 1, "paused")
        await fake_slack.wait_for("chat.postMessage", lambda c: "now ⏸️ paused" in c.args["text"])
        assert b.services.watcher.last_success_at is None  # standby all along
        task = a.services.watcher._task
        assert task is not None
        task.cancel()  # a dies: no graceful release of the lease
        await asyncio.gather(task, return_exceptions=True)
        died = asyncio.get_running_loop().time()
        await portal_set_state(simulator, 1, "running")
        await fake_slack.wait_for(
            "chat.postMessage", lambda c: "now 🟢 running" in c.args["text"], timeout=5
        )
        # lease 1.5 intervals + a standby look every half interval, plus the poll itself
        assert asyncio.get_running_loop().time() - died < 2 * 0.5 + 0.6
        await a.settle()
        await b.settle()
        assert len(announced(fake_slack, "now 🟢 running")) == 1
        assert len(announced(fake_slack, "now ⏸️ paused")) == 1
    finally:
        await stop_bot(a)
        await stop_bot(b)


async def test_dialer_down_one_message_and_one_recovery(wbot: Bot) -> None:
    w = wbot.services.watcher
    await w.poll_once()
    wbot.sim.faults.set(status=503, count=1000, path_prefix="/dialer/campaigns")
    for _ in range(6):
        assert (await w.poll_once()).status == "failed"
    await wbot.settle()
    down = announced(wbot.slack, "The dialer is unreachable since")
    assert len(down) == 1
    assert "503" in down[0].args["text"]
    wbot.sim.faults.clear()
    assert (await w.poll_once()).status == "unchanged"
    assert (await w.poll_once()).status == "unchanged"
    await wbot.settle()
    up = announced(wbot.slack, "reachable again after")
    assert len(up) == 1
    assert "reachable again after 0 min" in up[0].args["text"]
    assert len(announced(wbot.slack, "The dialer is unreachable since")) == 1


async def test_two_failed_polls_say_nothing(wbot: Bot) -> None:
    w = wbot.services.watcher
    await w.poll_once()
    wbot.sim.faults.set(status=503, count=6, path_prefix="/dialer/campaigns")  # 3 tries a poll
    assert (await w.poll_once()).status == "failed"
    assert (await w.poll_once()).status == "failed"
    assert (await w.poll_once()).status == "unchanged"
    await wbot.settle()
    assert wbot.slack.calls_to("chat.postMessage") == []


async def test_serve_with_a_1s_interval_announces_an_outside_change_within_3s(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    from tests.bot_process import BotProcess

    proc = BotProcess(
        simulator,
        fake_slack.api_url,
        tmp_path / "bot.db",
        response_url=fake_slack.response_url("default"),
        DIALER_WATCH_INTERVAL="1",
    )
    try:
        await proc.start()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        # The child's polls have no Slack call to await: watch the dialer's log. A second
        # GET means the baseline poll (the first) is committed.
        while sum(r["path"] == "/dialer/campaigns" for r in simulator.requests) < 2:
            assert loop.time() < deadline, proc.output()
            await asyncio.sleep(0.02)  # noqa: ASYNC110 - another process; nothing to await
        changed = loop.time()
        await portal_set_state(simulator, 1, "running")
        await fake_slack.wait_for(
            "chat.postMessage", lambda c: OUTSIDE in c.args["text"], count=1, timeout=5
        )
        assert loop.time() - changed < 3.0
    finally:
        await proc.close()


def test_a_campaign_the_bot_created_counts_as_its_own(tmp_path: Path) -> None:
    """The form's create row has no campaign id (none existed yet): the id is in its detail."""
    from store import Store

    store = Store(tmp_path / "bot.db")
    try:
        begin = {"action": "create_campaign", "user_id": ADMIN, "channel_id": "C1"}
        pending = store.audit.begin(**begin, request={"name": "x"})
        store.audit.complete(pending, outcome="ok", detail="#7: Campaign successfully created")
        store.audit.begin(**begin, request={"name": "y"})  # in flight
        assert store.snapshot.own_changes("2000-01-01") == {(7, "create_campaign")}
    finally:
        store.close()


async def test_a_campaign_with_a_command_in_flight_waits_for_the_next_poll(wbot: Bot) -> None:
    w, audit = wbot.services.watcher, wbot.services.store.audit
    await w.poll_once()
    pending = audit.begin(action="unpause", user_id=ADMIN, channel_id="C1", campaign_id=2)
    await portal_set_state(wbot.sim, 2, "running")
    result = await w.poll_once()
    assert [e.campaign_id for e in result.events] == [2] and result.announced == []
    audit.complete(pending, outcome="failed", detail="refused")  # so it was not the bot
    result = await w.poll_once()  # a full GET again (no 304), decided now
    assert [e.campaign_id for e in result.announced] == [2]
    await wbot.settle()
    assert len(announced(wbot.slack)) == 1


async def test_a_successful_poll_feeds_the_metric(wbot: Bot) -> None:
    from bot import metrics

    await wbot.services.watcher.poll_once()
    last = metrics.watcher_last_ok()
    assert last is not None
    assert wbot.services.watcher.last_success_at is not None
    assert last == wbot.services.watcher.last_success_at.timestamp()


# ---- the snapshot is what Slack last showed ------------------------------------------------


def outside(fake: FakeSlack, campaign_id: int) -> list[str]:
    return [FakeSlack.texts(c) for c in announced(fake, f"(#{campaign_id})")]


async def test_a_portal_resume_right_after_the_bots_pause_is_announced(dbot: Bot) -> None:  # noqa: F811
    """Between two polls the bot pauses a running campaign and a supervisor resumes it in
    the portal: the dialer now differs from what Slack last showed (paused)."""
    d = dbot.sim.dialect.name
    w = dbot.services.watcher
    await w.poll_once()
    await set_state(dbot.sim, 1, RUNNING[d])
    await w.poll_once()
    await dbot.command("pause 1", user_id=ADMIN)
    await dbot.settle()
    assert dbot.sim.state.campaigns[1]["state"] == PAUSED[d]
    dbot.services.home.spacing_s = 0.0
    await dbot.driver.event({"type": "app_home_opened", "user": ADMIN, "tab": "home"})
    await dbot.settle()
    dbot.slack.clear()
    await set_state(dbot.sim, 1, RUNNING[d])  # the portal, before the next poll
    result = await w.poll_once()
    assert [(e.kind, e.campaign_id) for e in result.announced] == [("state", 1)]
    await dbot.settle()
    [note] = outside(dbot.slack, 1)
    assert "is now 🟢 running" in note and "(was ⏸️ paused)" in note
    # The channel's status message (the thread's parent) says so, without an Unpause button.
    [status] = dbot.slack.calls_to("chat.update")
    assert "is now 🟢 running" in FakeSlack.texts(status.args)
    assert FakeSlack.buttons(status, "control:unpause") == []
    # The App Home of whoever looked recently shows it too, after this one poll.
    [home] = dbot.slack.calls_to("views.publish")
    assert "(#1) — 🟢 running" in FakeSlack.texts(home.args)
    assert (await w.poll_once()).status == "unchanged"  # said once


async def test_start_pause_then_running_in_the_portal_is_announced(dbot: Bot) -> None:  # noqa: F811
    d = dbot.sim.dialect.name
    w = dbot.services.watcher
    await w.poll_once()
    token = await confirmation_token(dbot, "start 1")
    await dbot.action("control:confirm", token)
    await dbot.settle()
    await dbot.command("pause 1", user_id=ADMIN)
    await dbot.settle()
    dbot.slack.clear()
    await set_state(dbot.sim, 1, RUNNING[d])
    await w.poll_once()
    await dbot.settle()
    [note] = outside(dbot.slack, 1)
    assert "(was ⏸️ paused)" in note


async def test_a_poll_that_diffed_before_the_bots_command_commits_nothing(dbot: Bot) -> None:  # noqa: F811
    """The outcome moves the snapshot on: a poll that read the list before it is void,
    and the next one compares the dialer with what the command's outcome showed."""
    d = dbot.sim.dialect.name
    store = dbot.services.store
    w = dbot.services.watcher
    await w.poll_once()
    before = await store.run(store.snapshot.version)
    await set_state(dbot.sim, 1, RUNNING[d])
    await dbot.command("pause 1", user_id=ADMIN)
    await dbot.settle()
    _, snapshot = await store.run(store.snapshot.load)
    assert snapshot[1]["state"] == PAUSED[d]  # what Slack last said
    assert await store.run(store.snapshot.version) == before + 1
    assert (await w.poll_once()).status == "unchanged"  # the dialer says the same
