"""`/dialer history` as a new user reads it: counts, paging, filters, names, and the audit
anchors the bot posted shown as what they are. Signed requests in, what Slack shows out."""

from __future__ import annotations

from tests.conftest import Bot
from tests.helpers_access import button_value, click_as, grant, run_as, text_of
from tests.test_audit_cli import make_history

ADMIN = "UADMIN"


async def make_entries(bot: Bot, n: int) -> None:
    """n ok entries on campaign 2, one line each (pause/unpause alternating needs no click)."""
    for i in range(n):
        bot.sim.state.campaigns[2]["state"] = "running"
        await run_as(bot, "pause 2", ADMIN)
        assert i >= 0


async def test_a_lone_number_is_a_count_of_the_whole_log(bot: Bot) -> None:
    await make_entries(bot, 4)
    replies = await run_as(bot, "history 3", ADMIN)
    text = text_of(replies)
    assert "History of campaign" not in text and "No entries yet" not in text
    assert text.count("*pause* #2") == 3 and "3 entries, newest first" in text
    assert button_value(replies[-1].args, "history:older")


async def test_older_pages_back_until_nothing_is_left(bot: Bot) -> None:
    await make_entries(bot, 5)
    first = await run_as(bot, "history 2", ADMIN)
    ids_seen = [e.id for e in bot.services.store.audit.history(limit=5)]
    value = button_value(first[-1].args, "history:older")
    second = await click_as(bot, "history:older", value, ADMIN)
    assert second[-1].args.get("replace_original") is True
    assert "2 entries" in text_of(second)
    value = button_value(second[-1].args, "history:older")
    third = await click_as(bot, "history:older", value, ADMIN)
    assert "1 entry" in text_of(third)
    assert "history:older" not in str(third[-1].args.get("blocks")), "nothing older: no button"
    assert len(ids_seen) == 5


async def test_fifty_entries_are_reachable(bot: Bot) -> None:
    replies = await run_as(bot, "history 50", ADMIN)
    assert "No entries yet" in text_of(replies)
    assert "History of campaign #50" not in text_of(replies)


async def test_a_campaign_is_named_explicitly(bot: Bot) -> None:
    await make_entries(bot, 2)
    bot.sim.state.campaigns[1]["state"] = "running"
    await run_as(bot, "pause 1", ADMIN)
    for text in ("history #2", "history campaign 2", "history 5 #2", "history #2 5"):
        shown = text_of(await run_as(bot, text, ADMIN))
        assert "History of campaign #2" in shown, text
        assert shown.count("*pause* #2") == 2 and "*pause* #1" not in shown, text


async def test_history_of_an_unknown_campaign_says_so(bot: Bot) -> None:
    shown = text_of(await run_as(bot, "history #99", ADMIN))
    assert "There is no campaign #99" in shown and "`/dialer campaigns`" in shown
    # A campaign that exists but has no entries yet is simply empty.
    assert "No entries yet" in text_of(await run_as(bot, "history #1", ADMIN))


async def test_filters_by_person_and_outcome(bot: Bot) -> None:
    await grant(bot, "UVIEW", "viewer")
    await make_entries(bot, 1)
    await run_as(bot, "pause 2", "UVIEW")  # refused: denied
    await run_as(bot, "pause 2", ADMIN)  # 2 is paused now → nothing sent, no entry
    mine = text_of(await run_as(bot, "history <@UVIEW|viewer>", ADMIN))
    assert "<@UVIEW>" in mine and "<@UADMIN> *pause*" not in mine and "1 entry" in mine
    denied = text_of(await run_as(bot, "history denied", ADMIN))
    assert "🚫 denied" in denied and "✅" not in denied
    failed = text_of(await run_as(bot, "history failed", ADMIN))
    assert "No entries yet" in failed


async def test_denials_stay_out_of_a_campaigns_last_entries(bot: Bot) -> None:
    await grant(bot, "UVIEW", "viewer")
    await make_entries(bot, 1)
    for _ in range(6):
        await run_as(bot, "pause 2", "UVIEW")
    detail = text_of(await run_as(bot, "campaign 2", ADMIN))
    last = detail.split("Last audit entries")[1]
    assert "<@UADMIN> *pause* #2" in last and "denied" not in last.split("More:")[0]
    assert "/dialer history #2 denied" in detail
    asked = text_of(await run_as(bot, "history #2 denied", ADMIN))
    assert asked.count("🚫 denied") == 6


async def test_bad_history_words_are_answered_with_what_to_type(bot: Bot) -> None:
    for text, answer in [
        ("history #2 #3", "names a campaign twice"),
        ("history 12 20", "a campaign is named with `#`, e.g. `history #12 20`"),
        ("history campaign", "needs an id or a name after `campaign`"),
        ("history @nobody", "needs a user mention"),
        ("history 51", "too large for a count (at most 50)"),
    ]:
        assert answer in text_of(await run_as(bot, text, ADMIN)), text


async def test_a_forged_older_button_is_refused(bot: Bot) -> None:
    replies = await click_as(bot, "history:older", '{"count": 9999}', ADMIN)
    assert "That button is not valid" in text_of(replies)


async def test_completion_row_names_the_campaign_it_created(bot: Bot) -> None:
    audit = bot.services.store.audit
    pending = audit.begin(action="create_campaign", user_id=ADMIN, channel_id="C0001")
    audit.complete(pending, outcome="ok", detail="#7: created", campaign_id=7)
    [entry] = audit.history(campaign_id=7)
    assert entry.action == "create_campaign" and entry.outcome == "ok"
    assert audit.verify().ok


async def test_an_anchor_row_reads_as_an_anchor_not_as_a_person(bot: Bot) -> None:
    await make_history(bot)  # something to anchor
    poster = bot.services.anchor
    entry = await poster.post()
    assert entry is not None
    text = text_of(await run_as(bot, "history", ADMIN))
    assert "<@None>" not in text
    assert f"🔗 audit anchor posted to <#{poster.channel}>: entry {entry}" in text
