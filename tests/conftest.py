"""Fixtures: the simulator as the dialer, a fake Slack Web API, the bot over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.app import build_services, start_http
from bot.config import Settings, load_settings
from bot.dialer import DialerClient
from bot.services import Services
from tests.block_checks import assert_valid_blocks, assert_valid_view
from tests.fake_slack import FakeSlack
from tests.sim_fixtures import dialect_sim, simulator  # noqa: F401  (fixtures)
from tests.slack_driver import SlackDriver

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
ADMIN = "UADMIN"
NOTIFY = "CNOTIFY"


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack.start()
    yield fake
    await fake.stop()


def make_settings(sim: Any, fake: FakeSlack, db_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "_env_file": None,
        "slack_bot_token": "xoxb-test-token",
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": fake.api_url,
        "dialer_api_url": sim.url,
        "dialer_auth_url": sim.auth_url,
        "dialer_username": "demo@example.com",
        "dialer_password": "demo",
        "database_path": str(db_path),
        "notify_channel": NOTIFY,
        "dialer_admins": ADMIN,
        "dialer_timeout": 5.0,
    }
    values.update(overrides)
    return load_settings(**values)


@dataclass
class Bot:
    """The bot as Slack sees it: a URL that takes signed requests, plus its parts to inspect."""

    services: Services
    url: str
    driver: SlackDriver
    slack: FakeSlack
    sim: Any
    runner: web.AppRunner

    async def settle(self, timeout: float = 15.0) -> None:
        """Await all work started after acks, then the notification outbox."""
        assert await self.services.tasks.drain(timeout), "background work did not finish"
        await self.services.notifier.wait_idle(timeout)

    async def command(self, text: str, **kw: Any) -> Any:
        return await self.driver.command(text, **kw)

    async def action(self, action_id: str, value: str, **kw: Any) -> Any:
        return await self.driver.action(action_id, value, **kw)

    def replies(self, key: str = "default") -> list[Any]:
        return [c for c in self.slack.calls_to("response_url") if c.args.get("key") == key]


async def start_bot(
    sim: Any,
    fake: FakeSlack,
    db_path: Path,
    *,
    dialer: DialerClient | None = None,
    **overrides: Any,
) -> Bot:
    """``dialer``: a client of the tests' own, e.g. over a transport that alters answers."""
    settings = make_settings(sim, fake, db_path, **overrides)
    services = build_services(settings, dialer=dialer)
    runner, port = await start_http(services, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{port}"
    driver = SlackDriver(url, SIGNING_SECRET, response_url=fake.response_url("default"))
    return Bot(services, url, driver, fake, sim, runner)


async def stop_bot(bot: Bot) -> None:
    await bot.driver.close()
    await bot.runner.cleanup()
    await bot.services.aclose()


def assert_everything_sent_is_valid(fake: FakeSlack) -> None:
    """Every message and view the bot sent passes slack_sdk's models and Block Kit's limits."""
    for call in fake.calls:
        if call.method in ("views.open", "views.update", "views.push", "views.publish") and (
            "view" in call.args
        ):
            assert_valid_view(call.args["view"])
        elif call.args.get("blocks"):
            assert_valid_blocks(call.args["blocks"])


@pytest.fixture
async def bot(simulator: Any, fake_slack: FakeSlack, tmp_path: Path) -> AsyncIterator[Bot]:  # noqa: F811
    b = await start_bot(simulator, fake_slack, tmp_path / "bot.db")
    yield b
    await stop_bot(b)
    assert_everything_sent_is_valid(fake_slack)
