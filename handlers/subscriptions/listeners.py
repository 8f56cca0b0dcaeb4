"""`/dialer subscribe|unsubscribe|subscriptions`: which channels hear about control commands."""

from __future__ import annotations

from handlers.blocks import message
from handlers.request import Request


async def subscribe(req: Request, _: None) -> None:
    channel = req.actor.channel_id
    if not channel:
        await req.reply(message("Run `/dialer subscribe` in the channel that should be notified."))
        return
    subs = req.services.store.subscriptions
    added = await req.services.store.run(subs.add, channel, req.actor.user_id)
    text = (
        f"<#{channel}> will now receive a notification for every campaign control command."
        if added
        else f"<#{channel}> is already subscribed."
    )
    await req.reply(message(text))


async def unsubscribe(req: Request, _: None) -> None:
    channel = req.actor.channel_id
    subs = req.services.store.subscriptions
    removed = bool(channel) and await req.services.store.run(subs.remove, channel)
    text = (
        f"<#{channel}> will no longer receive control notifications."
        if removed
        else f"<#{channel}> was not subscribed."
    )
    await req.reply(message(text))


async def list_subscriptions(req: Request, _: None) -> None:
    channels = await req.services.store.run(req.services.store.subscriptions.list)
    notify = req.services.settings.notify_channel
    lines = [f"• <#{c}>" for c in channels]
    if notify:
        lines.insert(0, f"• <#{notify}> (NOTIFY_CHANNEL, always)")
    text = (
        "Channels notified of control commands:\n" + "\n".join(lines)
        if lines
        else "No channel is subscribed. Run `/dialer subscribe` in a channel to add it."
    )
    await req.reply(message(text))
