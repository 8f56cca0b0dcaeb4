"""What every listener gets: the services, who asked and where, and how to answer."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.audit import Actor
from bot.control import Unrecorded
from bot.dialer import DialerError
from bot.services import Services
from bot.slack_client import post_to_response_url
from handlers.blocks import dialer_error_text, esc, message
from store import StorageError

log = logging.getLogger(__name__)


@dataclass
class Request:
    services: Services
    actor: Actor
    respond: AsyncRespond | None
    trigger_id: str | None = None

    @classmethod
    def from_bolt(
        cls, context: AsyncBoltContext, body: dict[str, Any], respond: AsyncRespond | None
    ) -> Request:
        return cls(
            services=context["services"],
            actor=context["actor"],
            respond=respond,
            trigger_id=body.get("trigger_id"),
        )

    async def may(self, actions: Iterable[str]) -> frozenset[str]:
        """Which of ``actions`` the person asking may take here (bot/access.py decides)."""
        return await self.services.access.allowed(
            self.actor.user_id, self.actor.channel_id, actions
        )

    async def role_here(self) -> str | None:
        return await self.services.access.role_of(self.actor.user_id, self.actor.channel_id)

    async def reply(self, msg: dict[str, Any], *, replace: bool = False) -> None:
        """Ephemeral answer through response_url; `replace` swaps the message a button sat on.

        A click inside a modal carries no response_url: then the answer goes to the
        user's Messages tab (chat:write, no extra scope), as a new message.
        """
        if self.respond is None or not self.respond.response_url:
            if not self.actor.user_id:  # a forged payload with neither: nobody to tell
                log.warning("no response_url and no user: answer dropped: %.80s", msg.get("text"))
                return
            await self.services.client.chat_postMessage(
                channel=self.actor.user_id, unfurl_links=False, **msg
            )
        else:
            how = (
                {"replace_original": True}
                if replace
                else {"response_type": "ephemeral", "replace_original": False}
            )
            # slack_sdk drops None values
            await post_to_response_url(
                self.services.client, self.respond.response_url, {**msg, **how}
            )

    def spawn(self, work: Coroutine[Any, Any, Any], doing: str) -> None:
        """Run `work` after the ack; any failure reaches the user as one sentence, never a trace.

        `doing` completes "Could not <doing>: …", e.g. "start campaign #12".
        """
        self.services.tasks.spawn(self._guarded(work, doing), name=doing)

    async def _guarded(self, work: Coroutine[Any, Any, Any], doing: str) -> None:
        try:
            await work
        except DialerError as exc:
            paths = self.services.dialer.paths  # DIALER_PATHS included: a 404 names the campaign
            await self._reply_quietly(message(dialer_error_text(exc, doing, paths)))
        except StorageError as exc:
            log.error("could not %s: the store failed: %s", doing, exc)
            await self._reply_quietly(message(storage_error_text(exc, doing)))
        except Exception:
            log.exception("could not %s", doing)
            await self._reply_quietly(
                message(
                    f":warning: Could not {doing}: something failed on the bot's side; "
                    "the error is logged for its maintainers."
                )
            )

    async def _reply_quietly(self, msg: dict[str, Any]) -> None:
        try:
            await self.reply(msg)
        except Exception:  # Slack itself is failing: the log is all that is left
            log.exception("could not tell %s about a failure", self.actor.user_id)


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


Work = Callable[[Request, dict[str, Any]], Coroutine[Any, Any, None]]
BoltListener = Callable[[dict[str, Any], AsyncBoltContext], Coroutine[Any, Any, None]]


def listener(doing: str | Callable[[dict[str, Any]], str]) -> Callable[[Work], BoltListener]:
    """The prologue every button, shortcut and plain view submission shares: ack at once
    (Slack allows 3 s), build the Request, and run the decorated `(req, body)` coroutine
    after the ack through Request.spawn, so that any failure reaches the user as one
    sentence. `doing` completes "Could not <doing>: …"; a function of the payload when the
    sentence names what was clicked.

    Bolt injects arguments by parameter name, so the listener it sees takes (body, context)
    and reaches ack and respond through the context.
    """

    def decorate(work: Work) -> BoltListener:
        async def bolt_listener(body: dict[str, Any], context: AsyncBoltContext) -> None:
            await context.ack()
            req = Request.from_bolt(context, body, context.respond)
            req.spawn(work(req, body), doing if isinstance(doing, str) else doing(body))

        bolt_listener.__name__ = bolt_listener.__qualname__ = work.__name__
        bolt_listener.__doc__ = work.__doc__
        return bolt_listener

    return decorate


def storage_error_text(exc: StorageError, doing: str) -> str:
    """The bot's own database failed it: say so plainly, whether anything was sent, and
    who can fix it (the maintainers; a locked file usually passes)."""
    if isinstance(exc, Unrecorded):
        return unrecorded_text(exc)
    sent = " Nothing was sent to the dialer." if exc.held_back else ""
    if exc.busy:
        return (
            f":hourglass: Could not {doing}: the bot's storage is busy ({esc(str(exc))})."
            f"{sent} Try again in a moment; if it lasts, tell the bot's maintainers."
        )
    return (
        f":rotating_light: Could not {doing}: the bot's storage is failing ({esc(str(exc))})."
        f"{sent} Please tell the bot's maintainers; commands cannot be recorded until "
        "they fix it."
    )


def unrecorded_text(exc: Unrecorded) -> str:
    """A command that went out before the storage failed: what the dialer answered comes
    first, never "could not" or "nothing was sent"."""
    o = exc.outcome
    if o.result == "ok":
        said = "the dialer took it" + (
            f": the campaign is now {esc(o.new_state)}" if o.new_state else ""
        )
    elif o.result == "failed":
        said = f"the dialer refused it ({esc(o.detail or 'no reason given')})"
    else:
        said = f"it is not known whether it took effect ({esc(o.detail or 'no clear answer')})"
    return (
        f":warning: The {o.command} of campaign #{o.campaign_id} went out to the dialer and "
        f"{said}. But the bot's storage failed while recording it ({esc(str(exc))}), so the "
        f"audit log may not show it. Check the campaign with `/dialer campaign "
        f"{o.campaign_id}`, and tell the bot's maintainers."
    )
