"""Settings: one clear line per bad variable, secrets never shown."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[1]


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DIALER_"))}
    base["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**base, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_defaults_need_nothing() -> None:
    s = load_settings(_env_file=None)
    assert s.slack_api_url == "https://slack.com/api/"
    assert s.dialer_api_url == "https://ipbxapi.voipex.io"
    assert s.dialer_auth_url == "https://auth.voipex.io/token"
    assert s.database_path == "dialer-bot.db" and s.port == 3000
    assert s.approval_commands == {"remove"} and s.admin_ids == frozenset()


def test_slack_api_url_gets_its_trailing_slash() -> None:
    assert (
        load_settings(_env_file=None, slack_api_url="http://x/api").slack_api_url == "http://x/api/"
    )


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("port", "http", "PORT:"),
        ("port", "70000", "PORT:"),
        ("dialer_admins", "alice", "DIALER_ADMINS: 'alice' is not a Slack user ID"),
        ("notify_channel", "#ops", "NOTIFY_CHANNEL: expected a Slack channel ID"),
        ("default_region", "Czechia", "DEFAULT_REGION: expected a two-letter ISO country code"),
        ("dialer_api_url", "ipbxapi.voipex.io", "DIALER_API_URL: expected an http"),
        ("approval_required", "remove,launch", "APPROVAL_REQUIRED: unknown command"),
    ],
)
def test_malformed_setting_names_the_variable(field: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(_env_file=None, **{field: value})
    assert expected in str(err.value)
    assert "\n" not in str(err.value)


def test_secrets_are_not_shown() -> None:
    s = load_settings(_env_file=None, slack_bot_token="xoxb-secret-1", dialer_password="pw-secret")
    assert "xoxb-secret-1" not in repr(s) and "pw-secret" not in repr(s)


def test_serve_without_anything_reports_every_missing_variable_in_one_line(
    tmp_path: Path,
) -> None:
    proc = run_cli(["serve"], {}, tmp_path)
    assert proc.returncode == 2
    expected = (
        "SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET are required for this command but not set; "
        "set DIALER_TOKEN, or both DIALER_USERNAME and DIALER_PASSWORD"
    )
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith(f"dialer-bot: configuration error: {expected}"), line


def test_serve_without_dialer_credentials(tmp_path: Path) -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s3cr3t-value"}
    proc = run_cli(["serve"], env, tmp_path)
    assert proc.returncode == 2
    assert "DIALER_TOKEN, or both DIALER_USERNAME and DIALER_PASSWORD" in proc.stderr
    assert "s3cr3t-value" not in proc.stderr and "xoxb-1" not in proc.stderr


def test_bad_env_var_from_the_environment(tmp_path: Path) -> None:
    proc = run_cli(["serve"], {"PORT": "eighty"}, tmp_path)
    assert proc.returncode == 2 and "PORT:" in proc.stderr and "Traceback" not in proc.stderr
