"""Buttons on campaign listings: next/previous page, details."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_bolt.context.async_context import AsyncBoltContext

from handlers import campaigns
from handlers.blocks import message
from handlers.control import _spawn
from handlers.guard import authorize
from handlers.request import Request


def _int_value(body: dict[str, Any]) -> int | None:
    raw = str(body["actions"][0].get("value", ""))
    return int(raw) if raw.isdigit() and len(raw) < 12 and int(raw) > 0 else None


async def on_page(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    await ack()
    req = Request.from_bolt(context, body, respond)
    page = _int_value(body)

    async def run() -> None:
        if page is None:
            await req.reply(message(":warning: That page button is not valid."))
        elif await authorize(req, "campaigns"):
            await campaigns.list_campaigns(req, page, replace=True)

    _spawn(req, run(), "list campaigns")


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

    _spawn(req, run(), "show the campaign")
