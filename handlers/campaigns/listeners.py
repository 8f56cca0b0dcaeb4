"""Read-only listeners: campaigns (filtered, paged), one campaign, IVR applications, and the
buttons on listings and the detail view: paging, details, history."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.access import REQUIRED_ROLE
from bot.find import Filter
from handlers.blocks import message
from handlers.campaigns import views
from handlers.guard import authorize, id_button
from handlers.history import listeners as history
from handlers.history.query import HistoryQuery
from handlers.history.views import entry_line
from handlers.request import Request, listener


async def allowed_actions(req: Request) -> frozenset[str]:
    """Every action the person may take here: only those buttons are shown.

    The one role-aware helper (Request.may → bot/access.py allowed_for_role) decides."""
    return await req.may(REQUIRED_ROLE)


async def list_campaigns(
    req: Request, parsed: tuple[Filter, int], *, replace: bool = False
) -> None:
    """`/dialer campaigns [state …] [text] [page]`; the paging buttons keep the filter."""
    wanted, page = parsed
    allowed = await allowed_actions(req)  # in memory for DIALER_ADMINS; else a shared read
    campaigns = await req.services.dialer.list_campaigns()  # a shared GET's future: no task
    pages = views.page_count(len(wanted.campaigns(campaigns)))
    if page > pages:
        await req.reply(views.past_the_end(page, pages))
        return
    await req.reply(views.campaigns_page(campaigns, page, wanted, allowed), replace=replace)


async def show_campaign(req: Request, campaign_id: int) -> None:
    services = req.services
    audit = services.store.audit
    allowed = await allowed_actions(req)  # in memory for DIALER_ADMINS; else a shared read
    # The dialer's reads are futures of shared GETs (bot/dialer/transport.py): gather makes
    # no task for them.
    campaign, call_lists, ivr_apps, recent = await asyncio.gather(
        services.dialer.get_campaign(campaign_id),
        services.dialer.list_call_lists(),
        services.dialer.list_ivr(),
        # Refused clicks would push real actions out: `history #id denied` shows them.
        services.store.run(audit.history, campaign_id=campaign_id, hide_denied=True, limit=5),
    )
    await req.reply(
        views.campaign_detail(
            campaign,
            {cl.id: cl for cl in call_lists},
            {app.id: app for app in ivr_apps},
            [entry_line(e) for e in recent],
            allowed,
        )
    )


async def list_ivr(req: Request, _: None) -> None:
    await req.reply(views.ivr_message(await req.services.dialer.list_ivr()))


HISTORY_COUNT = 10


@listener("list campaigns")
async def on_page(req: Request, body: dict[str, Any]) -> None:
    # Paging keeps the filter the list was asked with.
    asked = Filter.from_page_value(str(body["actions"][0].get("value", "")))
    if asked is None:
        await req.reply(message(":warning: That page button is not valid."))
    elif await authorize(req, "campaigns"):
        await list_campaigns(req, asked, replace=True)


on_details = id_button("campaign", "show the campaign", show_campaign, names_campaign=True)


async def _show_history(req: Request, campaign_id: int) -> None:
    """History on the detail view: the campaign's last audit entries."""
    await history.show_history(req, HistoryQuery(count=HISTORY_COUNT, campaign_id=campaign_id))


on_history = id_button("history", "read the audit log", _show_history, names_campaign=True)
