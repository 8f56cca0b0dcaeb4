"""Scheduled commands: grammar and time zones, confirmation, exactly once, grace, cancel."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import bot.app as services_module
from bot.app import startup
from store import Store
from tests.conftest import NOTIFY, Bot, start_bot, stop_bot
from tests.fake_slack import FakeSlack
from tests.helpers_access import (
    audit_rows,
    button_value,
    click_as,
    grant,
    has_button,
    run_as,
    text_of,
)
from tests.slack_driver import select_value, text_value

PRAGUE = ZoneInfo("Europe/Prague")
OPERATOR = "UOPER"
OTHER = "UOTHER"


class Clock:
    """The store's clock, which the runner claims by: real time plus what the test adds."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(services_module, "Store", functools.partial(Store, clock=c))
    return c


@pytest.fixture
async def sbot(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path, clock: Clock
) -> AsyncIterator[Bot]:
    b = await start_bot(simulator, fake_slack, tmp_path / "bot.db")
    await grant(b, OPERATOR, "operator")
    await grant(b, OTHER, "operator")
    yield b
    await stop_bot(b)


# --- the Slack flow -----------------------------------------------------------------------


async def schedule(bot: Bot, text: str, user: str = "UADMIN") -> int:
    """`/dialer <text>` → Confirm; returns the schedule id."""
    replies = await run_as(bot, text, user)
    token = button_value(replies[-1].args, "schedule:confirm")
    replies = await click_as(bot, "schedule:confirm", token, user)
    said = text_of(replies)
    assert "Scheduled #" in said or "asked" in said, said
    rows = await bot.services.store.run(bot.services.store.schedules.open)
    return max(s.id for s in rows)


def control_puts(bot: Bot) -> list[tuple[int, str]]:
    return [
        (int(r["path"].split("/")[3]), (r["json"] or {}).get("command"))
        for r in bot.sim.requests
        if r["method"] == "PUT" and r["path"].endswith("/control")
    ]


async def test_confirmation_shows_users_zone_utc_and_active_period(
    sbot: Bot, fake_slack: FakeSlack
) -> None:
    fake_slack.add_user("UADMIN", tz="America/New_York")
    replies = await run_as(sbot, "start 1 at 2026-12-24 08:00", "UADMIN")
    said = text_of(replies)
    assert "Thu 2026-12-24 08:00:00 America/New_York (13:00:00 UTC)" in said, said
    assert "Read in your Slack time zone (America/New_York)" in said
    assert "active period" in said
    assert fake_slack.calls_to("users.info")[-1].args["user"] == "UADMIN"


async def test_unknown_zone_falls_back_to_bot_timezone(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    b = await start_bot(simulator, fake_slack, tmp_path / "b.db", bot_timezone="Asia/Tokyo")
    try:
        fake_slack.fail_next("users.info", status=200, error="missing_scope")
        replies = await run_as(b, "start 1 at 2026-12-24 08:00", "UADMIN")
        said = text_of(replies)
        assert "08:00:00 Asia/Tokyo (23:00:00 on 2026-12-23 UTC)" in said, said
        assert "not known" in said and "BOT_TIMEZONE" in said
    finally:
        await stop_bot(b)


async def test_past_time_refused_in_slack(sbot: Bot) -> None:
    replies = await run_as(sbot, "start 1 at 2020-01-01 08:00", "UADMIN")
    said = text_of(replies)
    assert "is in the past" in said
    assert not has_button(replies[-1].args, "schedule:confirm")


async def test_in_10s_runs_once_and_announces(sbot: Bot, fake_slack: FakeSlack) -> None:
    """The demo's path: `/dialer start 1 in 2s`, confirmed, started later by the runner, once."""
    await startup(sbot.services)
    await run_as(sbot, "subscribe", "UADMIN", channel="CSUB")
    sid = await schedule(sbot, "start 1 in 2s")
    assert sbot.sim.state.campaigns[1]["state"] == "stopped"
    found = await fake_slack.wait_for(
        "chat.postMessage",
        lambda c: f"Schedule #{sid} started" in c.args["text"],
        count=3,  # NOTIFY, the subscribed channel and the channel of origin C0001
        timeout=10,
    )
    assert {c.args["channel"] for c in found} == {NOTIFY, "CSUB", "C0001"}
    assert sbot.sim.state.campaigns[1]["state"] == "running"
    rows = [r for r in audit_rows(sbot) if r["action"] == "start" and r["ref_id"] is None]
    assert len(rows) == 1
    request = json.loads(rows[0]["request"])
    assert request["by_schedule"] is True and request["scheduled_by"] == "UADMIN"
    assert rows[0]["user_id"] == "UADMIN"
    assert [r["action"] for r in audit_rows(sbot)].count("schedule start") == 1
    sched = await sbot.services.store.run(sbot.services.store.schedules.get, sid)
    assert sched is not None and sched.state == "done"


async def test_exactly_once_across_a_restart(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path, clock: Clock
) -> None:
    db = tmp_path / "bot.db"
    first = await start_bot(simulator, fake_slack, db)
    sid = await schedule(first, "start 1 in 30s")
    await stop_bot(first)  # the bot goes down before the due time
    clock.advance(40)
    second = await start_bot(simulator, fake_slack, db)
    try:
        await startup(second.services)
        await fake_slack.wait_for(
            "chat.postMessage", lambda c: f"Schedule #{sid} started" in c.args["text"]
        )
        await second.services.scheduler.run_due()  # nothing left to claim
        assert control_puts(second) == [(1, "start")]
    finally:
        await stop_bot(second)
    third = await start_bot(simulator, fake_slack, db)  # and after another restart: nothing
    try:
        assert await third.services.scheduler.run_due() == []
        assert control_puts(third) == [(1, "start")]
    finally:
        await stop_bot(third)


async def test_exactly_once_across_two_processes(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path, clock: Clock
) -> None:
    """Two bots on one database file, both due at the same moment: one command is sent."""
    db = tmp_path / "bot.db"
    a = await start_bot(simulator, fake_slack, db)
    b = await start_bot(simulator, fake_slack, db)
    try:
        ids = [await schedule(a, "start 1 in 30s"), await schedule(b, "pause 2 in 30s")]
        simulator.state.campaigns[2]["state"] = "running"
        clock.advance(40)
        ran_a, ran_b = await asyncio.gather(
            a.services.scheduler.run_due(), b.services.scheduler.run_due()
        )
        ran = sorted(r.schedule.id for r in ran_a + ran_b)
        assert ran == sorted(ids)
        assert sorted(control_puts(a)) == [(1, "start"), (2, "pause")]
    finally:
        await stop_bot(a)
        await stop_bot(b)


async def test_revoked_role_does_not_run(sbot: Bot, clock: Clock, fake_slack: FakeSlack) -> None:
    sid = await schedule(sbot, "start 1 in 30s", user=OPERATOR)
    store = sbot.services.store
    await store.run(store.grants.revoke, OPERATOR)
    clock.advance(40)
    await startup(sbot.services)
    await fake_slack.wait_for(
        "chat.postMessage", lambda c: f"Schedule #{sid} (start" in c.args["text"]
    )
    msg = [c for c in fake_slack.calls_to("chat.postMessage") if f"#{sid} (start" in c.args["text"]]
    assert "not run" in msg[-1].args["text"] and f"<@{OPERATOR}>" in msg[-1].args["text"]
    assert control_puts(sbot) == []
    sched = await store.run(store.schedules.get, sid)
    assert sched is not None and sched.state == "revoked"
    denied = [r for r in audit_rows(sbot) if r["outcome"] == "denied" and r["action"] == "start"]
    assert denied and denied[-1]["user_id"] == OPERATOR


@pytest.mark.parametrize("late_s, runs", [(5 * 60, True), (20 * 60, False)])
async def test_missed_schedule_and_the_grace_period(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path, clock: Clock, late_s: int, runs: bool
) -> None:
    db = tmp_path / "bot.db"
    first = await start_bot(simulator, fake_slack, db)
    sid = await schedule(first, "start 1 in 10s")
    await stop_bot(first)
    clock.advance(10 + late_s)  # the bot was down at the due time
    second = await start_bot(simulator, fake_slack, db)
    try:
        await startup(second.services)  # what `dialer-bot serve` runs before listening
        word = "started" if runs else "was *missed*"
        await fake_slack.wait_for(
            "chat.postMessage",
            lambda c: f"Schedule #{sid}" in c.args["text"] and word in c.args["text"],
        )
        assert control_puts(second) == ([(1, "start")] if runs else [])
        sched = await second.services.store.run(second.services.store.schedules.get, sid)
        assert sched is not None and sched.state == ("done" if runs else "missed")
    finally:
        await stop_bot(second)


async def test_removed_campaign_gets_a_clear_message(sbot: Bot, clock: Clock) -> None:
    await schedule(sbot, "start 1 in 10s")
    del sbot.sim.state.campaigns[1]
    clock.advance(15)
    ran = await sbot.services.scheduler.run_due()
    assert ran[0].result == "removed" and "no longer exists" in (ran[0].detail or "")
    assert control_puts(sbot) == []


async def test_list_and_cancel(sbot: Bot, clock: Clock) -> None:
    mine = await schedule(sbot, "start 1 in 1h", user=OPERATOR)
    theirs = await schedule(sbot, "reload 2 in 2h", user=OTHER)
    replies = await run_as(sbot, "schedules", OPERATOR)
    said = text_of(replies)
    assert f"#{mine}" in said and f"#{theirs}" in said
    # Cancel buttons only for what this user may cancel: their own.
    assert FakeSlack.button_values(replies[-1].args, "schedule:cancel") == [str(mine)]
    # An admin may cancel any.
    replies = await run_as(sbot, "schedules", "UADMIN")
    assert sorted(FakeSlack.button_values(replies[-1].args, "schedule:cancel")) == sorted(
        [str(mine), str(theirs)]
    )
    # Someone else's, by command: refused.
    replies = await run_as(sbot, f"schedule cancel {theirs}", OPERATOR)
    assert "only they or an admin" in text_of(replies)
    # One's own, by button: cancelled, audited, never run.
    replies = await click_as(sbot, "schedule:cancel", str(mine), OPERATOR)
    assert "cancelled schedule" in text_of(replies)
    replies = await click_as(sbot, "schedule:cancel", str(mine), OPERATOR)
    assert "nothing to cancel" in text_of(replies)
    # The admin cancels the other's by command.
    replies = await run_as(sbot, f"schedule cancel {theirs}", "UADMIN")
    assert "cancelled schedule" in text_of(replies)
    assert [r["action"] for r in audit_rows(sbot)].count("cancel schedule") == 2
    clock.advance(3 * 3600)
    assert await sbot.services.scheduler.run_due() == []
    assert control_puts(sbot) == []
    replies = await run_as(sbot, "schedules", OPERATOR)
    assert "No schedules are pending" in text_of(replies)


async def test_scheduling_needs_the_commands_role(sbot: Bot) -> None:
    await grant(sbot, "UVIEW", "viewer")
    replies = await run_as(sbot, "start 1 in 10m", "UVIEW")
    assert "needs the *operator* role" in text_of(replies)
    assert await sbot.services.store.run(sbot.services.store.schedules.open) == []


async def test_approval_required_is_approved_when_scheduled(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path, clock: Clock
) -> None:
    b = await start_bot(simulator, fake_slack, tmp_path / "b.db", approval_required="remove,start")
    try:
        await grant(b, OPERATOR, "operator")
        sid = await schedule(b, "start 1 in 30s", user=OPERATOR)
        posts = [
            c
            for c in fake_slack.calls_to("chat.postMessage")
            if has_button(c.args, "schedule:approve")
        ]
        assert posts and posts[-1].args["channel"] == "C0001"
        replies = await click_as(b, "schedule:approve", str(sid), OPERATOR)
        assert "cannot approve your own" in text_of(replies)
        replies = await click_as(b, "schedule:approve", str(sid), "UADMIN")
        assert "approved by <@UADMIN>" in text_of(replies)
        clock.advance(40)
        ran = await b.services.scheduler.run_due()
        assert [r.result for r in ran] == ["ran"] and ran[0].outcome is not None
        row = next(r for r in audit_rows(b) if r["action"] == "start" and r["ref_id"] is None)
        request = json.loads(row["request"])
        assert request["approved_by"] == "UADMIN" and request["scheduled_by"] == OPERATOR
        assert simulator.state.campaigns[1]["state"] == "running"
    finally:
        await stop_bot(b)


async def test_schedule_from_the_campaign_detail_view(sbot: Bot, fake_slack: FakeSlack) -> None:
    replies = await run_as(sbot, "campaign 1", OPERATOR)
    assert has_button(replies[-1].args, "schedule:open")
    await click_as(sbot, "schedule:open", "1", OPERATOR)
    opened = fake_slack.calls_to("views.open")[-1].args["view"]
    assert opened["callback_id"] == "schedule:form"
    meta = opened["private_metadata"]
    bad = await sbot.driver.submit(
        "schedule:form",
        {"command": {"value": select_value("start")}, "when": {"value": text_value("at 25:00")}},
        user_id=OPERATOR,
        private_metadata=meta,
    )
    assert bad.json and "24-hour HH:MM" in bad.json["errors"]["when"]
    ok = await sbot.driver.submit(
        "schedule:form",
        {"command": {"value": select_value("start")}, "when": {"value": text_value("in 1h")}},
        user_id=OPERATOR,
        private_metadata=meta,
    )
    assert ok.status == 200
    await sbot.settle()
    dm = [c for c in fake_slack.calls_to("chat.postMessage") if c.args["channel"] == OPERATOR]
    assert dm and "Schedule start of campaign #1?" in FakeSlack.texts(dm[-1])
    token = button_value(dm[-1].args, "schedule:confirm")
    replies = await click_as(sbot, "schedule:confirm", token, OPERATOR)
    assert "Scheduled #" in text_of(replies)
    (sched,) = await sbot.services.store.run(sbot.services.store.schedules.open)
    assert (sched.command, sched.campaign_id, sched.channel_id) == ("start", 1, "C0001")


async def test_a_schedule_interrupted_mid_command_is_not_rerun(sbot: Bot, clock: Clock) -> None:
    """A bot that died after claiming (the command may have been sent): failed, not rerun."""
    sid = await schedule(sbot, "start 1 in 10s")
    store = sbot.services.store
    clock.advance(15)
    with store._lock:  # what a crash between the claim and the answer leaves
        store.db.execute(
            "UPDATE schedules SET state = 'running', claimed_at = ? WHERE id = ?",
            [store.schedules._now(), sid],
        )
    assert await sbot.services.scheduler.run_due() == []  # a live claim: left alone
    clock.advance(600)
    ran = await sbot.services.scheduler.run_due()
    assert [(r.schedule.id, r.result) for r in ran] == [(sid, "interrupted")]
    assert control_puts(sbot) == []


async def test_a_schedule_not_approved_in_time_is_missed(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path, clock: Clock
) -> None:
    b = await start_bot(simulator, fake_slack, tmp_path / "b.db", approval_required="start")
    try:
        await grant(b, OTHER, "operator")
        sid = await schedule(b, "start 1 in 30s")
        clock.advance(40)
        ran = await b.services.scheduler.run_due()
        assert [(r.schedule.id, r.result) for r in ran] == [(sid, "missed")]
        assert "nobody approved it" in (ran[0].detail or "")
        replies = await click_as(b, "schedule:approve", str(sid), OTHER)
        assert "already missed" in text_of(replies)
        assert control_puts(b) == []
    finally:
        await stop_bot(b)
