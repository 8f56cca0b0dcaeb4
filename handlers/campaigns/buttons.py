"""Buttons on campaign listings and the detail view: paging, details, history."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_bolt.context.async_context import AsyncBoltContext

from bot.find import Filter
from bot.ids import positive_int
from handlers.blocks import message
from handlers.campaigns import listing as campaigns
from handlers.guard import authorize
from handlers.history import listeners as history
from handlers.history.query import HistoryQuery
from handlers.request import Request

HISTORY_COUNT = 10


def _int_value(body: dict[str, Any]) -> int | None:
    return positive_int(body["actions"][0].get("value", ""))


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


async def on_details(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    await ack()
    req = Request.from_bolt(context, body, respond)
    campaign_id = _int_value(body)

    async def run() -> None:
        if campaign_id is None:
            await req.reply(message(":warning: That button is not valid."))
        elif await authorize(req, "campaign", campaign_id=campaign_id):
            await campaigns.show_campaign(req, campaign_id)

    req.spawn(run(), "show the campaign")


async def on_history(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    """History on the detail view: the campaign's last audit entries."""
    await ack()
    req = Request.from_bolt(context, body, respond)
    campaign_id = _int_value(body)

    async def run() -> None:
        if campaign_id is None:
            await req.reply(message(":warning: That button is not valid."))
        elif await authorize(req, "history", campaign_id=campaign_id):
            await history.show_history(
                req, HistoryQuery(count=HISTORY_COUNT, campaign_id=campaign_id)
            )

    req.spawn(run(), "read the audit log")
