"""`dialer-bot doctor` against both simulator dialects, a wrong path, and the fake Slack."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.doctor import run_doctor
from bot.doctor.slack import SCOPES
from simulator.server import SimulatorConfig, start_simulator
from tests.conftest import NOTIFY, make_settings
from tests.fake_slack import FakeSlack
from tests.sim_fixtures import SIM_PASSWORD, SIM_USERNAME

SECRET = "doctor-secret-4711"
ROOT = Path(__file__).resolve().parents[1]


async def doctor(sim: Any, fake: FakeSlack, tmp_path: Path, **overrides: Any) -> tuple[int, str]:
    lines: list[str] = []
    settings = make_settings(sim, fake, tmp_path / "bot.db", **overrides)
    code = await run_doctor(settings, lines.append)
    return code, "\n".join(lines)


def writes(sim: Any) -> list[dict[str, Any]]:
    return [r for r in sim.requests if r["method"] != "GET" and r["path"] != "/token"]


@pytest.mark.parametrize("dialect", ["guide", "v2"])
async def test_doctor_reports_each_dialect_and_exits_0(
    dialect: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    sim = await start_simulator(
        SimulatorConfig(port=0, username=SIM_USERNAME, password=SECRET, dialect=dialect)
    )
    fake_slack.scopes = list(SCOPES)
    try:
        code, text = await doctor(sim, fake_slack, tmp_path, dialer_password=SECRET)
    finally:
        await sim.stop()
    assert code == 0, text
    assert f"token scopes: all {len(SCOPES)} the bot needs" in text
    assert "access token lifetime: 3000 s" in text and "refresh grant: works" in text
    assert "GET /dialer/campaigns (campaigns)" in text and "GET /ivr" in text
    assert "GET /dialer/campaigns/1 (one campaign)" in text
    for feature in ("listing", "detail", "control", "forms"):
        assert re.search(rf"^  {feature} +ok ", text, re.M), text
    assert f"NOTIFY_CHANNEL {NOTIFY}" in text and "the bot is a member" in text
    if dialect == "v2":
        assert 'object, list under "data", 2 pages' in text
        assert "fields it keeps but does not use: createdAt, stats, tenantId" in text
        assert "state 'IDLE': read as stopped" in text
        assert "state 'DIALING': unknown to the bot" in text
    else:
        assert "bare array" in text and "state 'stopped': read as stopped" in text
    assert writes(sim) == []  # read-only
    assert SECRET not in text
    for token in list(sim.tokens.access) + list(sim.tokens.refresh):
        assert token not in text
    assert "xoxb-test-token" not in text


async def test_doctor_names_a_wrong_path_and_exits_1(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    code, text = await doctor(
        simulator, fake_slack, tmp_path, dialer_paths='{"campaigns": "/dialer/campaignz"}'
    )
    assert code == 1, text
    assert "answered 404 to GET /dialer/campaignz" in text
    assert "PATHS[\"campaigns\"] is '/dialer/campaignz' (from DIALER_PATHS)" in text
    assert re.search(r"^  listing +FAIL ", text, re.M), text


async def test_doctor_says_which_setting_when_the_login_fails(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    code, text = await doctor(simulator, fake_slack, tmp_path, dialer_password="wrong-secret")
    assert code == 1
    assert "DIALER_USERNAME and DIALER_PASSWORD" in text and "wrong-secret" not in text


async def test_doctor_flags_a_notify_channel_the_bot_is_not_in(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    fake_slack.fail_next("conversations.info", status=200, error="channel_not_found")
    code, text = await doctor(simulator, fake_slack, tmp_path)
    assert code == 1
    assert "NOTIFY_CHANNEL CNOTIFY: conversations.info says channel_not_found" in text


def test_doctor_knows_every_scope_in_the_manifest() -> None:
    manifest = (ROOT / "manifest.yml").read_text()
    bot_scopes = manifest.split("bot:")[1].split("settings:")[0]
    assert re.findall(r"^\s+- ([a-z.:]+)", bot_scopes, re.M) == list(SCOPES)


async def test_doctor_names_a_scope_the_token_lacks(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """Slack lists the token's scopes in x-oauth-scopes; without channels:read the notify
    channel cannot be looked at, so the scope is the cause, not a missing invitation."""
    fake_slack.scopes = [s for s in SCOPES if s not in ("channels:read", "files:read")]
    code, text = await doctor(simulator, fake_slack, tmp_path)
    assert code == 1, text
    assert "the token lacks the channels:read scope" in text, text
    assert "the token lacks the files:read scope" in text, text
    assert "reinstall" in text and "invite" not in text, text
    assert fake_slack.calls_to("conversations.info") == []


async def test_doctor_names_the_scope_slack_says_is_missing(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """A private NOTIFY_CHANNEL needs groups:read; Slack's missing_scope answer says so."""
    fake_slack.scopes = list(SCOPES)
    fake_slack.fail_next(
        "conversations.info", status=200, error="missing_scope", needed="groups:read"
    )
    code, text = await doctor(simulator, fake_slack, tmp_path)
    assert code == 1, text
    assert "conversations.info needs the groups:read scope" in text, text
    assert "invite" not in text, text


async def test_doctor_command_line_exit_status(simulator: Any, tmp_path: Path) -> None:
    """The real subcommand in a subprocess: 0, then 1 with the path named."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIALER_", "SLACK_", "NOTIFY"))}
    env.update(
        DIALER_API_URL=simulator.url,
        DIALER_AUTH_URL=simulator.auth_url,
        DIALER_USERNAME=SIM_USERNAME,
        DIALER_PASSWORD=SIM_PASSWORD,
    )

    def run(**extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", "from bot.cli import main; raise SystemExit(main())", "doctor"],
            env={**env, **extra},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )

    ok = await asyncio.to_thread(run)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "not checked: SLACK_BOT_TOKEN is not set" in ok.stdout
    bad = await asyncio.to_thread(run, DIALER_PATHS='{"call_lists": "/lists"}')
    assert bad.returncode == 1 and "GET /lists" in bad.stdout
    wrong = await asyncio.to_thread(run, DIALER_PATHS='{"campaign": "/x"}')
    assert wrong.returncode == 2 and "DIALER_PATHS" in wrong.stderr
