"""Socket Mode for real: slack_bolt's AsyncSocketModeHandler against a local Socket Mode server.

Slack's side is tests/socket_mode_server.py (apps.connections.open, hello, envelopes, acks);
Web API calls go on to FakeSlack and the dialer is the simulator. The in-process test builds
the bot as bot/cli.py `_socket` does; the process tests run `python -m bot socket` itself.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl

import pytest

from bot.app import build_services, startup
from bot.services import Services
from bot.socket_mode import SocketMode
from tests.block_checks import assert_valid_blocks
from tests.bot_process import REPO, bot_env, free_port
from tests.conftest import ADMIN, NOTIFY, make_settings
from tests.fake_slack import FakeSlack
from tests.slack_driver import block_actions_body, slash_command_body
from tests.socket_mode_server import SocketModeServer

APP_TOKEN = "xapp-1-A0001-1-test"


@pytest.fixture
async def socket_server(fake_slack: FakeSlack) -> AsyncIterator[SocketModeServer]:
    server = await SocketModeServer(fake_slack.api_url, APP_TOKEN).start()
    yield server
    await server.stop()
    assert server.unexpected_acks == []


def slash_payload(text: str, response_url: str) -> dict[str, Any]:
    """A slash_commands envelope's payload: the HTTP form fields, as a JSON object."""
    return dict(parse_qsl(slash_command_body(text, response_url=response_url)))


def click_payload(action_id: str, value: str, response_url: str) -> dict[str, Any]:
    """An interactive envelope's payload: the object HTTP mode sends as payload=<json>."""
    body = block_actions_body(
        action_id, value, user_id=ADMIN, channel_id="C0001", response_url=response_url
    )
    return json.loads(parse_qs(body)["payload"][0])


def socket_services(
    simulator: Any, fake_slack: FakeSlack, socket_server: SocketModeServer, tmp_path: Path
) -> Services:
    """As `dialer-bot socket` builds them: no signing secret (no signed HTTP requests)."""
    settings = make_settings(
        simulator,
        fake_slack,
        tmp_path / "bot.db",
        slack_app_token=APP_TOKEN,
        slack_api_url=socket_server.api_url,
        slack_signing_secret=None,
    )
    return build_services(settings)


async def test_socket_mode_help_confirm_start_notify(
    simulator: Any, fake_slack: FakeSlack, socket_server: SocketModeServer, tmp_path: Path
) -> None:
    services = socket_services(simulator, fake_slack, socket_server, tmp_path)
    await startup(services)
    async with SocketMode(services, APP_TOKEN):  # as `dialer-bot socket` runs it
        await socket_server.wait_connected()
        assert socket_server.opens == [{"ok": True}]

        help_ack = await socket_server.request(
            "slash_commands", slash_payload("help", fake_slack.response_url("help"))
        )
        payload = help_ack["payload"]
        assert payload["response_type"] == "ephemeral"
        assert "dialer-bot commands" in FakeSlack.texts(payload)
        assert "`/dialer start <id|name>" in FakeSlack.texts(payload)
        assert_valid_blocks(payload["blocks"])

        start_ack = await socket_server.request(
            "slash_commands", slash_payload("start 1", fake_slack.response_url("r"))
        )
        assert "payload" not in start_ack  # a bare ack; the confirmation goes to response_url
        [confirm] = await fake_slack.wait_for("response_url", lambda c: c.args["key"] == "r")
        [token] = FakeSlack.button_values(confirm.args, "control:confirm")
        assert simulator.state.campaigns[1]["state"] == "stopped"

        click_ack = await socket_server.request(
            "interactive", click_payload("control:confirm", token, fake_slack.response_url("r"))
        )
        assert "payload" not in click_ack
        [note] = await fake_slack.wait_for(
            "chat.postMessage", lambda c: c.args["channel"] == NOTIFY, timeout=10
        )
        assert "started campaign *Spring promo* (#1), was stopped" in FakeSlack.texts(note.args)
        assert simulator.state.campaigns[1]["state"] == "running"
        # Web API calls went through the socket server's forwarding with the bot token.
        assert note.token_present and note.result["ok"] is True

        entries = await services.store.run(services.store.audit.history, campaign_id=1)
        assert [(e.action, e.user_id, e.outcome) for e in entries] == [("start", ADMIN, "ok")]
    await socket_server.wait_all_closed()
    assert len(socket_server.connections) == 1


async def test_socket_mode_reconnects_when_slack_asks(
    simulator: Any, fake_slack: FakeSlack, socket_server: SocketModeServer, tmp_path: Path
) -> None:
    """Slack refreshes Socket Mode links every few hours with a disconnect message."""
    services = socket_services(simulator, fake_slack, socket_server, tmp_path)
    async with SocketMode(services, APP_TOKEN):
        first = await socket_server.wait_connected()
        await socket_server.disconnect("refresh_requested")
        second = await socket_server.wait_connected(count=2)
        assert second is not first
        await socket_server.wait_until(lambda: first.closed, "the old socket closed")
        assert socket_server.opens == [{"ok": True}, {"ok": True}]

        ack = await socket_server.request(
            "slash_commands", slash_payload("help", fake_slack.response_url("h"))
        )
        assert "dialer-bot commands" in FakeSlack.texts(ack["payload"])
        assert ack in second.received


async def run_bot(args: list[str], env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=str(cwd),  # no stray .env is read
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@pytest.mark.parametrize(
    ("extra", "missing"),
    [({}, "SLACK_APP_TOKEN"), ({"SLACK_APP_TOKEN": APP_TOKEN}, "SLACK_BOT_TOKEN")],
)
async def test_socket_without_tokens_stops_with_one_clear_line(
    tmp_path: Path, extra: dict[str, str], missing: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DIALER_"))}
    env.update(PYTHONPATH=str(REPO), **extra)
    proc = await run_bot(["socket"], env, tmp_path)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2, err.decode()
    expected = f"dialer-bot: configuration error: {missing}"
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), lines
    assert APP_TOKEN not in err.decode()


async def test_socket_process_acks_then_stops_cleanly_on_sigterm(
    simulator: Any, fake_slack: FakeSlack, socket_server: SocketModeServer, tmp_path: Path
) -> None:
    """`dialer-bot socket` itself: needs no signing secret, acks, and closes the link on stop."""
    env = bot_env(
        simulator,
        socket_server.api_url,
        tmp_path / "bot.db",
        free_port(),
        SLACK_APP_TOKEN=APP_TOKEN,
    )
    del env["SLACK_SIGNING_SECRET"]
    proc = await run_bot(["socket"], env, tmp_path)
    try:
        await socket_server.wait_connected(timeout=20)
        ack = await socket_server.request(
            "slash_commands", slash_payload("help", fake_slack.response_url("h"))
        )
        assert "dialer-bot commands" in FakeSlack.texts(ack["payload"])

        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), 20)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    log = err.decode(errors="replace")
    assert proc.returncode == 0, log
    await socket_server.wait_all_closed()
    assert len(socket_server.opens) == 1  # it did not reconnect while shutting down
    assert "Unclosed" not in log and "Task was destroyed" not in log, log
    assert APP_TOKEN not in log and "xoxb-test-token" not in log


async def test_socket_with_a_refused_app_token_stops_with_one_clear_line(
    simulator: Any, fake_slack: FakeSlack, socket_server: SocketModeServer, tmp_path: Path
) -> None:
    """slack_sdk alone would retry apps.connections.open every 10 s forever, never connecting."""
    env = bot_env(
        simulator,
        socket_server.api_url,
        tmp_path / "bot.db",
        free_port(),
        SLACK_APP_TOKEN="xapp-1-A0001-1-revoked",
    )
    proc = await run_bot(["socket"], env, tmp_path)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 20)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    log = err.decode(errors="replace")
    assert proc.returncode == 2, log
    assert log.strip().splitlines()[-1] == (
        "dialer-bot: configuration error: SLACK_APP_TOKEN was refused by Slack (invalid_auth); "
        "it must be the app-level token (xapp-...) with the connections:write scope"
    )
    assert "Traceback" not in log and "revoked" not in log
    assert socket_server.opens == [{"ok": False, "error": "invalid_auth"}]
    assert socket_server.connections == []
