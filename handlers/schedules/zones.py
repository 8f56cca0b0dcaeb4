"""The requester's time zone: Slack's users.info `tz` (scope users:read), else BOT_TIMEZONE.

Asked once per scheduling command (not cached): a user who just changed their zone in
Slack gets the new one, and scheduling is rare enough that one call costs nothing.
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


async def user_zone(client: AsyncWebClient, user_id: str, fallback: str) -> tuple[ZoneInfo, bool]:
    """(zone, True) from the user's Slack profile, or (BOT_TIMEZONE, False) when unknown."""
    name = None
    try:
        resp = await client.users_info(user=user_id)
        user = resp.get("user") or {}
        name = user.get("tz") if isinstance(user.get("tz"), str) else None
    except SlackApiError as exc:
        log.info("users.info failed (%s): using BOT_TIMEZONE", exc.response.get("error"))
    if name:
        try:
            return ZoneInfo(name), True
        except (ZoneInfoNotFoundError, ValueError):
            log.info("Slack time zone %r is unknown here: using BOT_TIMEZONE", name)
    return ZoneInfo(fallback), False
