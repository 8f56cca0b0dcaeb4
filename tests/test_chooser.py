"""The "Which campaign?" chooser offers, under each candidate, only a command its state
allows (as listings do); a state the bot does not know is offered the command anyway."""

from __future__ import annotations

from tests.conftest import ADMIN, Bot
from tests.fake_slack import FakeSlack
from tests.helpers_access import run_as, text_of


def add_campaign(bot: Bot, name: str, state: str) -> int:
    base = {k: v for k, v in bot.sim.state.campaigns[1].items() if k not in ("id", "state")}
    return int(bot.sim.state.add_campaign({**base, "name": name}, state=state)["id"])


async def test_pause_is_offered_only_where_a_pause_applies(bot: Bot) -> None:
    running = add_campaign(bot, "Storm Brno", "running")
    paused = add_campaign(bot, "Storm Ostrava", "paused")
    stopped = add_campaign(bot, "Storm Plzen", "stopped")
    odd = add_campaign(bot, "Storm Zlin", "SOMETHING_NEW")
    replies = await run_as(bot, "pause storm", ADMIN)
    assert "Nothing was done" in text_of(replies)
    offered = FakeSlack.button_values(replies[-1].args, "control:pause")
    assert sorted(offered) == sorted([str(running), str(odd)])
    text = text_of(replies)
    for cid in (paused, stopped):
        assert f"(#{cid})" in text  # still listed, so the person sees why nothing is offered
    assert "pause does not apply" in text


async def test_unpause_is_offered_only_on_paused_campaigns(bot: Bot) -> None:
    add_campaign(bot, "Storm Brno", "running")
    paused = add_campaign(bot, "Storm Ostrava", "paused")
    replies = await run_as(bot, "unpause storm", ADMIN)
    assert FakeSlack.button_values(replies[-1].args, "control:unpause") == [str(paused)]
