"""What happens outside Slack's message surfaces, as console commands: `home` opens the bot's
App Home tab, `dialer <id> <state>` is a supervisor changing a campaign in the Voipex portal."""

from __future__ import annotations

from typing import Any

import httpx
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.console import payloads
from bot.ids import positive_int


async def open_home(session: Any) -> None:
    """The Home tab opened, as Slack reports it: an app_home_opened Events API delivery."""
    session.events_sent += 1
    body = payloads.app_home_opened(session.who, f"EvDEMO{session.events_sent:06d}")
    headers = {**payloads.signed_headers(session._secret, body), "content-type": "application/json"}
    await session.app.async_dispatch(AsyncBoltRequest(body=body, headers=headers))
    await session.refresh()


async def portal(session: Any, args: list[str]) -> None:
    """`dialer <id> <state>`: the simulator's PUT /_sim/campaigns/<id>/state (a change made
    outside Slack), then one watcher poll, so its notification shows at once."""
    campaign_id = positive_int(args[0]) if len(args) == 2 else None
    if campaign_id is None:
        session.out("Usage: dialer <campaign id> <state>, e.g. dialer 1 paused (as the portal).")
        return
    async with httpx.AsyncClient() as client:
        resp = await client.put(
            f"{session.sim.url}/_sim/campaigns/{campaign_id}/state", json={"state": args[1]}
        )
    if resp.status_code != 200:
        session.out(f"(the portal answered {resp.status_code}: {resp.text[:200]})")
        return
    session.out(f"(in the Voipex portal, campaign #{campaign_id} is now {args[1]})")
    await session.services.watcher.poll_once()
    await session.refresh()
