"""Bolt middleware: every listener finds the services and the acting user in its context."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext

from bot.services import Services
from handlers.request import actor_from


def attach_services(services: Services) -> Callable[..., Awaitable[Any]]:
    async def middleware(
        context: AsyncBoltContext, body: dict[str, Any], next: Callable[[], Awaitable[Any]]
    ) -> Any:
        context["services"] = services
        context["actor"] = actor_from(context, body)
        return await next()

    return middleware
