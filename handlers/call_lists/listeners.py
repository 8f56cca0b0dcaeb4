"""The call-list flow: /dialer upload → modal → background check → summary → Create/Cancel.

The modal opens at once (no dialer call before it). On submit the ack only carries inline
errors; reading the file and normalizing run after it (bot/numbers/: a process pool), with
a progress message in the user's DM that becomes the summary; past the first 20 invalid
entries, all of them are uploaded as a CSV file into the summary's thread (files:write).
Create claims a single-use token, writes the audit entry (counts, never numbers) and posts
the list once. upload.py holds the modal's values and the background check; this module
holds the listeners, the Create/Cancel buttons, and `/dialer lists`, `/dialer list <id|name>`
with their buttons and the audited "Show numbers".
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext

from bot.audit import record, recorded
from bot.dialer import DialerError, JsonFile
from bot.find import Filter, Ref
from bot.numbers import BadInput, resolve_body
from bot.services import Services
from handlers.blocks import dialer_error_text, esc, message
from handlers.call_lists import views
from handlers.call_lists.upload import (
    ACTION,
    CALL_LIST_MODE,
    ROLE_ACTION,
    as_dict,
    as_str,
    fetch_file,
    parse_submission,
    run_upload,
    upload_dir,
)
from handlers.campaigns.choose import call_list_id_or_ask
from handlers.campaigns.listeners import allowed_actions
from handlers.guard import authorize, id_button
from handlers.request import Request, listener

log = logging.getLogger(__name__)

SUBMIT_CHECK_S = 2.0  # download + CSV check before the ack; Slack allows 3 s


# ---------------------------------------------------------------------------- modal


async def open_upload_modal(req: Request, _: Any) -> None:
    """`/dialer upload` and `/dialer list new`: the trigger lasts 3 s, so open right away."""
    await open_form(req, CALL_LIST_MODE)


async def open_form(req: Request, mode: str) -> None:
    """The one form, for a call list or for do-not-call numbers (`/dialer dnc upload`)."""
    view = views.upload_modal(req.services.settings.default_region, req.actor.channel_id, mode)
    await req.services.client.views_open(trigger_id=req.trigger_id, view=view)


def dm_request(services: Services, actor: Any) -> Request:
    """A Request whose replies go to the user's DM with the bot (a modal has no
    response_url; Request.reply falls back to the DM)."""
    return Request(services=services, actor=actor, respond=None)


async def on_submit(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    """Inline errors in the ack; an unusable file too, when the download and its check fit
    in SUBMIT_CHECK_S, so the form stays open with everything typed. Otherwise (a slow or
    large file) the check goes on after the ack and its problem comes as a message."""
    services: Services = context["services"]
    parsed = parse_submission(as_dict(body.get("view")), services.settings.default_region)
    if isinstance(parsed, dict):
        await ack(response_action="errors", errors=parsed)
        return
    actor = replace(context["actor"], channel_id=parsed.channel_id)
    fetched = None
    if parsed.file_id and await _may_upload(services, actor, parsed.role_action):
        fetched = services.tasks.spawn(
            fetch_file(services, parsed.file_id), name="call list file check"
        )
        done, _ = await asyncio.wait({fetched}, timeout=SUBMIT_CHECK_S)
        if done and isinstance(fetched.result(), BadInput):
            await ack(response_action="errors", errors={"file": str(fetched.result())})
            return
    await ack(response_action="clear")
    req = dm_request(services, actor)
    services.tasks.spawn(run_upload(req, parsed, fetched), name="call list upload")


async def _may_upload(services: Services, actor: Any, action: str) -> bool:
    """Only an allowed user's file is fetched before the ack; run_upload refuses the rest."""
    decision = await services.access.check(actor.user_id, actor.channel_id, action)
    return decision.allowed


# ---------------------------------------------------------------------------- buttons


def _token(body: dict[str, Any]) -> str:
    actions = body.get("actions")
    first = actions[0] if isinstance(actions, list) and actions else None
    return as_str(as_dict(first).get("value"))[:64]


@listener("create the call list")
async def on_create(req: Request, body: dict[str, Any]) -> None:
    await create(req, _token(body))


@listener("cancel the call list")
async def on_cancel(req: Request, body: dict[str, Any]) -> None:
    await cancel(req, _token(body))


async def _origin_request(req: Request, token: str) -> tuple[Request, Any] | None:
    """Check the token belongs to this user, and act with the channel the upload came
    from: the summary sits in a DM, where channel-scoped roles would not apply."""
    store = req.services.store
    claim = await store.run(store.claims.get, token)
    if claim is None or claim.action != ACTION:
        await req.reply(message(":warning: This confirmation is not known. Nothing was sent."))
        return None
    if claim.created_by != req.actor.user_id:
        await req.reply(
            message(f":no_entry: Only <@{claim.created_by}>, who uploaded the list, can do that.")
        )
        return None
    origin = replace(req.actor, channel_id=claim.channel_id)
    return Request(req.services, origin, req.respond, req.trigger_id), claim


async def cancel(req: Request, token: str) -> None:
    found = await _origin_request(req, token)
    if found is None:
        return
    req, _ = found
    store = req.services.store
    result = await store.run(
        lambda: store.claims.claim(token, user_id=req.actor.user_id, final_state="cancelled")
    )
    if not result.ok:
        await req.reply(views.not_usable(result.state, result.by_user, result.at))
        return
    payload = result.payload or {}
    await _remove_body(req.services, payload.get("file"))
    await req.reply(views.cancelled(payload.get("name"), req.actor.user_id), replace=True)


async def create(req: Request, token: str) -> None:
    """authorize → claim (exactly once) → audit pending → POST (never retried) → audit."""
    found = await _origin_request(req, token)
    if found is None:
        return
    req, _ = found
    services, actor = req.services, req.actor
    if not await authorize(req, ROLE_ACTION):
        return
    store = services.store
    if not await _dnc_unchanged(req, token):
        return
    result = await store.run(lambda: store.claims.claim(token, user_id=actor.user_id))
    if not result.ok:
        await req.reply(views.not_usable(result.state, result.by_user, result.at))
        return
    payload = result.payload or {}
    name = str(payload.get("name") or "")
    counts = payload.get("counts") or {}
    path = resolve_body(upload_dir(services.settings), payload.get("file"))
    if path is None:
        await req.reply(
            message(
                ":warning: The checked numbers are no longer available (cleaned up after "
                "expiry). Nothing was sent; run `/dialer upload` again."
            ),
            replace=True,
        )
        return
    try:
        size = (await asyncio.to_thread(path.stat)).st_size
        await _post(req, name, counts, payload, JsonFile(path, size))
    finally:
        await asyncio.to_thread(path.unlink, missing_ok=True)


async def _dnc_unchanged(req: Request, token: str) -> bool:
    """False (and says so) when numbers were added to the do-not-call list after this list
    was checked against it: the list might hold one of them, so it is not sent."""
    store = req.services.store
    claim = await store.run(store.claims.get, token)
    checked = (claim.payload or {}).get("dnc_version") if claim is not None else None
    if checked is None or checked == await store.run(store.dnc.version):
        return True
    user_id = req.actor.user_id
    closed = await store.run(
        lambda: store.claims.claim(token, user_id=user_id, final_state="cancelled")
    )
    if closed.ok:
        await _remove_body(req.services, (closed.payload or {}).get("file"))
    await req.reply(views.dnc_changed(), replace=True)
    return False


async def _post(
    req: Request, name: str, counts: dict[str, Any], payload: dict[str, Any], body: JsonFile
) -> None:
    services, actor = req.services, req.actor
    try:
        async with recorded(
            services.store,
            actor,
            ACTION,
            request={
                "name": name,
                "counts": counts,
                "region": payload.get("region"),
                "columns": payload.get("columns") or [],
            },
        ) as rec:
            # The name finds the new list when the dialer's answer carries no id.
            created = await services.dialer.create_call_list_json(body, name=name)
            rec.ok(f"call list #{created.id}: {created.message}")
    except DialerError as exc:
        if rec.outcome == "unknown":
            await req.reply(views.create_unknown(name, exc.message), replace=True)
        else:
            text = dialer_error_text(exc, f"create call list {esc(name)}")
            if not (exc.status is not None and 200 <= exc.status < 300):
                text += " Nothing was created; upload again."  # not when the dialer took it
            await req.reply(message(text), replace=True)
        return
    zones = payload.get("zones")
    if isinstance(zones, dict) and zones and created.id:
        await services.store.run(services.store.list_zones.put, created.id, zones)
    said = created.message
    count = created.numbers_count if created.numbers_count is not None else counts.get("valid", 0)
    await req.reply(views.created(name, created.id, count, said, actor.user_id), replace=True)
    try:
        await services.notifier.publish(
            **views.notification(name, created.id, count, actor.user_id, actor.channel_id)
        )
    except Exception:
        log.exception("could not queue the notification for audit entry %s", rec.pending_id)


async def _remove_body(services: Services, name: object) -> None:
    path = resolve_body(upload_dir(services.settings), name)
    if path is not None:
        await asyncio.to_thread(path.unlink, missing_ok=True)


# ---------------------------------------------------------------------------- listings

SHOW_NUMBERS = "show numbers"  # the REQUIRED_ROLE action and the audit action


async def list_call_lists(
    req: Request, parsed: tuple[Filter, int], *, replace: bool = False
) -> None:
    wanted, page = parsed
    dialer = req.services.dialer
    lists, campaigns = await asyncio.gather(dialer.list_call_lists(), dialer.list_campaigns())
    await req.reply(views.call_lists_message(lists, page, wanted, campaigns), replace=replace)


async def show_call_list(req: Request, ref: Ref) -> None:
    """Name, count, created, the campaigns using it and its first entries, masked."""
    list_id = await call_list_id_or_ask(req, ref)
    if list_id is None:
        return
    dialer = req.services.dialer
    call_list, campaigns, allowed = await asyncio.gather(
        dialer.get_call_list(list_id), dialer.list_campaigns(), allowed_actions(req)
    )
    await req.reply(views.call_list_detail(call_list, campaigns, allowed))


async def show_numbers(req: Request, list_id: int) -> None:
    """The first entries in full: the audit row is written first, or nothing is shown."""
    dialer = req.services.dialer
    call_list, campaigns, allowed = await asyncio.gather(
        dialer.get_call_list(list_id), dialer.list_campaigns(), allowed_actions(req)
    )
    shown = len(call_list.entries[: views.ENTRIES_SHOWN])
    await record(
        req.services.store,
        req.actor,
        SHOW_NUMBERS,
        "ok",
        request={"call_list_id": list_id, "numbers_shown": shown},  # never the numbers
        detail=f"call list #{list_id} {call_list.name}: {shown} numbers shown in full",
    )
    await req.reply(
        views.call_list_detail(call_list, campaigns, allowed, revealed_by=req.actor.user_id),
        replace=True,
    )


def _value(body: dict[str, Any]) -> str:
    return str(body["actions"][0].get("value", ""))


async def _show(req: Request, list_id: int) -> None:
    """A call-list candidate (or any Details button on a list)."""
    await show_call_list(req, Ref(id=list_id))


on_show = id_button("list", "show the call list", _show)


on_show_numbers = id_button(
    SHOW_NUMBERS,
    "show the numbers",
    show_numbers,
    invalid=":warning: That button is not valid. Nothing was shown.",
)


@listener("list call lists")
async def on_page(req: Request, body: dict[str, Any]) -> None:
    """Next/previous page of `/dialer lists`; the value keeps the filter."""
    asked = Filter.from_page_value(_value(body))
    if asked is None:
        await req.reply(message(":warning: That page button is not valid."))
    elif await authorize(req, "lists"):
        await list_call_lists(req, asked, replace=True)
