"""Tell the channel of origin and the subscribers what a due schedule did."""

from __future__ import annotations

import logging

from bot.schedule import Ran
from bot.services import Services
from handlers.schedules import views

log = logging.getLogger(__name__)


async def announce(services: Services, ran: Ran) -> None:
    """One message per channel through the outbox, the origin first if not subscribed."""
    msg = views.announcement(ran)
    origin = ran.schedule.channel_id
    channels = await services.notifier.channels()
    if origin and origin not in channels:
        await services.store.run(services.store.outbox.enqueue, origin, msg)
        services.notifier.kick()
    await services.notifier.publish(**msg)
