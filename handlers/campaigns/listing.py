"""Read-only listeners: campaigns (filtered, paged), one campaign, IVR applications."""

from __future__ import annotations

import asyncio

from bot.access import REQUIRED_ROLE
from bot.find import Filter
from handlers.campaigns import views
from handlers.history.views import entry_line
from handlers.request import Request


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
    # The dialer's reads are futures of shared GETs (bot/dialer/sharing.py): gather makes
    # no task for them.
    campaign, call_lists, ivr_apps, recent = await asyncio.gather(
        services.dialer.get_campaign(campaign_id),
        services.dialer.list_call_lists(),
        services.dialer.list_ivr(),
        # Refused clicks would push real actions out: `history #id denied` shows them.
        services.store.run(
            audit.history, campaign_id=campaign_id, hide_denied=True, limit=5
        ),
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
