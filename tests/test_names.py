"""Campaigns and call lists by name: the matching rules, names wherever an id is taken (control,
edit, scheduled commands, `history`, the ids of `pause 3 5 9`), and "—" for fields the
dialer's answer lacks. Signed requests in, what Slack shows out."""

from __future__ import annotations

from typing import Any

import pytest

from bot.find import Filter, Ref, fold, match
from bot.numbers import mask_number
from handlers.commands import UsageError, parse, split_words
from tests.conftest import ADMIN, Bot
from tests.fake_slack import FakeSlack
from tests.helpers_access import (
    button_value,
    click_as,
    run_as,
    text_of,
)

OPERATOR, VIEWER = "UOPER", "UVIEW"


def control_puts(bot: Bot) -> list[dict[str, Any]]:
    return [r for r in bot.sim.requests if r["method"] == "PUT" and r["path"].endswith("/control")]


def add_campaign(bot: Bot, name: str, state: str = "stopped") -> int:
    base = {k: v for k, v in bot.sim.state.campaigns[1].items() if k not in ("id", "state")}
    return int(bot.sim.state.add_campaign({**base, "name": name}, state=state)["id"])


async def open_schedules(bot: Bot) -> list[Any]:
    return await bot.services.store.run(bot.services.store.schedules.open)


# --- the matching rules, without Slack -----------------------------------------------------


class Item:
    def __init__(self, id: int, name: str) -> None:
        self.id, self.name = id, name

    def __repr__(self) -> str:
        return f"#{self.id}"


ITEMS = [Item(1, "Spring promo"), Item(2, "Outage Brno"), Item(3, "Summer promo"), Item(4, "Plzeň")]


def test_folding_ignores_case_accents_and_spacing() -> None:
    assert fold("Plzeň") == fold("plzen") == "plzen"
    assert fold("  OSTRAVA  ") == fold("ostrava")
    assert fold("Outage   Brno") == "outage brno"
    assert fold("Žďár nad Sázavou") == "zdar nad sazavou"


@pytest.mark.parametrize(
    ("query", "strict", "matched", "candidates"),
    [
        ("spring", False, 1, []),  # one word of one name
        ("spring", True, 1, []),  # ... word for word: pause may act
        ("BRNO", True, 2, []),
        ("outage brno", True, 2, []),  # the whole name
        ("plzen", True, 4, []),  # accents ignored
        ("promo", False, None, [1, 3]),  # two promos: ask
        ("promo", True, None, [1, 3]),
        ("spr", False, 1, []),  # loosely, one match: the confirmation follows
        ("spr", True, None, [1]),  # pause never acts on a loose match: it asks
        ("xyz", False, None, []),
    ],
)
def test_match_tiers(query: str, strict: bool, matched: int | None, candidates: list[int]) -> None:
    found = match(ITEMS, query, word_for_word=strict)
    assert (found.match.id if found.match else None) == matched
    assert [c.id for c in found.candidates] == candidates


def test_no_match_offers_the_nearest_names() -> None:
    assert [i.id for i in match(ITEMS, "sprnig promo").nearest][0] == 1  # best first
    assert [i.id for i in match(ITEMS, "pilzen").nearest] == [4]
    assert match(ITEMS, "qqqq").nearest == ()


def test_a_pure_number_is_always_an_id() -> None:
    assert Ref.parse(["12"]) == Ref(id=12)
    assert Ref.parse(["#12"]) == Ref(id=12)
    assert Ref.parse(["Outage", "Brno"]) == Ref(name="Outage Brno")
    assert Ref.parse(["2024", "promo"]) == Ref(name="2024 promo")
    for bad in (["0"], [], ["#"], ["x" * 201]):
        with pytest.raises(ValueError):
            Ref.parse(bad)


def test_quotes_hold_a_name_together() -> None:
    assert split_words('pause "Outage Brno"') == ["pause", "Outage Brno"]
    assert split_words("pause \u201cOutage Brno\u201d") == ["pause", "Outage Brno"]
    assert split_words("campaign Mike's list") == ["campaign", "Mike's", "list"]
    assert split_words('campaign "unclosed name') == ["campaign", "unclosed", "name"]
    sub, cmd = parse('campaign "Outage Brno"')
    assert sub.name == "campaign" and cmd.campaign == Ref(name="Outage Brno")
    sub, paused = parse('pause "Outage Brno" because the list is wrong')
    assert (paused.campaign, paused.reason) == (Ref(name="Outage Brno"), "the list is wrong")


def test_filter_grammar() -> None:
    assert Filter.parse([]) == (Filter(), 1)
    assert Filter.parse(["running"]) == (Filter(("running",)), 1)
    assert Filter.parse(["Running", "brno", "2"]) == (Filter(("running",), "brno"), 2)
    assert Filter.parse(["paused", "stopped"]) == (Filter(("paused", "stopped")), 1)
    wanted, _ = Filter.parse(["running", "Outage", "Brno"])
    assert Filter.parse(str(wanted).split()) == (wanted, 1)  # what paging buttons carry
    with pytest.raises(UsageError, match="page number"):
        parse("campaigns running 0")


def test_masking_keeps_only_the_last_three_digits() -> None:
    assert mask_number("+420601000123") == "+•••••••••123"
    assert mask_number("+420 601 000 123") == "+••• ••• ••• 123"
    assert "601" not in mask_number("+420601000123")


# --- names wherever an id is taken ---------------------------------------------------------


async def test_campaign_by_name_shows_its_detail(bot: Bot) -> None:
    text = text_of(await run_as(bot, "campaign brno", ADMIN))
    assert "Campaign #2: Outage Brno" in text
    text = text_of(await run_as(bot, 'campaign "outage BRNO"', ADMIN))
    assert "Campaign #2: Outage Brno" in text


async def test_accent_insensitive_names(bot: Bot) -> None:
    plzen = add_campaign(bot, "Plzeň outage")
    ostrava = add_campaign(bot, "Ostrava")
    assert f"Campaign #{plzen}: Plzeň outage" in text_of(await run_as(bot, "campaign plzen", ADMIN))
    assert f"Campaign #{plzen}:" in text_of(await run_as(bot, "campaign PLZEŇ", ADMIN))
    assert f"Campaign #{ostrava}:" in text_of(await run_as(bot, "campaign ostrava", ADMIN))


async def test_a_pure_number_is_an_id_even_when_a_name_is_that_number(bot: Bot) -> None:
    named_two = add_campaign(bot, "1")
    text = text_of(await run_as(bot, "campaign 1", ADMIN))
    assert "Campaign #1: Spring promo" in text and f"#{named_two}" not in text


async def test_pause_spring_pauses_spring_promo_and_shows_the_id(bot: Bot) -> None:
    bot.sim.state.campaigns[1]["state"] = "running"
    text = text_of(await run_as(bot, "pause spring", ADMIN))
    assert "paused campaign *Spring promo* (#1)" in text
    assert bot.sim.state.campaigns[1]["state"] == "paused"
    assert [r["path"] for r in control_puts(bot)] == ["/dialer/campaigns/1/control"]


async def test_pause_quoted_full_name(bot: Bot) -> None:
    bot.sim.state.campaigns[2]["state"] = "running"
    text = text_of(await run_as(bot, 'pause "Outage Brno"', ADMIN))
    assert "(#2)" in text and bot.sim.state.campaigns[2]["state"] == "paused"


async def test_pause_on_a_loose_match_asks_and_sends_nothing(bot: Bot) -> None:
    bot.sim.state.campaigns[1]["state"] = "running"
    calls = await run_as(bot, "pause spr", ADMIN)
    assert "word for word" in text_of(calls) and "Nothing was done" in text_of(calls)
    assert FakeSlack.button_values(calls[-1].args, "control:pause") == ["1"]
    assert control_puts(bot) == []


async def test_start_promo_with_two_promos_runs_only_the_chosen_one(bot: Bot) -> None:
    summer = add_campaign(bot, "Summer promo")
    calls = await run_as(bot, "start promo", ADMIN)
    assert "2 campaigns match “promo”" in text_of(calls)
    assert FakeSlack.button_values(calls[-1].args, "control:start") == ["1", str(summer)]
    assert control_puts(bot) == []  # nothing sent until one is chosen
    assert not FakeSlack.buttons(calls[-1].args, "control:confirm")  # nor offered to confirm
    with bot.services.store._lock:
        assert list(bot.services.store.db.query("SELECT * FROM claims")) == []
    confirm = await click_as(bot, "control:start", str(summer), ADMIN)
    assert f"Start campaign #{summer}?" in text_of(confirm)
    assert control_puts(bot) == []
    done = await click_as(
        bot, "control:confirm", button_value(confirm[-1].args, "control:confirm"), ADMIN
    )
    assert f"started campaign *Summer promo* (#{summer})" in text_of(done)
    assert [r["path"] for r in control_puts(bot)] == [f"/dialer/campaigns/{summer}/control"]
    assert bot.sim.state.campaigns[1]["state"] == "stopped"


async def test_pause_promo_with_two_promos_asks(bot: Bot) -> None:
    summer = add_campaign(bot, "Summer promo", state="running")
    bot.sim.state.campaigns[1]["state"] = "running"
    calls = await run_as(bot, "pause promo", ADMIN)
    assert FakeSlack.button_values(calls[-1].args, "control:pause") == ["1", str(summer)]
    assert control_puts(bot) == []
    await click_as(bot, "control:pause", str(summer), ADMIN)
    assert bot.sim.state.campaigns[summer]["state"] == "paused"
    assert bot.sim.state.campaigns[1]["state"] == "running"


async def test_one_name_match_leads_to_the_usual_confirmation(bot: Bot) -> None:
    calls = await run_as(bot, "start spring", ADMIN)
    assert "Start campaign #1?" in text_of(calls) and "(#1)" in text_of(calls)
    assert control_puts(bot) == []


async def test_no_match_answers_with_the_nearest_names(bot: Bot) -> None:
    calls = await run_as(bot, "start sprnig promo", ADMIN)
    assert "No campaign is called “sprnig promo”" in text_of(calls)
    assert FakeSlack.button_values(calls[-1].args, "control:start")[0] == "1"
    text = text_of(await run_as(bot, "campaign qqqq", ADMIN))
    assert "No campaign is called “qqqq”" in text and "/dialer campaigns" in text
    assert control_puts(bot) == []


async def test_names_in_the_reply_are_escaped(bot: Bot) -> None:
    add_campaign(bot, "<!channel> promo")
    calls = await run_as(bot, "start promo", ADMIN)
    assert "&lt;!channel&gt; promo" in FakeSlack.texts(calls[-1].args)
    assert "<!channel>" not in FakeSlack.texts(calls[-1].args)


async def test_edit_by_name_opens_the_form_of_that_campaign(bot: Bot) -> None:
    await run_as(bot, "edit brno", ADMIN)
    await bot.slack.wait_for("views.update")
    view = bot.slack.calls_to("views.update")[-1].args["view"]
    assert '"campaign_id":2' in view["private_metadata"]


async def test_a_name_needs_the_role_before_it_is_looked_up(bot: Bot) -> None:
    calls = await run_as(bot, "start spring", VIEWER)
    assert "needs the *operator* role" in text_of(calls)
    assert not [r for r in bot.sim.requests if r["path"] == "/dialer/campaigns"]


# --- names in scheduled commands -----------------------------------------------------------


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


# --- names in history ----------------------------------------------------------------------


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


# --- fields the answer lacks show as "—" ---------------------------------------------------


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


# --- names among the ids of `pause 3 5 9` --------------------------------------------------


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
