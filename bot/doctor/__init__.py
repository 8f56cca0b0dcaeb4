"""`dialer-bot doctor`: what a deployer runs first, against the configured dialer and Slack.

Read-only: token requests and GETs only, never a create, update or control command.
Exit 0 when everything the bot needs answered, 1 otherwise (each problem names the
setting or table to change).
"""

from __future__ import annotations

from bot.config import Settings
from bot.dialer import DialerClient
from bot.doctor.dialer import check_dialer
from bot.doctor.report import Out, Report, Section
from bot.doctor.slack import check_slack

__all__ = ["run_doctor"]


async def run_doctor(settings: Settings, out: Out = print) -> int:
    """Check everything, print the report, return the exit status."""
    settings.check_dialer_auth()
    report = Report()
    setup = report.add(Section("Configuration"))
    setup.say(f"dialer API {settings.dialer_api_url}, token URL {settings.dialer_auth_url}")
    how = "DIALER_TOKEN" if settings.dialer_token else f"user {settings.dialer_username}"
    setup.say(f"authenticating with {how}")
    if settings.dialer_paths:
        setup.say(f"DIALER_PATHS overrides: {settings.dialer_paths}")
    async with DialerClient(
        settings.dialer_api_url,
        settings.dialer_auth_url,
        username=settings.dialer_username,
        password=settings.dialer_password.get_secret_value() if settings.dialer_password else None,
        token=settings.dialer_token.get_secret_value() if settings.dialer_token else None,
        connect_timeout=settings.dialer_connect_timeout,
        timeout=settings.dialer_timeout,
        max_answer_bytes=int(settings.dialer_max_answer_mb * 1024 * 1024),
        paths=settings.paths,
        max_attempts=1,
    ) as client:
        await check_dialer(client, report)
    await check_slack(settings, report)
    report.print(out)
    return 0 if report.ok else 1
