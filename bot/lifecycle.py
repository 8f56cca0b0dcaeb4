"""Start-up and shutdown: recover what a crash left pending, drain work on the way out."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

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


async def startup(services: Services) -> None:
    from bot.slack_client import share_connections
    from handlers.approvals.listeners import update_expired
    from handlers.control.recovery_views import recovery_message
    from handlers.schedules.announce import announce

    share_connections(services.client)  # also when no auth.test came first (the demo)
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
    services.watcher.start()  # DIALER_WATCH_INTERVAL=0: does nothing


async def shutdown(services: Services, grace_s: float = 10.0) -> None:
    """Let in-flight commands finish (up to grace_s), flush notifications, close everything."""
    await services.watcher.aclose()  # hand the lease over at once; polls stop queueing
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
