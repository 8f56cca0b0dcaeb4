"""`/dialer access grant|revoke|list`: who may view, operate or administer, and where.

handlers/grammar.py reads the words (only the IDs of mentions are kept, so renaming a
user or channel changes nothing); this grants, revokes and lists, with an audit entry.
"""

from __future__ import annotations

from bot.audit import record
from handlers.access import views
from handlers.blocks import plural
from handlers.grammar import AccessCommand
from handlers.request import Request
from store.workspace import Grant


async def run(req: Request, cmd: AccessCommand) -> None:
    """The caller (run_subcommand) has checked that the actor is an admin here."""
    if cmd.verb == "list":
        await show_list(req)
    elif cmd.verb == "grant":
        await grant(req, cmd)
    else:
        await revoke(req, cmd)


async def show_list(req: Request) -> None:
    grants = await req.services.store.run(req.services.store.grants.all)
    await req.reply(views.access_list(grants, req.services.access.admin_ids))


async def _admin_in(req: Request, channels: list[str] | None) -> bool:
    """A channel-scoped admin manages only their channels; unscoped grants need admin everywhere."""
    access = req.services.access
    user = req.actor.user_id
    if not channels:
        return await access.role_everywhere(user) == "admin"
    for channel in channels:
        if await access.role_of(user, channel) != "admin":
            return False
    return True


async def grant(req: Request, cmd: AccessCommand) -> None:
    assert cmd.user_id is not None and cmd.role is not None
    store = req.services.store
    channels = list(cmd.channels) or None
    request = {"user_id": cmd.user_id, "role": cmd.role, "channels": channels}
    if not await _admin_in(req, channels):
        await _audit(req, "grant", "denied", request, "not admin where the grant applies")
        await req.reply(views.not_admin_there(channels))
        return
    added = await store.run(store.grants.grant, cmd.user_id, cmd.role, channels, req.actor.user_id)
    detail = f"{plural(len(added), 'grant')} added" if added else "already granted; nothing changed"
    await _audit(req, "grant", "ok", request, detail)
    bootstrap = cmd.user_id in req.services.access.admin_ids
    await req.reply(views.granted(cmd.user_id, cmd.role, channels, len(added), bootstrap))


async def revoke(req: Request, cmd: AccessCommand) -> None:
    """Without channels: the role (or every role) wherever it applies; with channels:
    only the grants limited to those channels."""
    assert cmd.user_id is not None
    store = req.services.store
    only_in = list(cmd.channels) or None
    existing = await store.run(store.grants.for_user, cmd.user_id)
    same_role = [g for g in existing if cmd.role is None or g.role == cmd.role]
    affected: list[Grant] = [g for g in same_role if only_in is None or g.channel_id in only_in]
    scoped = [g.channel_id for g in affected if g.channel_id is not None]
    everywhere = any(g.channel_id is None for g in affected)
    channels = sorted(set(scoped))
    request = {
        "user_id": cmd.user_id,
        "role": cmd.role,
        "channels": None if everywhere or not channels else channels,
    }
    if affected and not await _admin_in(req, None if everywhere else channels):
        await _audit(req, "revoke", "denied", request, "not admin where the grants apply")
        await req.reply(views.not_admin_there(None if everywhere else channels))
        return
    removed = await store.run(store.grants.revoke, cmd.user_id, cmd.role, only_in)
    await _audit(req, "revoke", "ok", request, f"{plural(removed, 'grant')} removed")
    bootstrap = cmd.user_id in req.services.access.admin_ids
    unscoped = [g.role for g in same_role if g.channel_id is None] if only_in else []
    await req.reply(
        views.revoked(
            cmd.user_id, cmd.role, affected if removed else [], bootstrap, everywhere=unscoped
        )
    )


async def _audit(
    req: Request, action: str, outcome: str, request: dict[str, object], detail: str
) -> None:
    await record(req.services.store, req.actor, action, outcome, request=request, detail=detail)
