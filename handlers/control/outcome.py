"""After a control command ran: the result for the person who asked, and the notification
for the subscribed channels. Shared by the control and approval listeners, so that neither
imports the other's listeners.
"""

from __future__ import annotations

import logging

from bot.control import Outcome
from handlers.control import views
from handlers.request import Request
from handlers.subscriptions.views import subject, thread_parent

# Dangerous commands are also shown in the channel, not only in the campaign's thread.
BROADCAST_COMMANDS = frozenset({"start", "remove"})

log = logging.getLogger(__name__)


async def finish(req: Request, outcome: Outcome, *, replace: bool) -> None:
    """Show the result, then tell the subscribed channels; a Slack failure there changes nothing."""
    await req.reply(views.result(outcome, req.actor.user_id), replace=replace)
    await notify(req, outcome)


async def notify(req: Request, outcome: Outcome) -> None:
    """Tell the subscribed channels about a command that ran (or may have)."""
    if outcome.result in ("ok", "unknown"):
        note = views.notification(outcome, req.actor.user_id, req.actor.channel_id)
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
