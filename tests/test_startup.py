"""Start-up checks, and the one auth.test whose answer Bolt's authorize hands every request."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.cli import check_database_path
from bot.config import ConfigError
from tests.bot_process import REPO, BotProcess, bot_env, free_port, run_cli
from tests.conftest import start_bot, stop_bot
from tests.fake_slack import FakeSlack
from tests.test_config import run_cli as run_cli_in


def test_env_example_placeholders_are_all_refused_at_once(tmp_path: Path) -> None:
    shutil.copy(REPO / ".env.example", tmp_path / ".env")
    proc = run_cli_in(["serve"], {}, tmp_path)
    assert proc.returncode == 2
    [line] = proc.stderr.strip().splitlines()
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "DIALER_PASSWORD"):
        assert f"{name}: still the placeholder from .env.example" in line, line
    assert "Traceback" not in proc.stderr


def test_wrong_token_prefixes_are_named(tmp_path: Path) -> None:
    env = {"SLACK_BOT_TOKEN": "xapp-1-A1-secretpart", "SLACK_APP_TOKEN": "xoxb-1-secretpart"}
    proc = run_cli_in(["socket"], env, tmp_path)
    assert proc.returncode == 2
    [line] = proc.stderr.strip().splitlines()
    assert "SLACK_BOT_TOKEN: expected a token starting with xoxb-, got xapp-" in line
    assert "SLACK_APP_TOKEN: expected a token starting with xapp-, got xoxb-" in line
    assert "DIALER_TOKEN, or both DIALER_USERNAME and DIALER_PASSWORD" in line
    assert "secretpart" not in proc.stderr


def test_bad_log_level_is_reported_with_the_rest(tmp_path: Path) -> None:
    proc = run_cli_in(["serve"], {"LOG_LEVEL": "loud"}, tmp_path)
    assert proc.returncode == 2 and "LOG_LEVEL: expected one of DEBUG" in proc.stderr


def test_database_in_a_missing_directory_is_an_error_unless_create_db(tmp_path: Path) -> None:
    path = tmp_path / "typo" / "bot.db"
    with pytest.raises(ConfigError, match="DATABASE_PATH: directory .* does not exist"):
        check_database_path(str(path), create=False)
    assert not path.parent.exists()  # nothing created behind the operator's back
    assert check_database_path(str(path), create=True) is True and path.parent.is_dir()


async def test_serve_with_database_in_a_missing_directory_exits(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    env = bot_env(simulator, fake_slack.api_url, tmp_path / "nodir" / "bot.db", free_port())
    code, out = await run_cli("serve", env=env)
    assert code == 2, out
    assert out.strip().splitlines()[-1].startswith("dialer-bot: configuration error: DATABASE_PATH")
    assert not (tmp_path / "nodir").exists()


@pytest.mark.parametrize("error", ["invalid_auth", "token_revoked"])
async def test_refused_bot_token_exits_with_one_line_naming_it(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path, error: str
) -> None:
    fake_slack.fail_next("auth.test", status=200, error=error)
    env = bot_env(simulator, fake_slack.api_url, tmp_path / "bot.db", free_port())
    code, out = await run_cli("serve", env=env)
    assert code == 2, out
    assert out.strip().splitlines()[-1] == (
        f"dialer-bot: configuration error: SLACK_BOT_TOKEN was refused by Slack ({error}); "
        "copy the Bot User OAuth Token (xoxb-...) from the app's OAuth & Permissions page"
    )
    assert "Traceback" not in out and "xoxb-test-token" not in out
    assert len(fake_slack.calls_to("auth.test")) == 1


async def test_normal_start_logs_the_database_and_no_warning(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    url = fake_slack.response_url("r")
    bot = BotProcess(simulator, fake_slack.api_url, tmp_path / "bot.db", response_url=url)
    again = BotProcess(simulator, fake_slack.api_url, tmp_path / "bot.db", response_url=url)
    try:
        await bot.start()
        assert await bot.terminate() == 0
        await again.start()
        assert await again.terminate() == 0
    finally:
        await bot.close()
        await again.close()
    first, second = bot.output(), again.output()
    db = str((tmp_path / "bot.db").resolve())
    assert f"database {db}: created just now" in first
    assert f"database {db}: opened, " in second
    for out in (first, second):
        assert " WARNING " not in out and " ERROR " not in out, out
    assert len(fake_slack.calls_to("auth.test")) == 2  # one per start


async def test_cold_burst_of_200_commands_makes_exactly_one_auth_test(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """Bolt alone calls auth.test for every request until one answer is back (100 for one
    burst of 200, each ack waiting for it); the start's one call now primes it."""
    fake_slack.set_delay("auth.test", 0.2)  # a real Slack round trip, so Bolt would overlap
    bot = await start_bot(simulator, fake_slack, tmp_path / "bot.db")
    try:
        assert len(fake_slack.calls_to("auth.test")) == 1
        replies = await asyncio.gather(*(bot.command("help") for _ in range(200)))
        assert all(r.status == 200 for r in replies)
        assert len(fake_slack.calls_to("auth.test")) == 1
    finally:
        await stop_bot(bot)


async def test_socket_mode_without_network_logs_one_line_per_try(
    simulator: Any, tmp_path: Path
) -> None:
    """slack_sdk alone logs a 35-line traceback every 10 s while Slack is unreachable."""
    dead = f"http://127.0.0.1:{free_port()}/api/"  # nothing listens there
    env = bot_env(simulator, dead, tmp_path / "bot.db", free_port())
    env["SLACK_APP_TOKEN"] = "xapp-1-A0001-1-test"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "socket",
        cwd=str(tmp_path),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    lines: list[str] = []
    try:
        assert proc.stderr is not None
        async with asyncio.timeout(30):
            while not any("Socket Mode: connecting to Slack failed" in x for x in lines):
                line = (await proc.stderr.readline()).decode(errors="replace")
                assert line, "the bot exited: " + "".join(lines)
                lines.append(line)
    finally:
        proc.kill()
        await proc.wait()
    text = "".join(lines)
    assert "Traceback" not in text, text
    assert "next try in 10 s" in text
    assert "auth.test failed (ClientConnectorError)" in text  # the start goes on, not ready


def json_lines(out: str) -> list[dict[str, Any]]:
    """Every non-empty line as a JSON object (a plain line fails with the line shown)."""
    parsed = []
    for line in out.splitlines():
        if not line.strip():
            continue
        try:
            parsed.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"not JSON: {line!r}\n{out}") from None
    return parsed


async def test_json_logs_start_at_the_first_line(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """A log shipper reading LOG_FORMAT=json must not meet a plain line, from start to stop."""
    url = fake_slack.response_url("r")
    bot = BotProcess(
        simulator, fake_slack.api_url, tmp_path / "bot.db", response_url=url, LOG_FORMAT="json"
    )
    try:
        await bot.start()
        assert await bot.terminate() == 0
    finally:
        await bot.close()
    records = json_lines(bot.output())
    assert any(r["message"].startswith("database ") for r in records), records
    assert any(r["message"].startswith("dialer-bot listening") for r in records), records


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL: expected one of DEBUG"),
        ({"DATABASE_PATH": "/nonexistent-dir/bot.db"}, "DATABASE_PATH: directory"),
    ],
)
async def test_json_logs_carry_the_configuration_error_too(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path, extra: dict[str, str], words: str
) -> None:
    env = bot_env(simulator, fake_slack.api_url, tmp_path / "bot.db", free_port())
    code, out = await run_cli("serve", env={**env, "LOG_FORMAT": "json", **extra})
    assert code == 2, out
    [record] = json_lines(out)
    assert record["level"] == "ERROR" and words in record["message"], record
    assert "configuration error" in record["message"], record
