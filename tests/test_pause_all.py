"""The emergency stop: `/dialer pause all`, `pause 3 5 9`, the shortcut and the App Home button."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp

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
