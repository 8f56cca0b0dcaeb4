"""Tell the channel of origin and the subscribers what a due schedule did."""

from __future__ import annotations

import logging

from bot.notify import Notifier
from bot.schedule import Ran
from handlers.schedules import views
from store import Store

log = logging.getLogger(__name__)


async def announce(notifier: Notifier, store: Store, ran: Ran) -> None:
    """One message per channel through the outbox, the origin first if not subscribed."""
    msg = views.announcement(ran)
    origin = ran.schedule.channel_id
    channels = await notifier.channels()
    if origin and origin not in channels:
        await store.run(store.outbox.enqueue, origin, msg)
        notifier.kick()
    await notifier.publish(**msg)
