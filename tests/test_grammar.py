"""The /dialer grammar: typed commands, and usage errors that say what to type instead."""

from __future__ import annotations

import pytest

from bot.find import Filter, Ref
from handlers.commands import SUBCOMMANDS, UsageError, parse
from handlers.grammar import (
    READERS,
    AccessCommand,
    CancelSchedule,
    Control,
    History,
    Listing,
    Several,
    ShowCallList,
    Subscribe,
    parse_when,
)
from tests.conftest import Bot
from tests.fake_slack import FakeSlack


def usage_error(text: str) -> str:
    with pytest.raises(UsageError) as err:
        parse(text)
    return err.value.text


# --- every command names what it acts on, in one field --------------------------------------


def test_every_subcommand_is_read_and_routed() -> None:
    assert set(READERS) == set(SUBCOMMANDS)


def test_the_campaign_field_says_what_a_command_acts_on() -> None:
    assert parse("campaign 12")[1].campaign == Ref(id=12)
    assert parse("edit spring")[1].campaign == Ref(name="spring")
    assert parse("ivr")[1].campaign is None
    paused = parse("pause #12 because the list is wrong")[1]
    assert paused == Control(name="pause", campaign=Ref(id=12), reason="the list is wrong")
    later = parse("start spring promo tomorrow 08:00")[1]
    assert later.campaign == Ref(name="spring promo") and later.when is not None
    assert later.when.tomorrow and later.when.text == "tomorrow 08:00"


def test_several_campaigns_only_after_pause() -> None:
    every = parse("pause all")[1]
    assert isinstance(every, Control) and every.campaign is None
    assert every.several == Several(every_running=True)
    many = parse('pause 3 5 spring "Outage Brno"')[1]
    assert isinstance(many, Control) and many.campaign is None
    assert many.several == Several((3, 5), ("spring", "Outage Brno"))


def test_the_other_subcommands_read_into_their_fields() -> None:
    assert parse("campaigns running brno 2")[1] == Listing(
        name="campaigns", wanted=Filter(("running",), "brno"), page=2
    )
    assert parse("list prague")[1] == ShowCallList(name="list", call_list=Ref(name="prague"))
    sub, upload = parse("list new")  # an alias: the same form and role as `upload`
    assert sub.name == "upload" and upload.name == "upload"
    assert parse("subscribe flat")[1] == Subscribe(name="subscribe", mode="flat")
    assert parse("schedule cancel 3")[1] == CancelSchedule(name="schedule", number=3)
    assert parse("history #12 20 <@U123|bob> failed")[1] == History(
        name="history", campaign=Ref(id=12), count=20, user_id="U123", outcome="failed"
    )
    assert parse("history campaign spring")[1].campaign == Ref(name="spring")
    assert parse("access revoke <@U123|bob> <#C123|ops>")[1] == AccessCommand(
        name="access", verb="revoke", user_id="U123", channels=("C123",)
    )


# --- usage errors that help ------------------------------------------------------------------


@pytest.mark.parametrize("verb", ["start", "unpause"])
def test_several_ids_after_a_one_campaign_command_point_to_pause(verb: str) -> None:
    said = usage_error(f"{verb} 1 2")
    assert f"`/dialer {verb}` takes one campaign" in said
    assert "`/dialer pause 1 2`" in said and "No campaign is called" not in said
    # A name made of numbers still works, in quotes.
    assert parse(f'{verb} "1 2"')[1].campaign == Ref(name="1 2")


@pytest.mark.parametrize(
    "text", ["start 12 tomorow 9:00", "pause 12 tomorow 9:00", "start spring tomorow at 9:00"]
)
def test_a_misspelt_tomorrow_is_named(text: str) -> None:
    assert "did you mean `tomorrow`?" in usage_error(text)


def test_a_misspelt_tomorrow_in_the_schedule_form() -> None:
    with pytest.raises(ValueError, match="did you mean `tomorrow`"):
        parse_when(["tomorow", "9:00"])


def test_a_name_that_only_looks_like_tomorrow_is_left_alone() -> None:
    assert parse("campaign tomorows news")[1].campaign == Ref(name="tomorows news")


@pytest.mark.parametrize("text", ["start 12 in 9000h", "start 12 in 99999999999h"])
def test_a_delay_too_long_says_the_longest(text: str) -> None:
    assert "the longest delay is 366 days (`in 8784h`)" in usage_error(text)


def test_two_outcomes_ask_to_choose_one() -> None:
    said = usage_error("history failed denied")
    assert "choose one: `history failed` or `history denied`" in said
    assert "names a outcome" not in said


def test_a_reason_without_because_says_where_because_goes() -> None:
    said = usage_error("pause 1 lunch break")
    assert "put `because` before a reason" in said
    assert "`/dialer pause 1 because lunch break`" in said


async def test_the_usage_errors_come_back_in_the_ack(bot: Bot) -> None:
    for text, said in [
        ("start 1 2", "`/dialer pause 1 2`"),
        ("unpause 1 3", "`/dialer pause 1 3`"),
        ("start 1 tomorow 9:00", "did you mean `tomorrow`?"),
        ("start 1 in 9000h", "the longest delay is 366 days"),
        ("history failed denied", "choose one"),
        ("pause 1 lunch break", "`/dialer pause 1 because lunch break`"),
    ]:
        reply = await bot.command(text)
        assert reply.json is not None and reply.json["response_type"] == "ephemeral"
        assert said in FakeSlack.texts(reply.json), text
    await bot.settle()
    assert bot.replies() == [], "nothing ran after the ack"
    assert [r for r in bot.sim.requests if r["method"] == "PUT"] == []
