"""Scheduling from the campaign detail view: a small modal (command, time), then the same
confirmation as `/dialer <cmd> <id> at …`, in the user's Messages tab (a modal has no
response_url)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.models.blocks import (
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.find import positive_int
from bot.services import Services
from handlers.blocks import message
from handlers.grammar import SCHEDULABLE, Scheduled, parse_when
from handlers.guard import authorize
from handlers.payload import metadata
from handlers.request import Request
from handlers.schedules.listeners import schedule_command

OPEN = "schedule:open"  # the button on the campaign detail view
CALLBACK_ID = "schedule:form"


def modal(campaign_id: int, channel_id: str | None) -> dict[str, Any]:
    options = [Option(value=c, label=c.capitalize()) for c in SCHEDULABLE]
    return View(
        type="modal",
        callback_id=CALLBACK_ID,
        title=f"Schedule #{campaign_id}"[:24],
        submit="Next",
        close="Cancel",
        private_metadata=json.dumps({"campaign": campaign_id, "channel": channel_id}),
        blocks=[
            InputBlock(
                block_id="command",
                label="Command",
                element=StaticSelectElement(
                    action_id="value", options=options, initial_option=options[0]
                ),
            ),
            InputBlock(
                block_id="when",
                label="When",
                hint="In your Slack time zone. You confirm the exact time on the next step.",
                element=PlainTextInputElement(
                    action_id="value",
                    max_length=40,
                    placeholder="at 08:00 · at 2026-12-24 08:00 · tomorrow 08:00 · in 30m",
                ),
            ),
        ],
    ).to_dict()


async def on_open(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    """Open at once: the trigger_id lasts 3 s. The role is checked on submit."""
    await ack()
    services: Services = context["services"]
    campaign_id = positive_int(body["actions"][0].get("value", ""))
    req = Request.from_bolt(context, body, respond)
    if campaign_id is None:
        await req.reply(message(":warning: That button is not valid."))
        return
    await services.client.views_open(
        trigger_id=body.get("trigger_id"), view=modal(campaign_id, req.actor.channel_id)
    )


def _value(view: dict[str, Any], block: str) -> str:
    state = ((view.get("state") or {}).get("values") or {}).get(block) or {}
    element = state.get("value") or {}
    selected = element.get("selected_option") or {}
    return str(selected.get("value") or element.get("value") or "").strip()


async def on_submit(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    view = body.get("view") or {}
    meta = metadata(view)
    campaign_id = positive_int(meta.get("campaign", ""))
    command = _value(view, "command")
    if campaign_id is None or command not in SCHEDULABLE:
        await ack(response_action="errors", errors={"command": "Choose a command."})
        return
    try:
        when = parse_when(_value(view, "when").split())
    except ValueError as exc:
        await ack(response_action="errors", errors={"when": str(exc)[:150]})
        return
    await ack(response_action="clear")
    services: Services = context["services"]
    channel = meta.get("channel")
    actor = replace(context["actor"], channel_id=channel if isinstance(channel, str) else None)
    req = Request(services=services, actor=actor, respond=None)

    async def run() -> None:
        if await authorize(req, command, campaign_id=campaign_id):
            await schedule_command(req, Scheduled(command, campaign_id, when))

    req.spawn(run(), "schedule the command")
