"""`/dialer clone <id|name>` and the Clone button open the campaign form filled
from the original, named "<name> (copy)"; submitting creates a new campaign."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from handlers.campaign_form import fields as f
from simulator.demo.session import DemoSession, ScriptInput
from tests.conftest import ADMIN, Bot
from tests.fake_slack import FakeSlack
from tests.helpers_access import audit_rows, click_as, grant, run_as, text_of
from tests.test_campaign_form import state_from_view, submit, writes

VIEWER = "UVIEW"


async def opened_form(bot: Bot) -> tuple[str, dict[str, Any]]:
    updated = await bot.slack.wait_for("views.update")
    return updated[-1].args["view_id"], updated[-1].args["view"]


def value_of(view: dict[str, Any], block_id: str) -> Any:
    el = next(b for b in view["blocks"] if b.get("block_id") == block_id)["element"]
    return el.get("initial_value") or el.get("initial_time") or el.get("initial_options")


async def test_clone_opens_a_filled_form_that_creates_a_copy(bot: Bot) -> None:
    await run_as(bot, "clone 1", ADMIN)
    view_id, view = await opened_form(bot)
    assert view["title"]["text"] == "Clone campaign"
    assert view["submit"]["text"] == "Create"
    assert value_of(view, f.NAME) == "Spring promo (copy)"
    assert value_of(view, f.CALLER_ID) == "+420222000111"
    assert value_of(view, f.START) == "09:00" and value_of(view, f.END) == "17:00"
    assert json.loads(view["private_metadata"])["source"] == 1

    reply = await submit(bot, view_id, view, state_from_view(view))
    assert reply.status == 200
    await bot.settle()
    posts = [w for w in writes(bot) if w["method"] == "POST"]
    assert len(posts) == 1 and posts[0]["path"] == "/dialer/campaigns"
    original = bot.sim.state.campaigns[1]
    copy = next(c for c in bot.sim.state.campaigns.values() if c["name"] == "Spring promo (copy)")
    assert copy["id"] != 1 and copy["state"] == "stopped"
    for key in ("activePeriod", "callLists", "rescheduleRules", "ivr"):
        assert copy[key] == original[key], key
    assert copy["callerId"].lstrip("+") == original["callerId"].lstrip("+")  # the form's format
    assert original["name"] == "Spring promo"  # the original is untouched
    assert not [w for w in writes(bot) if w["method"] == "PUT"]
    rows = [r for r in audit_rows(bot) if r["action"] == "create_campaign"]
    assert [r["outcome"] for r in rows] == ["pending", "ok"]
    assert "copy of #1 Spring promo" in rows[-1]["detail"]
    assert f"#{copy['id']}" in rows[-1]["detail"]


async def test_clone_by_name_and_then_both_promos_are_offered(bot: Bot) -> None:
    await run_as(bot, "clone spring", ADMIN)
    view_id, view = await opened_form(bot)
    assert value_of(view, f.NAME) == "Spring promo (copy)"
    await submit(bot, view_id, view, state_from_view(view))
    await bot.settle()
    calls = await run_as(bot, "start promo", ADMIN)
    assert FakeSlack.button_values(calls[-1].args, "control:start") == ["1", "3"]


async def test_the_clone_button_on_the_detail_view(bot: Bot) -> None:
    detail = await run_as(bot, "campaign 2", ADMIN)
    assert FakeSlack.button_values(detail[-1].args, "campaign:clone") == ["2"]
    await click_as(bot, "campaign:clone", "2", ADMIN)
    _, view = await opened_form(bot)
    assert value_of(view, f.NAME) == "Outage Brno (copy)"
    assert value_of(view, f.QUEUE) == "green"


async def test_a_copy_whose_name_is_taken_gets_the_next_free_one(bot: Bot) -> None:
    bot.sim.state.add_campaign({**bot.sim.state.campaigns[1], "name": "Spring promo (copy)"})
    await run_as(bot, "clone 1", ADMIN)
    _, view = await opened_form(bot)
    assert value_of(view, f.NAME) == "Spring promo (copy 2)"


async def test_clone_needs_the_operator_role(bot: Bot) -> None:
    await grant(bot, VIEWER, "viewer")
    assert "`clone` needs the *operator* role" in text_of(await run_as(bot, "clone 1", VIEWER))
    said = text_of(await click_as(bot, "campaign:clone", "1", VIEWER))
    assert "`clone` needs the *operator* role" in said
    assert not bot.slack.calls_to("views.open")
    denied = [r["action"] for r in audit_rows(bot) if r["outcome"] == "denied"]
    assert denied == ["clone", "clone"]


async def test_clone_of_a_missing_campaign_says_so_in_the_form(bot: Bot) -> None:
    await run_as(bot, "clone 999", ADMIN)
    _, view = await opened_form(bot)
    assert "no campaign #999" in FakeSlack.texts({"blocks": view["blocks"]})
    assert not [w for w in writes(bot) if w["method"] == "POST"]


def test_form_metadata_with_a_source_is_checked() -> None:
    meta = f.FormMeta("create", None, None, 1, source=7)
    assert f.FormMeta.load(meta.dump()) == meta
    for bad in (
        {"source": "7"},
        {"source": 0},
        {"source": True},
        {"mode": "edit", "campaign_id": 3},
    ):
        raw = {"mode": "create", "campaign_id": None, "channel_id": None, "rules": 1, "source": 7}
        assert f.FormMeta.load(json.dumps({**raw, **bad})) is None, bad
    plain = f.FormMeta("create", None, None, 1)
    assert "source" not in json.loads(plain.dump())


async def test_the_find_demo_script_in_the_console(tmp_path: Path) -> None:
    """`dialer-bot demo --script tests/demo_find_script.txt`, in process."""
    lines: list[str] = []
    session = await DemoSession.start(db_path=str(tmp_path / "demo.db"), out=lines.append)
    try:
        script = (Path(__file__).parent / "demo_find_script.txt").read_text(encoding="utf-8")
        code = await session.run(ScriptInput(script.splitlines(), session.out))
        text = "\n".join(lines)
        assert code == 0, text[-3000:]
        sim = session.sim
        assert "@alice paused campaign Spring promo (#1)" in text  # pause spring
        assert sim.state.campaigns[1]["state"] == "paused"
        assert "Campaign Spring promo (copy) created (#3)" in text  # clone 1
        assert "2 campaigns match “promo”" in text
        assert sim.state.campaigns[3]["state"] == "running"  # only the chosen one
        assert sim.state.campaigns[1]["state"] == "paused"
        assert "`+•••••••••001` — name: Jana Nováková" in text  # list 1, masked
        assert "+420601000001" not in text
    finally:
        await session.close()
