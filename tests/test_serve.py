"""`dialer-bot serve` as a real process: Slack URL at the fake Slack, dialer at the simulator.

The acceptance flow, end to end over HTTP: /dialer start → Confirm → the dialer
starts the campaign → the message is replaced → the notification reaches NOTIFY_CHANNEL →
/dialer history shows who did it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from tests.bot_process import BotProcess
from tests.conftest import ADMIN, NOTIFY
from tests.fake_slack import FakeSlack


async def test_serve_runs_confirm_start_notify_history(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    bot = BotProcess(
        simulator,
        fake_slack.api_url,
        tmp_path / "bot.db",
        response_url=fake_slack.response_url("r"),
    )
    try:
        await bot.start()
        async with aiohttp.ClientSession() as session, session.get(bot.url + "/healthz") as resp:
            assert resp.status == 200 and (await resp.json())["ok"] is True

        reply = await bot.driver.command("start 1")
        assert reply.status == 200
        [confirm] = await fake_slack.wait_for("response_url", count=1, timeout=10)
        [token] = FakeSlack.button_values(confirm.args, "control:confirm")
        assert simulator.state.campaigns[1]["state"] == "stopped"

        reply = await bot.driver.action("control:confirm", token)
        assert reply.status == 200
        [note] = await fake_slack.wait_for(
            "chat.postMessage", lambda c: c.args["channel"] == NOTIFY, timeout=10
        )
        assert "started campaign *Spring promo* (#1), was stopped" in FakeSlack.texts(note.args)
        assert simulator.state.campaigns[1]["state"] == "running"
        replaced = await fake_slack.wait_for(
            "response_url", lambda c: c.args.get("replace_original") is True, timeout=10
        )
        assert "started campaign" in FakeSlack.texts(replaced[0].args)

        await bot.driver.command("history #1")
        calls = await fake_slack.wait_for(
            "response_url",
            lambda c: "History of campaign #1" in FakeSlack.texts(c.args),
            timeout=10,
        )
        history = FakeSlack.texts(calls[0].args)
        assert f"<@{ADMIN}> *start* #1" in history and "ok" in history

        assert await bot.terminate() == 0
    finally:
        await bot.close()
