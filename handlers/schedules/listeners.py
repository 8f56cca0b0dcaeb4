"""Scheduled commands from Slack: `/dialer start 12 at 08:00`, `/dialer schedules`, cancel.

Scheduling needs the role and the confirmation that running the command now needs: the
confirmation is a single-use claim (store/claims.py). A command in APPROVAL_REQUIRED is
approved when it is scheduled, by a second person in the channel; the runner
(bot/schedules.py) then runs it at its time as the requester.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.access import rank
from bot.control import CONFIRM_TTL_S
from bot.find import positive_int
from bot.notify import Notifier
from bot.schedules import Ran
from handlers.blocks import esc, message
from handlers.grammar import SCHEDULABLE, Scheduled, parse_when
from handlers.guard import authorize, id_button
from handlers.payload import load_object
from handlers.request import Request, listener
from handlers.schedules import views
from store import Store

log = logging.getLogger(__name__)

CLAIM_PREFIX = "schedule "
PICK = "schedule:pick"


async def user_zone(client: AsyncWebClient, user_id: str, fallback: str) -> tuple[ZoneInfo, bool]:
    """(zone, True) from the user's Slack profile (users.info `tz`, scope users:read), or
    (BOT_TIMEZONE, False) when unknown. Asked once per scheduling command, not cached: a user
    who just changed their zone in Slack gets the new one, and scheduling is rare."""
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


def _bot_zone(req: Request) -> ZoneInfo:
    return ZoneInfo(req.services.settings.bot_timezone)


async def schedule_command(req: Request, parsed: Scheduled) -> None:
    """After the role check: read the time in the user's zone, show the confirmation."""
    services = req.services
    assert isinstance(parsed.campaign_id, int), "the router resolves a name first"
    zone, known = await user_zone(
        services.client, req.actor.user_id, services.settings.bot_timezone
    )
    try:
        due = parsed.when.resolve(datetime.now(UTC), zone)
    except ValueError as exc:
        await req.reply(
            message(
                f":warning: `/dialer {parsed.command} {parsed.campaign_id} "
                f"{esc(parsed.when.text)}`: {exc}."
            )
        )
        return
    campaign = await services.dialer.get_campaign(parsed.campaign_id)
    hours = await services.controller.hours_report(campaign, parsed.command)
    token = await services.store.run(
        services.store.claims.issue,
        action=CLAIM_PREFIX + parsed.command,
        campaign_id=campaign.id,
        user_id=req.actor.user_id,
        channel_id=req.actor.channel_id,
        payload={"name": campaign.name, "due_at": due.isoformat(), "tz": zone.key},
        ttl_s=CONFIRM_TTL_S,
    )
    await req.reply(
        views.confirmation(
            campaign,
            parsed.command,
            due,
            zone,
            _bot_zone(req),
            token,
            req.actor.user_id,
            needs_approval=parsed.command in services.settings.approval_commands,
            zone_known=known,
            hours=hours,
        )
    )


def pick_button(parsed: Scheduled) -> tuple[str, str, Any]:
    """The candidates' button for `start promo at 08:00`: it schedules that command at that
    time on its own id (through the usual confirmation), it does not run it now."""
    label = f"{parsed.command.capitalize()} {parsed.when.text}"[:40]

    def value(campaign_id: int) -> str:
        return json.dumps({"c": parsed.command, "id": campaign_id, "w": parsed.when.text})

    return label, PICK, value


def _picked(raw: str) -> Scheduled | None:
    """The Scheduled of a candidate's button, or None when the value is not one we made."""
    data = load_object(raw, max_depth=2)
    if data is None:
        return None
    try:
        command, campaign_id = data["c"], positive_int(data["id"])
        when = parse_when(str(data["w"]).split())
    except (ValueError, TypeError, KeyError):
        return None
    if command not in SCHEDULABLE or campaign_id is None:
        return None
    return Scheduled(command, campaign_id, when)


@listener("schedule the command")
async def on_pick(req: Request, body: dict[str, Any]) -> None:
    """A candidate chosen for a scheduled command given by name: confirm it as for an id."""
    parsed = _picked(str(body["actions"][0].get("value", ""))[:500])
    if parsed is None:
        await req.reply(views.refused("That button is not valid. Nothing was scheduled."))
    elif await authorize(req, parsed.command, campaign_id=int(parsed.campaign_id)):
        await schedule_command(req, parsed)


def _token(body: dict[str, Any]) -> str:
    return str(body["actions"][0].get("value", ""))[:64]


@listener("schedule the command")
async def on_confirm(req: Request, body: dict[str, Any]) -> None:
    token = _token(body)
    services = req.services
    store = services.store
    known = await store.run(store.claims.get, token)
    if known is None or not known.action.startswith(CLAIM_PREFIX):
        await req.reply(views.refused("This confirmation is not known. Nothing was scheduled."))
        return
    command = known.action.removeprefix(CLAIM_PREFIX)
    if command not in SCHEDULABLE or not await authorize(
        req, command, campaign_id=known.campaign_id
    ):
        return
    claim = await store.run(store.claims.claim, token, user_id=req.actor.user_id)
    if not claim.ok:
        by = f" by <@{claim.by_user}>" if claim.by_user else ""
        await req.reply(
            views.refused(f"This confirmation was already {claim.state}{by}. Nothing changed.")
        )
        return
    payload = claim.payload or {}
    due = datetime.fromisoformat(payload["due_at"])
    if due <= datetime.now(UTC):
        await req.reply(
            views.refused(
                "That time passed while the confirmation was open. Nothing was scheduled; "
                f"run `/dialer {command} {claim.campaign_id} …` again with a later time."
            ),
            replace=True,
        )
        return
    needs_approval = command in services.settings.approval_commands
    sched = await services.scheduler.add(
        req.actor,
        command=command,
        campaign_id=int(claim.campaign_id or 0),
        campaign_name=payload.get("name"),
        due_at=due,
        tz=str(payload.get("tz") or "UTC"),
        awaiting_approval=needs_approval,
    )
    if needs_approval:
        await _post_approval_request(req, sched)
    await req.reply(views.scheduled(sched), replace=True)


async def _post_approval_request(req: Request, sched: Any) -> None:
    channel = sched.channel_id or req.actor.user_id
    try:
        await req.services.client.chat_postMessage(
            channel=channel, unfurl_links=False, **views.approval_request(sched)
        )
    except SlackApiError as exc:
        log.warning(
            "schedule #%s: approval request not posted: %s", sched.id, exc.response.get("error")
        )
        await req.services.scheduler.cancel(req.actor, sched, is_admin=True)
        await req.reply(
            views.refused(
                "The approval request could not be posted in this channel "
                f"({esc(exc.response.get('error'))}), so the schedule was withdrawn. "
                "Invite the bot to the channel and try again."
            )
        )


@listener("dismiss the schedule")
async def on_dismiss(req: Request, body: dict[str, Any]) -> None:
    token = _token(body)
    store = req.services.store
    known = await store.run(store.claims.get, token)
    if known is None or not known.action.startswith(CLAIM_PREFIX):
        await req.reply(views.refused("This confirmation is not known. Nothing changed."))
        return
    claim = await store.run(
        store.claims.claim, token, user_id=req.actor.user_id, final_state="cancelled"
    )
    text = "Not scheduled." if claim.ok else f"This confirmation was already {claim.state}."
    await req.reply(views.refused(text), replace=claim.ok)


async def _may_cancel(req: Request, sched: Any) -> bool:
    if sched.created_by == req.actor.user_id:
        return True
    role = await req.services.access.role_of(req.actor.user_id, req.actor.channel_id)
    return rank(role) >= rank("admin")


async def list_schedules(req: Request, _: Any = None) -> None:
    store = req.services.store
    rows = await store.run(store.schedules.open)
    await req.reply(views.listing([(s, await _may_cancel(req, s)) for s in rows]))


async def cancel_schedule(req: Request, schedule_id: int, *, replace: bool = False) -> None:
    """`/dialer schedule cancel <n>` and the Cancel button: own schedules, or any for an admin."""
    services = req.services
    sched = await services.store.run(services.store.schedules.get, schedule_id)
    if sched is None:
        await req.reply(
            views.refused(f"There is no schedule #{schedule_id}. `/dialer schedules` lists them.")
        )
        return
    if sched.state not in ("awaiting", "pending"):
        await req.reply(
            views.refused(f"Schedule #{sched.id} is {sched.state}: there is nothing to cancel.")
        )
        return
    if not await _may_cancel(req, sched):
        await req.reply(
            views.refused(
                f"Schedule #{sched.id} is <@{sched.created_by}>'s: only they or an admin may "
                "cancel it."
            )
        )
        return
    if not await services.scheduler.cancel(req.actor, sched, is_admin=True):
        await req.reply(views.refused(f"Schedule #{sched.id} already ran or was cancelled."))
        return
    await req.reply(views.cancelled(sched, req.actor.user_id), replace=replace)


async def schedule_subcommand(req: Request, schedule_id: int) -> None:
    await cancel_schedule(req, schedule_id)


on_cancel_button = id_button(
    "cancel schedule",
    "cancel the schedule",
    cancel_schedule,
    invalid=":warning: That button is not valid. Nothing was changed.",
)


@listener("decide the schedule")
async def on_decision(req: Request, body: dict[str, Any]) -> None:
    """Approve / Reject on a schedule request in the channel; never by the requester."""
    action = body["actions"][0]
    approve = action.get("action_id") == views.APPROVE
    schedule_id = positive_int(action.get("value", ""))
    services = req.services
    sched = (
        await services.store.run(services.store.schedules.get, schedule_id) if schedule_id else None
    )
    if sched is None:
        await req.reply(views.refused("This schedule is not known."))
        return
    verb = "approve" if approve else "reject"
    # The role counts in the channel the schedule was asked in (as stored), wherever the
    # button was clicked: the same rule as the schedule's own check at its due time.
    req = dataclasses.replace(
        req, actor=dataclasses.replace(req.actor, channel_id=sched.channel_id)
    )
    if not await authorize(req, f"{verb} {sched.command}", campaign_id=sched.campaign_id):
        return
    if sched.created_by == req.actor.user_id and approve:
        await req.reply(views.refused("You cannot approve your own schedule."))
        return
    if sched.state != "awaiting":
        await req.reply(views.refused(f"Schedule #{sched.id} is already {sched.state}."))
        return
    if approve:
        done = await services.scheduler.approve(req.actor, sched)
    else:
        done = await services.scheduler.cancel(req.actor, sched, is_admin=True)
    if not done:
        await req.reply(views.refused(f"Schedule #{sched.id} was decided already."))
        return
    fresh = await services.store.run(services.store.schedules.get, sched.id)
    verb_done = "approved" if approve else "rejected"
    await req.reply(
        views.approval_decided(fresh or sched, verb_done, req.actor.user_id), replace=True
    )


async def announce(notifier: Notifier, store: Store, ran: Ran) -> None:
    """What a due schedule did (bot/schedules.py calls back): one message per channel
    through the outbox, the origin first if not subscribed."""
    msg = views.announcement(ran)
    origin = ran.schedule.channel_id
    channels = await notifier.channels()
    if origin and origin not in channels:
        await store.run(store.outbox.enqueue, origin, msg)
        notifier.kick()
    await notifier.publish(**msg)
