"""Listings: campaign filters and header counts, call-list details with masked numbers and
the audited "Show numbers", and the detail view's buttons per role."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import ADMIN, Bot
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

OPERATOR, VIEWER = "UOPER", "UVIEW"


def add_campaign(
    bot: Bot, name: str, state: str = "stopped", lists: list[int] | None = None
) -> int:
    base = {k: v for k, v in bot.sim.state.campaigns[1].items() if k not in ("id", "state")}
    body = {**base, "name": name, "callLists": lists or [1]}
    return int(bot.sim.state.add_campaign(body, state=state)["id"])


def shown_ids(args: dict[str, Any]) -> list[str]:
    return FakeSlack.button_values(args, "campaign:show")


# --- filters -------------------------------------------------------------------------------


async def test_campaigns_filtered_by_state_text_and_both(bot: Bot) -> None:
    running = add_campaign(bot, "Brno storm", "running")
    add_campaign(bot, "Ostrava promo", "running")
    calls = await run_as(bot, "campaigns running", ADMIN)
    assert shown_ids(calls[-1].args) == [str(running), str(running + 1)]
    calls = await run_as(bot, "campaigns running brno", ADMIN)
    assert shown_ids(calls[-1].args) == [str(running)]
    calls = await run_as(bot, "campaigns BRNO", ADMIN)
    assert shown_ids(calls[-1].args) == ["2", str(running)]
    calls = await run_as(bot, "campaigns paused stopped", ADMIN)
    assert shown_ids(calls[-1].args) == ["1", "2"]
    text = text_of(await run_as(bot, "campaigns stopped zzz", ADMIN))
    assert "No campaign matches `stopped zzz`" in text


async def test_the_header_counts_campaigns_per_state(bot: Bot) -> None:
    add_campaign(bot, "A", "running")
    add_campaign(bot, "B", "running")
    bot.sim.state.campaigns[1]["state"] = "WRONG_TIME"  # unknown to the emoji table: as given
    text = text_of(await run_as(bot, "campaigns running", ADMIN))
    assert "All campaigns: 4" in text
    assert "🟢 running 2" in text and "⏸️ paused 1" in text and "WRONG_TIME 1" in text
    # `running` includes the states in which the dialer may be calling (RUNNING_STATES)
    assert "Campaigns: running (3)" in text


async def test_paging_keeps_the_filter(bot: Bot) -> None:
    ids = [add_campaign(bot, f"Brno {i}", "running") for i in range(20)]
    add_campaign(bot, "Brno paused", "paused")
    for i in range(20):
        add_campaign(bot, f"Other {i}", "running")
    first = await run_as(bot, "campaigns running brno", ADMIN)
    assert "Page 1 of 2" in text_of(first)
    assert shown_ids(first[-1].args) == [str(i) for i in ids[:15]]
    value = button_value(first[-1].args, "campaigns:page")
    second = await click_as(bot, "campaigns:page", value, ADMIN)
    assert second[-1].args["replace_original"] is True
    assert shown_ids(second[-1].args) == [str(i) for i in ids[15:]]
    assert "Page 2 of 2" in text_of(second)
    back = await click_as(bot, "campaigns:page", "1 running brno", ADMIN)
    assert shown_ids(back[-1].args) == [str(i) for i in ids[:15]]
    # an old button (a bare page number) still works; a forged one is refused politely
    assert "Page 1 of 3" in text_of(await click_as(bot, "campaigns:page", "1", ADMIN))
    assert "not valid" in text_of(await click_as(bot, "campaigns:page", "x brno", ADMIN))


async def test_lists_take_the_same_filters(bot: Bot) -> None:
    text = text_of(await run_as(bot, "lists prague", ADMIN))
    assert "Prague customers" in text and "Brno outage area" not in text
    text = text_of(await run_as(bot, "lists paused", ADMIN))  # the lists of paused campaigns
    assert "Brno outage area" in text and "Prague customers" not in text
    text = text_of(await run_as(bot, "lists running", ADMIN))
    assert "No call list matches `running`" in text
    text = text_of(await run_as(bot, "lists", ADMIN))
    assert "Prague customers" in text and "3 numbers" in text and "used by 1 campaign" in text


# --- call-list details ---------------------------------------------------------------------


def add_big_list(bot: Bot) -> int:
    numbers = [
        {
            "number": f"+42060100{i:04d}",
            "attributes": [{"name": "city", "value": "Plzeň"}, {"name": "ref", "value": f"<{i}>"}],
        }
        for i in range(25)
    ]
    return int(bot.sim.state.add_call_list("Plzeň <customers>", numbers)["id"])


async def test_list_shows_details_campaigns_and_masked_entries(bot: Bot) -> None:
    list_id = add_big_list(bot)
    add_campaign(bot, "Plzeň promo", "running", lists=[list_id])
    calls = await run_as(bot, f"list {list_id}", ADMIN)
    text = text_of(calls)
    assert f"Call list #{list_id}: Plzeň <customers>" in text  # header: plain text
    assert "Plzeň &lt;customers&gt;" in FakeSlack.texts(calls[-1].args, mrkdwn_only=True)
    assert "25 numbers" in text and "<!date^" in text  # count and creation time
    assert "*Plzeň promo* (#3) — 🟢 running" in text
    assert "First 10 of 25 entries" in text
    assert "`+•••••••••000`" in text and "`+•••••••••009`" in text and "`+•••••••••010`" not in text
    assert "+420601000000" not in json.dumps(calls[-1].args)  # not even in the fallback text
    assert "city: Plzeň" in text and "ref: &lt;0&gt;" in text
    assert has_button(calls[-1].args, "call_list:numbers")
    by_name = text_of(await run_as(bot, "list PLZEN customers", ADMIN))  # accents folded
    assert f"Call list #{list_id}: Plzeň <customers>" in by_name


async def test_list_by_name_and_the_seed_demo(bot: Bot) -> None:
    text = text_of(await run_as(bot, "list 1", ADMIN))
    assert (
        "Prague customers" in text
        and "`+•••••••••001` — name: Jana Nováková, district: Praha 4" in text
    )
    assert "*Spring promo* (#1) — ⏹️ stopped" in text
    assert "Call list #2: Brno outage area" in text_of(await run_as(bot, "list brno", ADMIN))
    calls = await run_as(bot, "list area", ADMIN)  # 'area' is not a word of Prague's list
    assert "Call list #2" in text_of(calls)
    bot.sim.state.add_call_list("Brno centre", [])
    calls = await run_as(bot, "list brno", ADMIN)
    assert FakeSlack.button_values(calls[-1].args, "call_list:show") == ["2", "3"]
    chosen = await click_as(bot, "call_list:show", "3", ADMIN)
    assert "Call list #3: Brno centre" in text_of(chosen)
    assert "No call list is called “xyz”" in text_of(await run_as(bot, "list xyz", ADMIN))


async def test_list_new_still_opens_the_upload_form(bot: Bot) -> None:
    await run_as(bot, "list new", ADMIN)
    opened = await bot.slack.wait_for("views.open")
    assert opened[-1].args["view"]["callback_id"] == "call_list_form"


async def test_show_numbers_is_for_operators_and_audited(bot: Bot) -> None:
    await grant(bot, OPERATOR, "operator")
    await grant(bot, VIEWER, "viewer")
    viewer = await run_as(bot, "list 1", VIEWER)
    assert "`+•••••••••001`" in text_of(viewer)
    assert not has_button(viewer[-1].args, "call_list:numbers")
    assert "needs the operator role" in text_of(viewer)
    denied = await click_as(bot, "call_list:numbers", "1", VIEWER)  # a forged click
    assert "needs the *operator* role" in text_of(denied)
    assert "+420601000001" not in json.dumps([c.args for c in denied])

    op = await run_as(bot, "list 1", OPERATOR)
    shown = await click_as(
        bot, "call_list:numbers", button_value(op[-1].args, "call_list:numbers"), OPERATOR
    )
    assert shown[-1].args["replace_original"] is True
    text = text_of(shown)
    assert "`+420601000001`" in text and "`+420601000003`" in text
    assert f"shown in full to <@{OPERATOR}>" in text
    rows = [r for r in audit_rows(bot) if r["action"] == "show numbers"]
    assert [(r["user_id"], r["outcome"]) for r in rows] == [(VIEWER, "denied"), (OPERATOR, "ok")]
    request = json.loads(rows[1]["request"])
    assert (request["call_list_id"], request["numbers_shown"]) == (1, 3)
    assert set(request) <= {"call_list_id", "numbers_shown", "request_id"}  # no numbers
    assert "+420" not in (rows[1]["detail"] or "") + rows[1]["request"]


async def test_show_numbers_writes_the_audit_row_before_showing(bot: Bot) -> None:
    bot.sim.state.call_lists.pop(1)
    calls = await click_as(bot, "call_list:numbers", "1", ADMIN)
    assert "404" in text_of(calls)
    assert not [r for r in audit_rows(bot) if r["action"] == "show numbers"]


# --- detail buttons per role -------------------------------------------------------------


async def test_detail_buttons_are_shown_per_role(bot: Bot) -> None:
    await grant(bot, OPERATOR, "operator")
    await grant(bot, VIEWER, "viewer")
    viewer = (await run_as(bot, "campaign 1", VIEWER))[-1].args
    assert has_button(viewer, "campaign:history")
    hide = ("campaign:edit", "campaign:clone", "schedule:open", "control:start", "control:remove")
    for hidden in hide:
        assert not has_button(viewer, hidden), hidden
    operator = (await run_as(bot, "campaign 1", OPERATOR))[-1].args
    show = ("campaign:edit", "campaign:clone", "campaign:history", "schedule:open")
    for shown in (*show, "control:start"):
        assert has_button(operator, shown), shown
    assert not has_button(operator, "control:remove")  # admin only
    admin = (await run_as(bot, "campaign 1", ADMIN))[-1].args
    assert has_button(admin, "control:remove")
    # the campaign list follows the same rule
    listing = (await run_as(bot, "campaigns", VIEWER))[-1].args
    assert has_button(listing, "campaign:show") and not has_button(listing, "control:start")


async def test_history_button_shows_the_campaigns_entries(bot: Bot) -> None:
    bot.sim.state.campaigns[2]["state"] = "running"
    await run_as(bot, "pause 2", ADMIN)
    await grant(bot, VIEWER, "viewer")
    calls = await click_as(bot, "campaign:history", "2", VIEWER)
    assert "History of campaign #2" in text_of(calls) and "*pause* #2" in text_of(calls)


async def test_list_new_needs_the_upload_role_and_list_id_only_viewer(bot: Bot) -> None:
    await grant(bot, VIEWER, "viewer")
    said = text_of(await run_as(bot, "list new", VIEWER))
    assert "`upload` needs the *operator* role" in said
    assert "Prague customers" in text_of(await run_as(bot, "list 1", VIEWER))
    denied = [r["action"] for r in audit_rows(bot) if r["outcome"] == "denied"]
    assert denied == ["upload"]
