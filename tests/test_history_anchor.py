"""History shows the audit anchors the bot posted as what they are: no person did them."""

from __future__ import annotations

from tests.conftest import ADMIN, Bot
from tests.helpers_access import run_as, text_of
from tests.test_audit_cli import make_history


async def test_an_anchor_row_reads_as_an_anchor_not_as_a_person(bot: Bot) -> None:
    await make_history(bot)  # something to anchor
    poster = bot.services.anchor
    entry = await poster.post()
    assert entry is not None
    text = text_of(await run_as(bot, "history", ADMIN))
    assert "<@None>" not in text
    assert f"🔗 audit anchor posted to <#{poster.channel}>: entry {entry}" in text
