"""`/dialer subscribe|unsubscribe|subscriptions`: which channels hear about control commands,
and telling them about a command that ran (control and approvals both do, so neither
imports the other's listeners)."""

from __future__ import annotations

import logging

from bot.control import Outcome
from handlers.blocks import message
from handlers.control.views import notification
from handlers.request import Request
from handlers.subscriptions.views import subject, thread_parent

# Dangerous commands are also shown in the channel, not only in the campaign's thread.
BROADCAST_COMMANDS = frozenset({"start", "remove"})

log = logging.getLogger(__name__)

MODE_TEXT = {
    "threaded": "one thread per campaign a day (the parent shows its current state; "
    "starts, removals and outages also show in the channel)",
    "flat": "each notification as its own message",
}


async def subscribe(req: Request, mode: str | None) -> None:
    """Subscribe, or switch an existing subscription between threaded and flat; the new
    mode applies from the next notification on."""
    channel = req.actor.channel_id
    if not channel:
        await req.reply(message("Run `/dialer subscribe` in the channel that should be notified."))
        return
    store = req.services.store
    subs = store.subscriptions
    before = (await store.run(subs.modes)).get(channel)
    added = await store.run(subs.add, channel, req.actor.user_id, mode)
    now = mode or before or "threaded"
    how = f"*{now}*: {MODE_TEXT[now]}"
    if added:
        text = f"<#{channel}> will now receive campaign notifications, {how}."
    elif before != now:
        text = f"<#{channel}> now gets campaign notifications {how}, from the next one on."
    else:
        text = (
            f"<#{channel}> is already subscribed, {how}. "
            f"`/dialer subscribe {'flat' if now == 'threaded' else 'threaded'}` switches."
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
    modes = await req.services.store.run(req.services.store.subscriptions.modes)
    notify = req.services.settings.notify_channel
    lines = [f"• <#{c}> ({modes.get(c, 'threaded')})" for c in channels if c != notify]
    if notify:
        lines.insert(0, f"• <#{notify}> (NOTIFY_CHANNEL, always; {modes.get(notify, 'threaded')})")
    text = (
        "Channels notified of control commands:\n" + "\n".join(lines)
        if lines
        else "No channel is subscribed. Run `/dialer subscribe` in a channel to add it."
    )
    await req.reply(message(text))


async def notify(req: Request, outcome: Outcome) -> None:
    """Tell the subscribed channels about a command that ran (or may have); a Slack failure
    there changes nothing."""
    if outcome.result in ("ok", "unknown"):
        note = notification(outcome, req.actor.user_id, req.actor.channel_id, req.actor.via)
        state = outcome.new_state if outcome.result == "ok" else outcome.previous_state
        if outcome.result == "ok" and outcome.command == "remove":
            state = state or "removed"
        parent = thread_parent(outcome.campaign_id, outcome.campaign_name, state, note["text"])
        try:
            await req.services.notifier.publish(
                **note,
                subject=subject(outcome.campaign_id),
                parent=parent,
                broadcast=outcome.command in BROADCAST_COMMANDS,
            )
        except Exception:
            log.exception("could not queue the notification for audit entry %s", outcome.audit_id)
