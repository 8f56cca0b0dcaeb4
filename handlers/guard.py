"""Permission checks shared by slash commands and buttons; every refusal is audited."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.access import REQUIRED_ROLE, Decision
from bot.audit import Actor, record
from bot.find import positive_int
from handlers.blocks import esc, message
from handlers.request import BoltListener, Request, listener
from store import Store


async def authorize(req: Request, action: str, *, campaign_id: int | None = None) -> bool:
    services = req.services
    actor = req.actor
    decision = await services.access.check(actor.user_id, actor.channel_id, action)
    if decision.allowed:
        return True
    await audit_denied(services.store, actor, decision, campaign_id=campaign_id)
    await req.reply(
        message(denied_text(action, decision.needed, decision.has, services.access.admin_ids))
    )
    return False


async def audit_denied(
    store: Store,
    actor: Actor,
    decision: Decision,
    *,
    campaign_id: int | None = None,
    where: str | None = None,
) -> None:
    """The denied row every refusal leaves; ``where`` names a refusal made outside authorize."""
    prefix = f"{where}: " if where else ""
    await record(
        store,
        actor,
        decision.action,
        "denied",
        campaign_id=campaign_id,
        detail=f"{prefix}needs {decision.needed}, has {decision.has or 'no role'}",
    )


def denied_text(action: str, needed: str | None, has: str | None, admins: frozenset[str]) -> str:
    needed = needed or REQUIRED_ROLE.get(action) or "admin"
    who = ", ".join(f"<@{a}>" for a in sorted(admins)) or "a workspace admin of this bot"
    return (
        f":no_entry: `{esc(action)}` needs the *{needed}* role"
        f"{' in this channel' if has is None else ''}; you have "
        f"{'*' + has + '*' if has else 'no role here'}. Ask {who} for access."
    )


IdAction = Callable[[Request, int], Awaitable[None]]


def id_button(
    action: str,
    doing: str,
    run: IdAction,
    *,
    names_campaign: bool = False,
    invalid: str = ":warning: That button is not valid.",
) -> BoltListener:
    """The listener of a button whose value is one id: after the ack, refuse a value that is
    not an id, check the role for `action` (naming the campaign in a refusal's audit row when
    `names_campaign`), and `run`. `doing` completes "Could not <doing>"."""

    @listener(doing)
    async def on_click(req: Request, body: dict[str, Any]) -> None:
        item_id = positive_int(body["actions"][0].get("value", ""))
        if item_id is None:
            await req.reply(message(invalid))
        elif await authorize(req, action, campaign_id=item_id if names_campaign else None):
            await run(req, item_id)

    return on_click
