"""Start-up and shutdown: recover what a crash left pending, drain work on the way out."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from bot.config import ConfigError
from bot.dialer import DialerError
from bot.services import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recovered:
    """A request whose dialer answer was never recorded, with the campaign's state now."""

    entry: Any
    current_state: str | None
    campaign_name: str | None


async def recover_pending(services: Services) -> list[Recovered]:
    """Mark leftover pending audit entries unknown and read each campaign's state now."""
    audit = services.store.audit
    entries = await services.store.run(audit.mark_unknown_pending)
    # One read per campaign, and none after the dialer proved unreachable: a crash with
    # hundreds of commands in flight must not hold start-up (and /healthz) for minutes.
    seen: dict[int, tuple[str | None, str | None]] = {}
    reachable = True
    found: list[Recovered] = []
    for entry in entries:
        state = name = None
        if entry.campaign_id is not None:
            cid = int(entry.campaign_id)
            if cid not in seen:
                seen[cid] = (None, None)
                if reachable:
                    try:
                        campaign = await services.dialer.get_campaign(cid)
                        seen[cid] = (campaign.state, campaign.name)
                    except DialerError as exc:
                        seen[cid] = ("removed" if exc.status == 404 else None, None)
                        reachable = exc.status is not None
            state, name = seen[cid]
        found.append(Recovered(entry, state, name))
    if found:
        log.warning("%d audit entries were left pending by a crash and are now unknown", len(found))
    return found


# auth.test errors that no retry fixes: the bot token is wrong, revoked or not a bot token.
_BOT_TOKEN_ERRORS = frozenset(
    {
        "not_authed",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
    }
)


async def check_slack_auth(services: Services) -> bool:
    """The one auth.test of a start: it proves SLACK_BOT_TOKEN, and its answer primes Bolt
    (bot.app.build_app) so that no request ever waits for auth.test. A refused token is a
    ConfigError naming SLACK_BOT_TOKEN; Slack unreachable is logged, and Bolt or /readyz
    try again later. Returns whether Slack said yes."""
    from slack_sdk.errors import SlackApiError

    if services.slack_auth is not None:
        return True
    try:
        response = await services.client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        if error in _BOT_TOKEN_ERRORS:
            raise ConfigError(
                f"SLACK_BOT_TOKEN was refused by Slack ({error}); copy the Bot User OAuth "
                "Token (xoxb-...) from the app's OAuth & Permissions page"
            ) from None
        log.warning("auth.test failed (%s); Slack is asked again later", error or "HTTP error")
        return False
    except Exception as exc:  # noqa: BLE001 - Slack unreachable: not fatal, retried later
        log.warning("auth.test failed (%s); Slack is asked again later", type(exc).__name__)
        return False
    services.slack_auth = response
    from bot.app import prime_authorization

    for app in services.bolt_apps:
        prime_authorization(app, response)
    log.info(
        "Slack auth ok: bot user %s in team %s", response.get("user_id"), response.get("team_id")
    )
    return True


async def startup(services: Services) -> None:
    from handlers.approvals.listeners import update_expired
    from handlers.control.recovery_views import recovery_message
    from handlers.schedules.announce import announce

    recovered = await recover_pending(services)
    if recovered:
        await services.notifier.publish(**recovery_message(recovered))
    services.notifier.kick()  # deliver what a previous run left in the outbox
    from bot.anchor import AnchorPoster

    services.anchor = AnchorPoster(services)
    services.anchor.start()
    from bot.looplag import LoopLag

    services.loop_lag = LoopLag()
    services.loop_lag.start()
    # Expire approval requests nobody answered, also those left from a previous run.
    services.approvals.start_sweeper(lambda expired: update_expired(services, expired))
    # Run due schedules; those missed while the bot was down run now if inside the grace.
    services.scheduler.start(lambda ran: announce(services, ran))


async def shutdown(services: Services, grace_s: float = 10.0) -> None:
    """Let in-flight commands finish (up to grace_s), flush notifications, close everything."""
    await services.tasks.close(grace_s)
    try:
        await services.notifier.wait_idle(timeout=2.0)
    except TimeoutError:
        log.warning("some notifications are still in the outbox; they go out on next start")
    if services.anchor is not None:
        await services.anchor.aclose()  # anchor what this run wrote, while Slack is open
    if services.loop_lag is not None:
        await services.loop_lag.aclose()
    await services.aclose()


def install_signal_handlers(stop: asyncio.Event) -> None:
    import signal

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
