"""What every listener gets: the services, who asked and where, and how to answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.control import Actor
from bot.services import Services


@dataclass
class Request:
    services: Services
    actor: Actor
    respond: AsyncRespond
    trigger_id: str | None = None

    @classmethod
    def from_bolt(
        cls, context: AsyncBoltContext, body: dict[str, Any], respond: AsyncRespond
    ) -> Request:
        return cls(
            services=context["services"],
            actor=context["actor"],
            respond=respond,
            trigger_id=body.get("trigger_id"),
        )

    async def reply(self, msg: dict[str, Any], *, replace: bool = False) -> None:
        """Ephemeral answer through response_url; `replace` swaps the message a button sat on."""
        if replace:
            await self.respond(replace_original=True, **msg)
        else:
            await self.respond(response_type="ephemeral", replace_original=False, **msg)


def actor_from(context: AsyncBoltContext, body: dict[str, Any]) -> Actor:
    """Slack IDs from Bolt's context; the name only for readable audit rows."""
    user = body.get("user") if isinstance(body.get("user"), dict) else {}
    name = body.get("user_name") or user.get("username") or user.get("name")
    return Actor(
        user_id=context.user_id or "",
        channel_id=context.channel_id,
        team_id=context.team_id,
        user_name=name,
    )
