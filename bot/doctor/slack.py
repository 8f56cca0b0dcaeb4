"""The Slack half of `dialer-bot doctor`: auth.test, the token's scopes, and whether
NOTIFY_CHANNEL exists and the bot is in it. Read-only; the token is never printed."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.config import Settings
from bot.doctor.report import Report, Section
from bot.slack_client import make_client

# The bot token's scopes, in manifest.yml's order, and what each one is for: a missing one
# is named with its purpose, so the fix is "add it and reinstall", not a hunt.
SCOPES = {
    "commands": "the /dialer command",
    "chat:write": "replies and notifications",
    "chat:write.public": "notifications in channels the bot was not invited to",
    "users:read": "each person's time zone, for schedules",
    "files:read": "the CSV files uploaded as call lists",
    "files:write": "the file of all invalid numbers in a call list's summary",
    "channels:read": "this check of NOTIFY_CHANNEL (conversations.info)",
}
# Not needed when the bot is invited to NOTIFY_CHANNEL, which this check asks for anyway.
OPTIONAL_SCOPES = {"chat:write.public"}
_ADD_SCOPE = "add it to the app's bot token scopes (manifest.yml) and reinstall the app"


async def check_slack(settings: Settings, report: Report) -> None:
    if settings.slack_bot_token is None:
        report.add(Section("Slack", skipped=True)).say("not checked: SLACK_BOT_TOKEN is not set")
        return
    s = report.add(Section(f"Slack ({settings.slack_api_url})"))
    client = make_client(settings, max_rate_limit_retries=1)
    try:
        auth = await client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else exc
        s.problem(f"auth.test failed ({error}): set SLACK_BOT_TOKEN to the app's xoxb- token")
        return
    except OSError as exc:
        s.problem(f"Slack could not be reached ({exc}); check SLACK_API_URL and the network")
        return
    s.say(f"auth.test: ok, bot @{auth.get('user')} ({auth.get('user_id')}) in {auth.get('team')}")
    granted = _granted_scopes(auth)
    _check_scopes(granted, s)
    channel = settings.notify_channel
    if not channel:
        s.note("NOTIFY_CHANNEL is not set: commands are not announced anywhere")
        return
    if granted is not None and "channels:read" not in granted:
        s.say(f"NOTIFY_CHANNEL {channel}: not checked, the token lacks channels:read")
        return
    await _check_channel(client, channel, s)


def _granted_scopes(response: AsyncSlackResponse) -> set[str] | None:
    """Slack lists the token's scopes in every Web API answer's x-oauth-scopes header;
    None when it is absent (a stand-in), so nothing is claimed about them."""
    header = response.headers.get("x-oauth-scopes") if response.headers else None
    if header is None:
        return None
    return {scope.strip() for scope in header.split(",") if scope.strip()}


def _check_scopes(granted: set[str] | None, s: Section) -> None:
    if granted is None:
        s.note("Slack did not list the token's scopes (no x-oauth-scopes header): not checked")
        return
    missing = [scope for scope in SCOPES if scope not in granted]
    for scope in missing:
        text = f"the token lacks the {scope} scope ({SCOPES[scope]}): {_ADD_SCOPE}"
        if scope in OPTIONAL_SCOPES:
            s.note(text)
        else:
            s.problem(text)
    if not missing:
        s.say(f"token scopes: all {len(SCOPES)} the bot needs")


async def _check_channel(client: AsyncWebClient, channel: str, s: Section) -> None:
    try:
        info = await client.conversations_info(channel=channel)
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else exc
        if error == "missing_scope":
            needed = exc.response.get("needed") or "a scope Slack did not name"
            s.problem(
                f"NOTIFY_CHANNEL {channel}: conversations.info needs the {needed} scope, "
                f"which the token lacks: {_ADD_SCOPE}"
            )
            return
        s.problem(
            f"NOTIFY_CHANNEL {channel}: conversations.info says {error}; set it to the id "
            "(C…) of a channel the bot can see, and invite the bot there"
        )
        return
    found = info.get("channel") or {}
    name = found.get("name") or channel
    if found.get("is_member") or found.get("is_im"):
        s.say(f"NOTIFY_CHANNEL {channel} (#{name}): exists, the bot is a member")
    else:
        s.problem(f"the bot is not in #{name} (NOTIFY_CHANNEL {channel}): /invite it there")
