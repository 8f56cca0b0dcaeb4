"""Campaign control from Slack: slash commands and buttons share this code and bot/control.py."""

from __future__ import annotations

import logging
import re
from typing import Any

from bot.control import (
    CALLS_PEOPLE,
    CONFIRM_TTL_S,
    CommandNotAllowed,
    Outcome,
    OutsideCallingHours,
)
from bot.dialer import COMMANDS
from bot.find import positive_int
from handlers.approvals.listeners import request_approval
from handlers.blocks import message
from handlers.control import views
from handlers.guard import authorize
from handlers.request import Request, listener
from handlers.subscriptions.listeners import notify

log = logging.getLogger(__name__)

CONTROL_ACTION = re.compile(r"^control:(start|pause|unpause|reload|remove)$")
RUNS_AT_ONCE = frozenset({"pause"})  # the safe direction needs no confirmation


async def finish(req: Request, outcome: Outcome, *, replace: bool) -> None:
    """Show the result, then tell the subscribed channels."""
    await req.reply(views.result(outcome, req.actor.user_id), replace=replace)
    await notify(req, outcome)


async def control_command(
    req: Request, campaign_id: int, command: str, *, reason: str | None = None
) -> None:
    """Pause at once; everything else shows a confirmation carrying a single-use token.

    ``reason`` (`pause 12 because …`) is audited and announced with the pause; for a
    command that calls people (`start|unpause 12 because …`) it is an admin's reason to
    run it outside enforced calling hours.
    """
    controller = req.services.controller
    if command in RUNS_AT_ONCE and command not in req.services.settings.approval_commands:
        try:
            outcome = await controller.run_now(req.actor, campaign_id, command, reason=reason)
        except CommandNotAllowed as exc:
            await req.reply(views.not_allowed(exc))
            return
        await finish(req, outcome, replace=False)
        return
    admin = False
    hours = controller.calling_hours
    if command in CALLS_PEOPLE and hours is not None and hours.active and hours.enforce:
        # Only an admin may call people outside enforced calling hours (with a reason).
        role = await req.services.access.role_of(req.actor.user_id, req.actor.channel_id)
        admin = role == "admin"
    try:
        prepared = await controller.prepare(
            req.actor, campaign_id, command, override=reason, admin=admin
        )
    except CommandNotAllowed as exc:
        await req.reply(views.not_allowed(exc))
        return
    except OutsideCallingHours as exc:
        await req.reply(views.outside_hours(exc, with_reason=bool(reason)))
        return
    needs_approval = command in req.services.settings.approval_commands
    await req.reply(
        views.confirmation(
            prepared, req.actor.user_id, CONFIRM_TTL_S // 60, needs_approval=needs_approval
        )
    )


def _clicked(body: dict[str, Any]) -> tuple[str, int] | None:
    """(command, campaign id) of a control button, or None for a button not ours."""
    action = body["actions"][0]
    match = CONTROL_ACTION.match(action.get("action_id", ""))
    campaign_id = positive_int(action.get("value", ""))
    if not match or campaign_id is None or match.group(1) not in COMMANDS:
        return None
    return match.group(1), campaign_id


def _doing(body: dict[str, Any]) -> str:
    clicked = _clicked(body)
    return f"{clicked[0]} campaign #{clicked[1]}" if clicked else "run the command"


@listener(_doing)
async def on_control_button(req: Request, body: dict[str, Any]) -> None:
    """A Start/Pause/… button on a list, a detail view or a notification."""
    clicked = _clicked(body)
    if clicked is None:
        await req.reply(message(":warning: That button is not valid. Nothing was sent."))
        return
    command, campaign_id = clicked
    if await authorize(req, command, campaign_id=campaign_id):
        await control_command(req, campaign_id, command)


@listener("confirm the command")
async def on_confirm(req: Request, body: dict[str, Any]) -> None:
    token = str(body["actions"][0].get("value", ""))[:64]
    store = req.services.store
    claim = await store.run(store.claims.get, token)
    if claim is None:
        await req.reply(message(":warning: This confirmation is not known. Nothing was sent."))
        return
    if not await authorize(req, claim.action, campaign_id=claim.campaign_id):
        return
    if claim.action in req.services.settings.approval_commands:
        await request_approval(req, token)
        return
    outcome = await req.services.controller.confirm(req.actor, token)
    await finish(req, outcome, replace=outcome.result != "already")


@listener("cancel the command")
async def on_cancel(req: Request, body: dict[str, Any]) -> None:
    token = str(body["actions"][0].get("value", ""))[:64]
    outcome = await req.services.controller.cancel(req.actor, token)
    await req.reply(views.result(outcome, req.actor.user_id), replace=True)
