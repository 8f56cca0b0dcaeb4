"""Issue 15 follow-up: names in scheduled commands and in `history`, and "—" for fields
the dialer's answer lacks. Signed requests in, what Slack shows out."""

from __future__ import annotations

from typing import Any

from tests.conftest import ADMIN, Bot
from tests.fake_slack import FakeSlack
from tests.helpers_access import button_value, click_as, run_as, text_of


def add_campaign(bot: Bot, name: str, state: str = "stopped") -> int:
    base = {k: v for k, v in bot.sim.state.campaigns[1].items() if k not in ("id", "state")}
    return int(bot.sim.state.add_campaign({**base, "name": name}, state=state)["id"])


def control_puts(bot: Bot) -> list[dict[str, Any]]:
    return [r for r in bot.sim.requests if r["method"] == "PUT" and r["path"].endswith("/control")]


async def open_schedules(bot: Bot) -> list[Any]:
    return await bot.services.store.run(bot.services.store.schedules.open)


# --- 1. names in scheduled commands ---------------------------------------------------------


async def test_start_by_name_at_a_time_confirms_with_the_id_then_schedules(bot: Bot) -> None:
    replies = await run_as(bot, "start spring in 2h", ADMIN)
    shown = text_of(replies)
    assert "Spring promo" in shown and "#1" in shown, shown
    token = button_value(replies[-1].args, "schedule:confirm")
    assert await open_schedules(bot) == [], "nothing is stored before Confirm"
    said = text_of(await click_as(bot, "schedule:confirm", token, ADMIN))
    assert "Scheduled #" in said, said
    [sched] = await open_schedules(bot)
    assert (sched.campaign_id, sched.command) == (1, "start")
    assert control_puts(bot) == [], "scheduled, not run now"


async def test_quoted_name_with_pause_in_30m(bot: Bot) -> None:
    replies = await run_as(bot, 'pause "Outage Brno" in 30m', ADMIN)
    assert "Outage Brno" in text_of(replies) and "#2" in text_of(replies)
    assert button_value(replies[-1].args, "schedule:confirm")
    assert control_puts(bot) == [], "a scheduled pause does not pause now"


async def test_unquoted_name_containing_a_time_word(bot: Bot) -> None:
    cid = add_campaign(bot, "Calls in Brno")
    replies = await run_as(bot, "start calls in brno in 2h", ADMIN)
    assert f"#{cid}" in text_of(replies), text_of(replies)
    assert button_value(replies[-1].args, "schedule:confirm")


async def test_several_matches_offer_candidates_that_schedule_not_run(bot: Bot) -> None:
    summer = add_campaign(bot, "Summer promo")
    replies = await run_as(bot, "start promo in 2h", ADMIN)
    shown = text_of(replies)
    assert "Nothing was done" in shown and "Spring promo" in shown and "Summer promo" in shown
    values = FakeSlack.button_values(replies[-1].args, "schedule:pick")
    assert len(values) == 2, replies[-1].args
    assert "control:start" not in str(replies[-1].args.get("blocks")), "no run-now button"
    assert await open_schedules(bot) == [] and control_puts(bot) == []
    picked = next(v for v in values if f'"id": {summer}' in v)
    replies = await click_as(bot, "schedule:pick", picked, ADMIN)
    assert f"#{summer}" in text_of(replies) and "Summer promo" in text_of(replies)
    token = button_value(replies[-1].args, "schedule:confirm")
    await click_as(bot, "schedule:confirm", token, ADMIN)
    [sched] = await open_schedules(bot)
    assert (sched.campaign_id, sched.command) == (summer, "start")
    assert control_puts(bot) == []


async def test_a_forged_pick_button_schedules_nothing(bot: Bot) -> None:
    replies = await click_as(bot, "schedule:pick", '{"c": "remove", "id": 1, "w": "in 2h"}', ADMIN)
    assert "not valid" in text_of(replies)
    assert await open_schedules(bot) == []


async def test_a_name_with_a_bad_time_says_to_quote(bot: Bot) -> None:
    shown = text_of(await run_as(bot, "start spring at 25:00", ADMIN))
    assert "HH:MM" in shown and "quotes" in shown, shown


# --- 2. names in history -------------------------------------------------------------------


async def test_history_by_campaign_name(bot: Bot) -> None:
    bot.sim.state.campaigns[2]["state"] = "running"
    await run_as(bot, "pause 2", ADMIN)
    for text in ("history campaign outage", 'history campaign "Outage Brno"', "history #brno"):
        shown = text_of(await run_as(bot, text, ADMIN))
        assert "History of campaign #2" in shown and "*pause* #2" in shown, (text, shown)


async def test_ambiguous_history_name_offers_history_buttons(bot: Bot) -> None:
    summer = add_campaign(bot, "Summer promo")
    replies = await run_as(bot, "history campaign promo", ADMIN)
    assert "Nothing was done" in text_of(replies)
    values = FakeSlack.button_values(replies[-1].args, "campaign:history")
    assert sorted(values) == sorted(["1", str(summer)])
    shown = text_of(await click_as(bot, "campaign:history", str(summer), ADMIN))
    assert f"#{summer}" in shown


# --- 5. fields the answer lacks show as "—" ------------------------------------------------


async def test_detail_shows_a_dash_for_fields_the_dialer_did_not_send(bot: Bot) -> None:
    record = bot.sim.state.campaigns[1]
    for key in ("callerId", "activePeriod", "ivr", "callLists", "rescheduleRules"):
        record.pop(key, None)
    shown = text_of(await run_as(bot, "campaign 1", ADMIN))
    for label in ("Caller ID", "Active period", "IVR application", "Call lists"):
        assert f"*{label}*\n—" in shown, (label, shown)
    assert "*Reschedule rules*\n—" in shown
    full = text_of(await run_as(bot, "campaign 2", ADMIN))
    assert "*Caller ID*\n—" not in full, "a full record shows its values"


# --- 3. names among the ids of `pause 3 5 9` -----------------------------------------------


async def test_pause_ids_and_names_that_each_match_one_campaign(bot: Bot) -> None:
    third = add_campaign(bot, "Winter survey", state="running")
    for cid in (1, 2):
        bot.sim.state.campaigns[cid]["state"] = "running"
    shown = text_of(await run_as(bot, f'pause spring {third} "Outage Brno"', ADMIN))
    paused = sorted(int(r["path"].split("/")[3]) for r in control_puts(bot))
    assert paused == [1, 2, third], shown


async def test_pause_ids_with_an_unclear_name_pauses_nothing(bot: Bot) -> None:
    summer = add_campaign(bot, "Summer promo", state="running")
    shown = text_of(await run_as(bot, f"pause promo {summer} sprin", ADMIN))
    assert control_puts(bot) == [], "nothing runs until every name is clear"
    assert "Nothing was paused" in shown
    assert "“promo” matches 2 campaigns" in shown and f"#{summer}" in shown
    assert "“sprin” matches *Spring promo* (#1) only in part" in shown  # never loosely
    assert f"/dialer pause {summer} <id>" in shown
    reply = await bot.command(f"pause {summer} since monday")  # one id, then words: a reason?
    assert "optionally `because <reason>`" in FakeSlack.texts(reply.json or {})
