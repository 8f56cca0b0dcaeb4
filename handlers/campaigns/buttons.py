"""Buttons on campaign listings and the detail view: paging, details, history."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_bolt.context.async_context import AsyncBoltContext

from bot.find import Filter
from handlers.blocks import message
from handlers.campaigns import listing as campaigns
from handlers.guard import authorize, id_button
from handlers.history import listeners as history
from handlers.history.query import HistoryQuery
from handlers.request import Request

HISTORY_COUNT = 10


async def on_page(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    await ack()
    req = Request.from_bolt(context, body, respond)
    # Paging keeps the filter the list was asked with.
    asked = Filter.from_page_value(str(body["actions"][0].get("value", "")))

    async def run() -> None:
        if asked is None:
            await req.reply(message(":warning: That page button is not valid."))
        elif await authorize(req, "campaigns"):
            await campaigns.list_campaigns(req, asked, replace=True)

    req.spawn(run(), "list campaigns")


on_details = id_button(
    "campaign", "show the campaign", campaigns.show_campaign, names_campaign=True
)


async def _show_history(req: Request, campaign_id: int) -> None:
    """History on the detail view: the campaign's last audit entries."""
    await history.show_history(req, HistoryQuery(count=HISTORY_COUNT, campaign_id=campaign_id))


on_history = id_button("history", "read the audit log", _show_history, names_campaign=True)
