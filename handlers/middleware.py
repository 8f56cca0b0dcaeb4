"""Bolt middleware: every listener finds the services and the acting user in its context."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse

from bot.services import Services
from handlers.request import actor_from

log = logging.getLogger(__name__)


def attach_services(services: Services) -> Callable[..., Awaitable[Any]]:
    async def middleware(
        context: AsyncBoltContext, body: dict[str, Any], next: Callable[[], Awaitable[Any]]
    ) -> Any:
        context["services"] = services
        context["actor"] = actor_from(context, body)
        return await next()

    return middleware


async def drop_malformed_payloads(body: dict[str, Any], next: Callable[[], Awaitable[Any]]) -> Any:
    """Bolt's own matchers index action_id without checking it; a forged payload without
    one would end in HTTP 500. Acknowledge it and run nothing instead."""
    kind = body.get("type")
    if kind == "block_actions":
        actions = body.get("actions")
        valid = (
            isinstance(actions, list)
            and bool(actions)
            and all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions)
        )
    elif kind == "block_suggestion":
        valid = isinstance(body.get("action_id"), str)
    else:
        valid = True
    if not valid:
        log.warning("ignored a %s payload without a usable action_id", kind)
        return BoltResponse(status=200, body="")
    return await next()
