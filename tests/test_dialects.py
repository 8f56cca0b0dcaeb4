"""The bot against both readings of the dialer guide (simulator --dialect guide|v2).

The same flows run against each: start through its confirmation (audited ok, announced),
the listings, a server-side 400 landing on its form field, and pause on a campaign whose
state the bot has never heard of.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from handlers.campaign_form import fields as f
from simulator.faults import FaultPlan
from simulator.server import RunningSimulator
from tests.conftest import ADMIN, NOTIFY, Bot, assert_everything_sent_is_valid, start_bot, stop_bot
from tests.fake_slack import FakeSlack
from tests.slack_driver import multi_select_value, text_value
from tests.test_campaign_form import open_form, submit, valid_state, writes
from tests.test_control import button_values, confirmation_token, last_reply, reply_text

# The dialect's own names for the seed states: shown as given, never translated.
IDLE = {"guide": "stopped", "v2": "IDLE"}
RUNNING = {"guide": "running", "v2": "RUNNING"}
PAUSED = {"guide": "paused", "v2": "PAUSED"}


@pytest.fixture
async def dbot(
    dialect_sim: RunningSimulator, fake_slack: FakeSlack, tmp_path: Path
) -> AsyncIterator[Bot]:
    b = await start_bot(dialect_sim, fake_slack, tmp_path / "bot.db")
    yield b
    await stop_bot(b)
    assert_everything_sent_is_valid(fake_slack)


async def set_state_outside_slack(sim: RunningSimulator, campaign_id: int, state: str) -> None:
    """As someone in the dialer's own portal would: the simulator's test-only endpoint."""
    async with httpx.AsyncClient(base_url=sim.url) as http:
        response = await http.put(f"/_sim/campaigns/{campaign_id}/state", json={"state": state})
    assert response.status_code == 200, response.text


def notes(bot: Bot) -> list[Any]:
    return [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == NOTIFY]


async def test_start_confirm_audit_ok_and_notification(dbot: Bot) -> None:
    d = dbot.sim.dialect.name
    token = await confirmation_token(dbot, "start 1")
    assert IDLE[d] in reply_text(dbot)
    await dbot.action("control:confirm", token)
    await dbot.settle()
    assert dbot.sim.state.campaigns[1]["state"] == RUNNING[d]
    assert "started campaign *Spring promo* (#1)" in reply_text(dbot)
    assert "Now " in reply_text(dbot) and f"{RUNNING[d]}." in reply_text(dbot)
    [entry] = dbot.services.store.audit.history(campaign_id=1)
    assert (entry.action, entry.outcome, entry.user_id) == ("start", "ok", ADMIN)
    # Threaded (the default): the campaign's parent message, then the notification in it.
    [note] = await dbot.slack.wait_for(
        "chat.postMessage", lambda c: c.args["channel"] == NOTIFY and bool(c.args.get("thread_ts"))
    )
    assert f"started campaign *Spring promo* (#1), was {IDLE[d]}" in FakeSlack.texts(note.args)
    assert button_values(note.args, "control:pause") == ["1"]


async def test_listings_in_either_envelope(dbot: Bot) -> None:
    d = dbot.sim.dialect.name
    await dbot.command("campaigns")
    await dbot.settle()
    args = last_reply(dbot)
    text = FakeSlack.texts(args)
    names = [c["name"] for c in dbot.sim.state.campaigns.values()]
    assert all(n in text for n in names), text  # v2 serves 2 a page: every page was read
    assert IDLE[d] in text and PAUSED[d] in text
    assert button_values(args, "control:start")[:1] == ["1"]
    assert "2" in button_values(args, "control:unpause")
    await dbot.command("ivr")
    await dbot.settle()
    assert "Outage announcement" in reply_text(dbot) and "Agent handoff" in reply_text(dbot)
    await dbot.command("lists")
    await dbot.settle()
    assert "Prague customers" in reply_text(dbot) and "Brno outage area" in reply_text(dbot)
    await dbot.command("campaign 2")
    await dbot.settle()
    assert "Outage Brno" in reply_text(dbot) and PAUSED[d] in reply_text(dbot)
    # The dialer's own word, with the emoji the bot gives that state in either dialect.
    assert f"⏸️ {PAUSED[d]}" in reply_text(dbot)


async def test_server_side_400_lands_on_its_form_field(dbot: Bot) -> None:
    view_id, view = await open_form(dbot)
    reply = await submit(
        dbot, view_id, view, valid_state(**{f.CALL_LISTS: multi_select_value(["99"])})
    )
    assert reply.json is not None and reply.json["response_action"] == "errors", reply.text
    assert list(reply.json["errors"]) == [f.CALL_LISTS]
    assert "call list 99 does not exist" in reply.json["errors"][f.CALL_LISTS]
    await dbot.settle()
    assert [w["status"] for w in writes(dbot)] == [400]
    entries = await dbot.services.store.run(dbot.services.store.audit.history, limit=5)
    assert (entries[0].action, entries[0].outcome) == ("create_campaign", "failed")


async def test_pause_on_a_state_the_bot_does_not_know(dbot: Bot) -> None:
    """Offered and sent, never refused by the bot; the dialer decides and is quoted."""
    await set_state_outside_slack(dbot.sim, 1, "DIALING")
    await dbot.command("campaigns")
    await dbot.settle()
    args = last_reply(dbot)
    assert "DIALING" in FakeSlack.texts(args)
    assert "1" in button_values(args, "control:pause")
    await dbot.command("pause 1")
    await dbot.settle()
    puts = [r for r in dbot.sim.requests if r["path"] == "/dialer/campaigns/1/control"]
    assert [r["json"] for r in puts] == [{"command": "pause"}]
    [entry] = dbot.services.store.audit.history(campaign_id=1)
    if dbot.sim.dialect.name == "v2":  # v2 knows DIALING and pauses it
        assert dbot.sim.state.campaigns[1]["state"] == "PAUSED"
        assert entry.outcome == "ok"
        assert "was DIALING" in FakeSlack.texts(notes(dbot)[0].args)
    else:  # the guide dialect refuses: its own words reach the user
        assert "Cannot pause campaign 1: it is DIALING" in reply_text(dbot)
        assert entry.outcome == "failed" and notes(dbot) == []


async def test_dialer_refusal_is_shown_word_for_word(dbot: Bot) -> None:
    await set_state_outside_slack(dbot.sim, 1, "ARCHIVING")
    await dbot.command("pause 1")
    await dbot.settle()
    assert "the dialer answered 409: Cannot pause campaign 1: it is ARCHIVING" in reply_text(dbot)


async def test_unknown_state_is_shown_as_given_and_escaped(dbot: Bot) -> None:
    await set_state_outside_slack(dbot.sim, 2, "<b>on hold & waiting")
    await dbot.command("campaign 2")
    await dbot.settle()
    text = FakeSlack.texts(last_reply(dbot))
    assert "&lt;b&gt;on hold &amp; waiting" in text and "<b>" not in text
    for command in ("start", "pause", "unpause", "reload"):
        assert button_values(last_reply(dbot), f"control:{command}") == ["2"], command


async def test_wrong_time_counts_as_running(dbot: Bot) -> None:
    await set_state_outside_slack(dbot.sim, 1, "WRONG_TIME")
    await dbot.command("start 1")
    await dbot.settle()
    assert "start is not possible now" in reply_text(dbot)  # known: nothing sent
    await dbot.command("pause 1")
    await dbot.settle()
    if dbot.sim.dialect.name == "v2":
        assert dbot.sim.state.campaigns[1]["state"] == "PAUSED"
    puts = [r["json"] for r in dbot.sim.requests if r["path"].endswith("/control")]
    assert puts == [{"command": "pause"}]


@pytest.mark.parametrize("dialect_sim", ["v2"], indirect=True)
async def test_v2_duplicate_name_400_lands_on_the_name_field(dbot: Bot) -> None:
    """v2 ignores repeated spaces when comparing names, the bot's own check does not."""
    view_id, view = await open_form(dbot)
    reply = await submit(dbot, view_id, view, valid_state(**{f.NAME: text_value("Spring  promo")}))
    assert reply.json is not None and reply.json["response_action"] == "errors", reply.text
    assert list(reply.json["errors"]) == [f.NAME]
    assert "already exists" in reply.json["errors"][f.NAME]


@pytest.mark.parametrize("dialect_sim", ["v2"], indirect=True)
async def test_v2_create_without_message_and_204_update(dbot: Bot) -> None:
    view_id, view = await open_form(dbot)
    reply = await submit(dbot, view_id, view, valid_state())
    assert reply.json is not None and reply.json["response_action"] == "update", reply.text
    await dbot.settle()
    new_id = max(dbot.sim.state.campaigns)
    assert dbot.sim.state.campaigns[new_id]["name"] == "Autumn promo"
    entries = await dbot.services.store.run(dbot.services.store.audit.history, limit=5)
    assert (entries[0].action, entries[0].outcome) == ("create_campaign", "ok")
    assert [n for n in notes(dbot) if "Autumn promo" in FakeSlack.texts(n.args)]


@pytest.mark.parametrize("dialect_sim", ["v2"], indirect=True)
async def test_accepted_204_whose_state_cannot_be_read_is_still_ok(dbot: Bot) -> None:
    """The dialer took the command (204); reading the new state fails: audited ok,
    announced, and the reply says the new state is not known."""
    orig = dbot.sim.faults.plan
    puts = 0

    def plan(path: str) -> FaultPlan:
        nonlocal puts
        last = dbot.sim.requests[-1]
        puts += last["method"] == "PUT"
        if puts and last["method"] == "GET" and path == "/dialer/campaigns/3":
            return FaultPlan(status=500)
        return orig(path)

    dbot.sim.faults.plan = plan  # type: ignore[method-assign]
    await dbot.command("pause 3")  # RUNNING in the v2 seed
    await dbot.settle()
    assert dbot.sim.state.campaigns[3]["state"] == "PAUSED"
    text = reply_text(dbot)
    assert "paused campaign *Winter survey* (#3)" in text
    assert "the new state is not known" in text and "Now " not in text
    [entry] = dbot.services.store.audit.history(campaign_id=3)
    assert entry.outcome == "ok" and "accepted (HTTP 204)" in entry.detail
    assert "paused campaign *Winter survey* (#3), was RUNNING" in FakeSlack.texts(
        notes(dbot)[0].args
    )
