"""`/dialer lists`, `/dialer list <id|name>`, their buttons, and the audited "Show numbers"."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_bolt.context.async_context import AsyncBoltContext

from bot.find import Filter, Ref
from bot.recorded import record
from handlers.blocks import message
from handlers.call_lists import views
from handlers.call_lists.views import NUMBERS_ACTION, PAGE_ACTION, SHOW_ACTION
from handlers.campaigns.choose import call_list_id_or_ask
from handlers.campaigns.listing import allowed_actions
from handlers.guard import authorize, id_button
from handlers.request import Request

__all__ = ["NUMBERS_ACTION", "PAGE_ACTION", "SHOW_ACTION"]

SHOW_NUMBERS = "show numbers"  # the REQUIRED_ROLE action and the audit action


async def list_call_lists(
    req: Request, parsed: tuple[Filter, int], *, replace: bool = False
) -> None:
    wanted, page = parsed
    dialer = req.services.dialer
    lists, campaigns = await asyncio.gather(dialer.list_call_lists(), dialer.list_campaigns())
    await req.reply(views.call_lists_message(lists, page, wanted, campaigns), replace=replace)


async def show_call_list(req: Request, ref: Ref) -> None:
    """Name, count, created, the campaigns using it and its first entries, masked."""
    list_id = await call_list_id_or_ask(req, ref)
    if list_id is None:
        return
    dialer = req.services.dialer
    call_list, campaigns, allowed = await asyncio.gather(
        dialer.get_call_list(list_id), dialer.list_campaigns(), allowed_actions(req)
    )
    await req.reply(views.call_list_detail(call_list, campaigns, allowed))


async def show_numbers(req: Request, list_id: int) -> None:
    """The first entries in full: the audit row is written first, or nothing is shown."""
    dialer = req.services.dialer
    call_list, campaigns, allowed = await asyncio.gather(
        dialer.get_call_list(list_id), dialer.list_campaigns(), allowed_actions(req)
    )
    shown = len(call_list.entries[: views.ENTRIES_SHOWN])
    await record(
        req.services.store,
        req.actor,
        SHOW_NUMBERS,
        "ok",
        request={"call_list_id": list_id, "numbers_shown": shown},  # never the numbers
        detail=f"call list #{list_id} {call_list.name}: {shown} numbers shown in full",
    )
    await req.reply(
        views.call_list_detail(call_list, campaigns, allowed, revealed_by=req.actor.user_id),
        replace=True,
    )


def _value(body: dict[str, Any]) -> str:
    return str(body["actions"][0].get("value", ""))


async def _show(req: Request, list_id: int) -> None:
    """A call-list candidate (or any Details button on a list)."""
    await show_call_list(req, Ref(id=list_id))


on_show = id_button("list", "show the call list", _show)


on_show_numbers = id_button(
    SHOW_NUMBERS,
    "show the numbers",
    show_numbers,
    invalid=":warning: That button is not valid. Nothing was shown.",
)


async def on_page(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    """Next/previous page of `/dialer lists`; the value keeps the filter."""
    await ack()
    req = Request.from_bolt(context, body, respond)
    asked = Filter.from_page_value(_value(body))

    async def run() -> None:
        if asked is None:
            await req.reply(message(":warning: That page button is not valid."))
        elif await authorize(req, "lists"):
            await list_call_lists(req, asked, replace=True)

    req.spawn(run(), "list call lists")
