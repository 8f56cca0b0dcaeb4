"""Permission checks shared by slash commands and buttons; every refusal is audited."""

from __future__ import annotations

from bot.access import REQUIRED_ROLE
from handlers.blocks import esc, message
from handlers.request import Request


async def authorize(req: Request, action: str, *, campaign_id: int | None = None) -> bool:
    services = req.services
    actor = req.actor
    decision = await services.access.check(actor.user_id, actor.channel_id, action)
    if decision.allowed:
        return True
    audit = services.store.audit
    await services.store.run(
        lambda: audit.record(
            action=action,
            outcome="denied",
            user_id=actor.user_id,
            user_name=actor.user_name,
            channel_id=actor.channel_id,
            team_id=actor.team_id,
            campaign_id=campaign_id,
            detail=f"needs {decision.needed}, has {decision.has or 'no role'}",
        )
    )
    await req.reply(
        message(denied_text(action, decision.needed, decision.has, services.access.admin_ids))
    )
    return False


def denied_text(action: str, needed: str | None, has: str | None, admins: frozenset[str]) -> str:
    needed = needed or REQUIRED_ROLE.get(action) or "admin"
    who = ", ".join(f"<@{a}>" for a in sorted(admins)) or "a workspace admin of this bot"
    return (
        f":no_entry: `{esc(action)}` needs the *{needed}* role"
        f"{' in this channel' if has is None else ''}; you have "
        f"{'*' + has + '*' if has else 'no role here'}. Ask {who} for access."
    )
