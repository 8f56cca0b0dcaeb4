"""App Home listeners: the tab opened (Events API) and its shortcut buttons."""

from __future__ import annotations

from typing import Any

from handlers.call_lists import listeners as call_lists
from handlers.campaign_form import listeners as campaign_form
from handlers.guard import authorize
from handlers.home.publisher import HomePublisher
from handlers.request import Request, listener


def on_home_opened(publisher: HomePublisher) -> Any:
    async def listener(event: dict[str, Any], body: dict[str, Any]) -> None:
        """Bolt acks the event when this returns, so the work runs after it. Retries of one
        delivery share its event_id, and run nothing twice."""
        user = event.get("user")
        if event.get("tab", "home") != "home" or not isinstance(user, str) or not user:
            return
        event_id = body.get("event_id")
        publisher.tasks.spawn(
            publisher.opened(user, event_id if isinstance(event_id, str) else None),
            name="app home",
        )

    return listener


@listener("open the campaign form")
async def on_new_campaign(req: Request, body: dict[str, Any]) -> None:
    if await authorize(req, "new"):
        await campaign_form.open_new(req)


@listener("open the call-list form")
async def on_upload(req: Request, body: dict[str, Any]) -> None:
    if await authorize(req, "upload"):
        await call_lists.open_upload_modal(req, None)
