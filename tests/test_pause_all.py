"""The emergency stop: `/dialer pause all`, `pause 3 5 9`, the shortcut and the App Home button."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Collection
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.config import Settings
from bot.pause_all import CONCURRENCY
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

OPERATOR = "UOPER"


def add_campaigns(bot: Bot, states: list[str], name: str = "Camp") -> list[int]:
    """Campaigns like the seeded #1, in the given states (set as the dialer would report them)."""
    template = {k: v for k, v in bot.sim.state.campaigns[1].items() if k not in ("id", "state")}
    ids = []
    for i, state in enumerate(states):
        record = bot.sim.state.add_campaign({**template, "name": f"{name} {i}"}, state=state)
        ids.append(record["id"])
    return ids


async def set_state_outside(bot: Bot, campaign_id: int, state: str) -> None:
    """What someone in the Voipex portal does: the simulator's admin endpoint."""
    async with (
        aiohttp.ClientSession() as s,
        s.put(f"{bot.sim.url}/_sim/campaigns/{campaign_id}/state", json={"state": state}) as resp,
    ):
        assert resp.status == 200


def pause_puts(bot: Bot) -> list[int]:
    return sorted(
        int(r["path"].split("/")[3])
        for r in bot.sim.requests
        if r["method"] == "PUT" and r["path"].endswith("/control") and "pause" in json.dumps(r)
    )


def summaries(bot: Bot, channel: str = NOTIFY) -> list[Any]:
    return [
        c
        for c in bot.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == channel and "paused" in FakeSlack.texts(c)
    ]


async def test_pause_all_mixed(bot: Bot) -> None:
    """Running, paused, unknown-state and failing campaigns: one confirmation, one summary."""
    # "RUNNING" is a synonym of running (bot/dialer/api.py); the simulator refuses to pause
    # it (409), which the summary counts as "not running", in the dialer's words.
    running = add_campaigns(bot, ["running", "running", "running", "RUNNING"])
    paused = add_campaigns(bot, ["paused"], name="Held")
    weird = add_campaigns(bot, ["calibrating"], name="Odd")
    failing = running[1]
    bot.sim.faults.set(status=500, count=1, path_prefix=f"/dialer/campaigns/{failing}/control")

    replies = await run_as(bot, "pause all", "UADMIN")
    shown = text_of(replies)
    assert "Pause 4 running campaigns?" in shown
    for cid in running:
        assert f"(#{cid})" in shown
    assert "State unknown, pause it too?" in shown and f"(#{weird[0]})" in shown
    assert f"(#{paused[0]})" not in shown
    token = button_value(replies[-1].args, "pause_all:confirm")
    assert has_button(replies[-1].args, "pause_all:confirm_unknown")

    # Someone pauses one of them in the portal before Confirm: counted as already paused.
    await set_state_outside(bot, running[2], "paused")
    bot.sim.requests.clear()
    before = len(bot.slack.calls_to("chat.postMessage"))
    replies = await click_as(bot, "pause_all:confirm", token, "UADMIN")
    said = text_of(replies)
    assert "paused 1, already paused or not running 2, failed 1" in said, said
    assert "500" in said  # the dialer's own answer for the failing one
    # The unknown-state campaign was not included, so it was not touched.
    assert weird[0] not in pause_puts(bot)
    assert bot.sim.state.campaigns[weird[0]]["state"] == "calibrating"
    assert bot.sim.state.campaigns[running[0]]["state"] == "paused"
    # One notification, not one per campaign.
    new_posts = [
        c for c in bot.slack.calls_to("chat.postMessage")[before:] if c.args["channel"] == NOTIFY
    ]
    assert len(new_posts) == 1 and "paused 1" in FakeSlack.texts(new_posts[0])

    # Each pause is its own audit entry, all sharing one batch id.
    pending = [r for r in audit_rows(bot) if r["action"] == "pause" and r["ref_id"] is None]
    assert sorted(r["campaign_id"] for r in pending) == sorted(running)
    batches = {json.loads(r["request"])["batch_id"] for r in pending}
    assert len(batches) == 1

    # The confirmation runs once: a second click sends nothing.
    bot.sim.requests.clear()
    replies = await click_as(bot, "pause_all:confirm", token, "UADMIN")
    assert "Already done" in text_of(replies)
    assert pause_puts(bot) == []


async def test_unknown_state_paused_only_when_included(bot: Bot) -> None:
    running = add_campaigns(bot, ["running"])
    weird = add_campaigns(bot, ["calibrating"], name="Odd")
    replies = await run_as(bot, "pause all", "UADMIN")
    token = button_value(replies[-1].args, "pause_all:confirm_unknown")
    replies = await click_as(bot, "pause_all:confirm_unknown", token, "UADMIN")
    said = text_of(replies)
    # The simulator refuses `pause` for a state it has no transition for: the dialer decides.
    assert bot.sim.state.campaigns[running[0]]["state"] == "paused"
    assert weird[0] in pause_puts(bot)
    assert "paused 1, already paused or not running 1, failed 0" in said, said


async def test_pause_all_is_never_subject_to_approval(bot: Bot) -> None:
    """Even with pause in APPROVAL_REQUIRED, stopping needs no second person."""
    bot.services.settings.approval_required = "remove,pause"
    await grant(bot, OPERATOR, "operator")
    running = add_campaigns(bot, ["running", "running"])
    replies = await run_as(bot, "pause all", OPERATOR)
    token = button_value(replies[-1].args, "pause_all:confirm")
    await click_as(bot, "pause_all:confirm", token, OPERATOR)
    assert [bot.sim.state.campaigns[c]["state"] for c in running] == ["paused", "paused"]
    assert not [r for r in audit_rows(bot) if r["action"].startswith("request ")]


async def test_pause_all_needs_operator(bot: Bot) -> None:
    await grant(bot, "UVIEW", "viewer")
    add_campaigns(bot, ["running"])
    replies = await run_as(bot, "pause all", "UVIEW")
    assert "needs the *operator* role" in text_of(replies)
    assert not has_button(replies[-1].args, "pause_all:confirm")


async def test_pause_several_ids(bot: Bot) -> None:
    ids = add_campaigns(bot, ["running", "paused", "running"])
    replies = await run_as(bot, f"pause {ids[0]} {ids[1]} {ids[2]} 999", "UADMIN")
    said = text_of(replies)
    assert "paused 2, already paused or not running 1, failed 1" in said, said
    assert "#999 does not exist" in said
    assert pause_puts(bot) == [ids[0], ids[2]]
    batches = {
        json.loads(r["request"])["batch_id"]
        for r in audit_rows(bot)
        if r["action"] == "pause" and r["ref_id"] is None
    }
    assert len(batches) == 1


async def test_list_unreadable_suggests_ids(bot: Bot) -> None:
    add_campaigns(bot, ["running"])
    bot.sim.faults.set(status=503, count=10, path_prefix="/dialer/campaigns")
    replies = await run_as(bot, "pause all", "UADMIN")
    said = text_of(replies)
    assert "could not be read" in said and "/dialer pause <id> <id>" in said
    assert not has_button(replies[-1].args, "pause_all:confirm")


async def test_nothing_running(bot: Bot) -> None:
    replies = await run_as(bot, "pause all", "UADMIN")
    assert "No campaign is running" in text_of(replies)


async def test_global_shortcut_and_app_home_button(bot: Bot) -> None:
    """The shortcut has no channel: the confirmation comes to the user's Messages tab."""
    await grant(bot, OPERATOR, "operator")
    running = add_campaigns(bot, ["running", "running"])
    reply = await bot.driver.shortcut("pause_all", user_id=OPERATOR)
    assert reply.status == 200
    await bot.settle()
    dms = [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == OPERATOR]
    assert dms and "Pause 2 running campaigns?" in FakeSlack.texts(dms[-1])
    token = button_value(dms[-1].args, "pause_all:confirm")
    replies = await click_as(bot, "pause_all:confirm", token, OPERATOR, channel=OPERATOR)
    assert "paused 2" in text_of(replies)
    assert [bot.sim.state.campaigns[c]["state"] for c in running] == ["paused", "paused"]

    # The App Home's button opens the same confirmation.
    await set_state_outside(bot, running[0], "running")
    reply = await bot.driver.action(
        "pause_all:open",
        "open",
        user_id=OPERATOR,
        channel_id=None,
        response_url=None,
        container={"type": "view", "view_id": "VHOME"},
    )
    assert reply.status == 200
    await bot.settle()
    dms = [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == OPERATOR]
    assert "Pause 1 running campaign?" in FakeSlack.texts(dms[-1])


async def test_shortcut_refused_without_role(bot: Bot) -> None:
    add_campaigns(bot, ["running"])
    await bot.driver.shortcut("pause_all", user_id="UNOBODY")
    await bot.settle()
    dms = [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == "UNOBODY"]
    assert dms and "needs the *operator* role" in FakeSlack.texts(dms[-1])


async def test_a_foreign_token_is_not_used_up(bot: Bot) -> None:
    """A start confirmation's token pressed as pause-all: refused, and still usable."""
    replies = await run_as(bot, "start 1", "UADMIN")
    token = button_value(replies[-1].args, "control:confirm")
    for action_id in ("pause_all:confirm", "pause_all:cancel", "schedule:dismiss"):
        replies = await click_as(bot, action_id, token, "UADMIN")
        said = text_of(replies)
        assert "not valid" in said or "not known" in said, said
    replies = await click_as(bot, "control:confirm", token, "UADMIN")
    assert "started campaign" in text_of(replies)


async def test_hostile_names_are_escaped_in_batch_and_schedule_messages(bot: Bot) -> None:
    from tests.block_checks import contains_unescaped_mention

    hostile = "<!channel> <@U999> & co"
    ids = add_campaigns(bot, ["running", "mystery <!here>"], name=hostile)
    replies = await run_as(bot, "pause all", "UADMIN")
    token = button_value(replies[-1].args, "pause_all:confirm_unknown")
    await click_as(bot, "pause_all:confirm_unknown", token, "UADMIN")
    await run_as(bot, f"pause {ids[0]} {ids[1]}", "UADMIN")
    replies = await run_as(bot, f"start {ids[0]} in 1h", "UADMIN")
    await click_as(
        bot, "schedule:confirm", button_value(replies[-1].args, "schedule:confirm"), "UADMIN"
    )
    await run_as(bot, "schedules", "UADMIN")
    texts = [FakeSlack.texts(c) for c in bot.slack.calls]
    shown = [t for t in texts if "&lt;!channel&gt;" in t]
    assert len(shown) >= 5  # confirmation, summaries, schedule confirmation and list
    assert any("mystery &lt;!here&gt;" in t for t in texts)  # the unknown state, as given
    for text in texts:
        assert not contains_unescaped_mention(text, hostile), text
        assert not contains_unescaped_mention(text, "mystery <!here>"), text


def control_arrivals(sim: Any) -> list[float]:
    """When each pause reached the dialer (the simulator logs a request as it arrives)."""
    return sorted(
        r["ts"] for r in sim.requests if r["method"] == "PUT" and r["path"].endswith("/control")
    )


async def test_pause_all_concurrency_setting_is_honoured(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """PAUSE_ALL_CONCURRENCY=1: each pause is sent only after the one before was answered."""
    latency = 0.1
    bot = await start_bot(simulator, fake_slack, tmp_path / "bot.db", pause_all_concurrency=1)
    try:
        add_campaigns(bot, ["running"] * 4)
        replies = await run_as(bot, "pause all", "UADMIN")
        token = button_value(replies[-1].args, "pause_all:confirm")
        # Only per-campaign calls are slow; the list was read already.
        bot.sim.faults.set(latency=latency, path_prefix="/dialer/campaigns/")
        bot.sim.requests.clear()
        await click_as(bot, "pause_all:confirm", token, "UADMIN")
    finally:
        await stop_bot(bot)
    arrivals = control_arrivals(simulator)
    assert len(arrivals) == 4
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    assert min(gaps) >= latency * 0.9, gaps  # never two control calls at the dialer at once


async def test_pause_all_runs_pauses_in_parallel_by_default(bot: Bot) -> None:
    """The default lets a whole small batch out at once (the test above fails honestly)."""
    assert Settings.model_fields["pause_all_concurrency"].default == CONCURRENCY
    add_campaigns(bot, ["running"] * 4)
    replies = await run_as(bot, "pause all", "UADMIN")
    token = button_value(replies[-1].args, "pause_all:confirm")
    bot.sim.faults.set(latency=0.1, path_prefix="/dialer/campaigns/")
    bot.sim.requests.clear()
    await click_as(bot, "pause_all:confirm", token, "UADMIN")
    arrivals = control_arrivals(bot.sim)
    assert len(arrivals) == 4
    assert arrivals[-1] - arrivals[0] < 0.1, arrivals


# --- the bot's storage failing part-way through a batch ----------------------------------

HEADLINE = re.compile(
    r"paused (\d+) campaigns?: paused (\d+), already paused or not running (\d+), failed (\d+)"
    r"(?:, not sent \(the bot's storage failed\) (\d+))?"
    r"(?:, sent but not recorded (\d+) \(the dialer paused (\d+)\))?\."
)


def headline(said: str) -> dict[str, int]:
    """The summary's counts: seen paused, paused, skipped, failed, not sent, unrecorded."""
    found = HEADLINE.search(said)
    assert found, said
    keys = ("seen", "paused", "skipped", "failed", "not_sent", "unrecorded", "dialer_paused")
    return {k: int(v or 0) for k, v in zip(keys, found.groups(), strict=True)}


def nobody_told_nothing_was_sent(bot: Bot) -> None:
    for call in bot.slack.calls:
        assert "Nothing was sent" not in FakeSlack.texts(call), FakeSlack.texts(call)


async def test_storage_full_part_way_pauses_what_was_recorded_and_names_the_rest(
    bot: Bot,
) -> None:
    """SQLite's own size limit (max_page_count, as in test_storage_faults.py) a couple of
    pages above the file's size: the first pauses' audit rows fit, then the database is
    full. Those pauses went out; the rest were held back, and the summary says which, why,
    and what to do; once the storage takes writes again, its retry pauses them."""
    ids = add_campaigns(bot, ["running"] * 30)
    replies = await run_as(bot, "pause all", "UADMIN")
    token = button_value(replies[-1].args, "pause_all:confirm")
    conn = bot.services.store.db.conn
    (pages,) = conn.execute("PRAGMA page_count").fetchone()
    conn.execute(f"PRAGMA max_page_count = {int(pages) + 2}")
    bot.sim.requests.clear()
    said = text_of(await click_as(bot, "pause_all:confirm", token, "UADMIN"))

    written = sorted(
        r["campaign_id"] for r in audit_rows(bot) if r["action"] == "pause" and r["ref_id"] is None
    )
    assert 0 < len(written) < len(ids), said  # the fault hit part-way
    assert pause_puts(bot) == written  # a pause went out exactly where its row was written
    held = [c for c in ids if c not in written]
    states = bot.sim.state.campaigns
    assert {states[c]["state"] for c in written} == {"paused"}
    assert {states[c]["state"] for c in held} == {"running"}
    counts = headline(said)
    assert counts["not_sent"] == len(held), said
    assert counts["paused"] + counts["unrecorded"] == len(written), said
    assert counts["seen"] == len(written) == counts["paused"] + counts["dialer_paused"], said
    assert "*Not sent: the bot's storage failed* (" in said and "full" in said, said
    for cid in held:
        assert f"(#{cid})" in said.split("*Not sent")[1]
    assert "tell the bot's maintainers" in said and "dialer's portal" in said
    nobody_told_nothing_was_sent(bot)

    # The storage takes writes again: the retry the summary suggests pauses the rest.
    conn.execute("PRAGMA max_page_count = 1073741823")
    retry = re.search(r"`/dialer (pause [\d ]+)`", said)
    assert retry and retry.group(1) == "pause " + " ".join(map(str, held)), said
    again = text_of(await run_as(bot, retry.group(1), "UADMIN"))
    assert f"paused {len(held)}, already paused or not running 0, failed 0." in again, again
    assert {c["state"] for c in states.values() if c["id"] in ids} == {"paused"}


def fail_audit_writes(
    bot: Bot,
    monkeypatch: pytest.MonkeyPatch,
    *,
    begin: Collection[int] = (),
    complete: Collection[int] = (),
) -> None:
    """SQLite's "disk I/O error" on the pending (``begin``) or completion (``complete``)
    audit row of the given campaigns only. Injected: a real fault (a full or read-only
    database) cannot choose which campaign of a parallel batch it hits."""
    audit = bot.services.store.audit
    real_begin, real_complete = audit.begin, audit.complete

    def failing_begin(**kw: Any) -> int:
        if kw.get("campaign_id") in begin:
            raise sqlite3.OperationalError("disk I/O error")
        return real_begin(**kw)

    def failing_complete(pending_id: int, **kw: Any) -> int:
        entry = audit.get(pending_id)
        if entry is not None and entry.campaign_id in complete:
            raise sqlite3.OperationalError("disk I/O error")
        return real_complete(pending_id, **kw)

    monkeypatch.setattr(audit, "begin", failing_begin)
    monkeypatch.setattr(audit, "complete", failing_complete)


async def test_a_pause_sent_but_not_recorded_is_not_called_not_sent(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pending row was written and the pause went out; recording the dialer's answer
    failed. The summary says what the dialer answered, never "not sent"."""
    ids = add_campaigns(bot, ["running"] * 3)
    fail_audit_writes(bot, monkeypatch, begin=[ids[0]], complete=[ids[1]])
    said = text_of(await run_as(bot, "pause " + " ".join(map(str, ids)), "UADMIN"))
    states = bot.sim.state.campaigns
    assert [states[c]["state"] for c in ids] == ["running", "paused", "paused"]
    assert pause_puts(bot) == ids[1:]
    assert headline(said) == {
        "seen": 2,
        "paused": 1,
        "skipped": 0,
        "failed": 0,
        "not_sent": 1,
        "unrecorded": 1,
        "dialer_paused": 1,
    }, said
    not_sent, unrecorded = said.split("*Not sent")[1].split("*Sent, but")
    assert f"(#{ids[0]})" in not_sent and "disk I/O error" in not_sent
    assert f"`/dialer pause {ids[0]}`" in not_sent
    assert f"*Camp 1* (#{ids[1]}) — the dialer paused it" in unrecorded, said
    assert "records may not show" in unrecorded and f"(#{ids[0]})" not in unrecorded
    nobody_told_nothing_was_sent(bot)
