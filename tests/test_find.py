"""Issue 15: campaigns and call lists by name, filters, call-list details, detail buttons."""

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
