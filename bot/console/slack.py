"""The Slack Web API for `dialer-bot demo`: the shared stand-in, strict, fed by the console.

Only the console's own parts live here: it knows the real bot token (and compares it, never
records it), and the person attaches files from local paths. Everything Slack does is in
bot/console/standin.py, which the tests' fake Slack uses too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.console.standin import Call, SlackStandIn

__all__ = ["MAX_FILE_BYTES", "Call", "ConsoleSlack"]

MAX_FILE_BYTES = 10 * 1024 * 1024


class ConsoleSlack(SlackStandIn):
    """Knows only the users and channels the demo adds and the triggers it hands out."""

    def __init__(self, bot_token: str, *, team_id: str = "TDEMO", bot_user_id: str = "UDEMOBOT"):
        super().__init__(
            bot_token=bot_token,
            team_id=team_id,
            bot_user_id=bot_user_id,
            team_name="Demo",
            team_url="https://demo.slack.com/",
            app_id="ADEMO",
        )

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> ConsoleSlack:
        await self.listen(host, port)
        return self

    def add_file(self, path: Path) -> dict[str, Any]:
        """Upload a local file, as a person would in a file input; returns Slack's file object."""
        content = path.read_bytes()
        if len(content) > MAX_FILE_BYTES:
            raise ValueError(f"{path.name} is larger than {MAX_FILE_BYTES // 1024 // 1024} MB")
        return self.store_file(path.name, content)
