"""`/dialer history` and its "Older ▶" button: read the log through the store, show the view."""

from __future__ import annotations

from typing import Any

from bot.dialer import DialerError
from handlers.blocks import message
from handlers.guard import authorize
from handlers.history import views
from handlers.history.query import HistoryQuery
from handlers.request import Request, listener

__all__ = ["on_older", "show_history"]


async def show_history(req: Request, q: HistoryQuery, *, replace: bool = False) -> None:
    audit = req.services.store.audit
    entries = await req.services.store.run(
        lambda: audit.history(
            campaign_id=q.campaign_id,
            user_id=q.user_id,
            outcome=q.outcome,
            before_id=q.before_id,
            limit=q.count + 1,  # one more tells whether "Older ▶" has anything to show
        )
    )
    missing = not entries and q.campaign_id is not None and q.before_id is None
    if missing and await _campaign_missing(req, q.campaign_id):  # type: ignore[arg-type]
        await req.reply(views.no_campaign(q.campaign_id))  # type: ignore[arg-type]
        return
    more = len(entries) > q.count
    await req.reply(views.history_message(entries[: q.count], q, more=more), replace=replace)


async def _campaign_missing(req: Request, campaign_id: int) -> bool:
    """Only a 404 says so; an unreachable dialer leaves the (empty) history to speak."""
    try:
        await req.services.dialer.get_campaign(campaign_id)
    except DialerError as exc:
        return exc.status == 404
    return False


@listener("read the audit log")
async def on_older(req: Request, body: dict[str, Any]) -> None:
    """The "Older ▶" button: the next page of the same query, in place of this one."""
    q = HistoryQuery.from_value(str(body["actions"][0].get("value", ""))[:500])
    if q is None:
        await req.reply(message(":warning: That button is not valid. Run `/dialer history`."))
    elif await authorize(req, "history"):
        await show_history(req, q, replace=True)
