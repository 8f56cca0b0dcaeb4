"""`/dialer history`: read the audit log and reply with it (the text is built in views.py)."""

from __future__ import annotations

from handlers.history.views import history_message
from handlers.request import Request


async def show_history(req: Request, parsed: tuple[int | None, int]) -> None:
    campaign_id, count = parsed
    audit = req.services.store.audit
    entries = await req.services.store.run(
        lambda: audit.history(campaign_id=campaign_id, limit=count)
    )
    await req.reply(history_message(entries, campaign_id))
