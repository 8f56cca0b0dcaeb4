"""The Slack half of `dialer-bot doctor`: auth.test, and whether NOTIFY_CHANNEL exists and
the bot is in it. Read-only; the token is never printed."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.doctor.report import Report, Section
from bot.slack_client import make_client


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
    channel = settings.notify_channel
    if not channel:
        s.note("NOTIFY_CHANNEL is not set: commands are not announced anywhere")
        return
    try:
        info = await client.conversations_info(channel=channel)
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else exc
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
