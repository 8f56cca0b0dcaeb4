"""Read-only listeners: campaigns (paged), one campaign, IVR applications, call lists."""

from __future__ import annotations

import asyncio

from bot.dialer import COMMANDS
from handlers.campaigns import views
from handlers.history.views import entry_line
from handlers.request import Request


async def list_campaigns(req: Request, page: int, *, replace: bool = False) -> None:
    campaigns = await req.services.dialer.list_campaigns()
    pages = views.page_count(len(campaigns))
    if page > pages:
        await req.reply(views.past_the_end(page, pages))
        return
    may = await req.may(COMMANDS)
    await req.reply(views.campaigns_page(campaigns, page, may), replace=replace)


async def show_campaign(req: Request, campaign_id: int) -> None:
    services = req.services
    audit = services.store.audit
    campaign, call_lists, ivr_apps, recent = await asyncio.gather(
        services.dialer.get_campaign(campaign_id),
        services.dialer.list_call_lists(),
        services.dialer.list_ivr(),
        services.store.run(
            # Refused clicks would push real actions out: `history #id denied` shows them.
            lambda: audit.history(campaign_id=campaign_id, hide_denied=True, limit=5)
        ),
    )
    await req.reply(
        views.campaign_detail(
            campaign,
            {cl.id: cl for cl in call_lists},
            {app.id: app for app in ivr_apps},
            [entry_line(e) for e in recent],
            await req.may((*COMMANDS, "schedule")),  # Schedule… needs what scheduling needs
        )
    )


async def list_ivr(req: Request, _: None) -> None:
    await req.reply(views.ivr_message(await req.services.dialer.list_ivr()))


async def list_call_lists(req: Request, _: None) -> None:
    await req.reply(views.call_lists_message(await req.services.dialer.list_call_lists()))
