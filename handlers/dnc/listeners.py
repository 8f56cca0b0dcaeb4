"""`/dialer dnc`: the list's size and latest changes; `add`, `remove` and `check` of typed
numbers; `upload` (the call-list form in its do-not-call mode); `export` (the whole list as
a CSV file in the asker's DM).

Typed numbers are read the way the call-list form reads them (bot/numbers, national
numbers in DEFAULT_REGION), so a number listed as +420601123456 is the same number as
"601 123 456". Every change and every export is in the audit log with who, how many, why
and from which file; numbers are shown in full only to roles that may see them
(REQUIRED_ROLE's "show numbers"), masked otherwise.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from pathlib import Path

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.access import role_allows
from bot.audit import recorded
from bot.numbers import normalize_number
from handlers.call_lists.listeners import open_form
from handlers.call_lists.upload import DNC_MODE, upload_client, upload_dir, upload_problem
from handlers.dnc import views
from handlers.grammar import DncCommand
from handlers.guard import authorize
from handlers.request import Request
from store.dnc import key_of

log = logging.getLogger(__name__)

SEE_NUMBERS = "show numbers"  # the action whose role may see numbers in full
EXPORT_NAME = "do-not-call.csv"


async def run(req: Request, cmd: DncCommand) -> None:
    """The router checked `dnc` (viewer); each verb needs its own role as well."""
    if cmd.verb == "status":
        await status(req)
        return
    if not await authorize(req, f"dnc {cmd.verb}"):
        return
    if cmd.verb == "upload":
        await open_form(req, DNC_MODE)
    elif cmd.verb == "export":
        await export(req)
    elif cmd.verb == "check":
        await check(req, cmd.numbers[0])
    else:
        await change(req, cmd.verb, list(cmd.numbers), cmd.reason)


async def _full(req: Request) -> bool:
    return role_allows(await req.role_here(), SEE_NUMBERS)


def _read(req: Request, raw: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """E.164 numbers (repeats dropped) and the entries that are not numbers, with reasons."""
    region = req.services.settings.default_region
    good: dict[str, None] = {}
    bad: list[tuple[str, str]] = []
    for entry in raw:
        number, reason = normalize_number(entry, region)
        if number is None:
            bad.append((entry, reason or "invalid"))
        else:
            good[number] = None
    return list(good), bad


async def status(req: Request) -> None:
    store = req.services.store
    count, recent = await asyncio.gather(store.run(store.dnc.count), store.run(store.dnc.recent))
    await req.reply(views.status(count, recent))


async def check(req: Request, raw: str) -> None:
    numbers, bad = _read(req, [raw])
    if bad:
        await req.reply(views.invalid_numbers(bad))
        return
    store = req.services.store
    listing = await store.run(store.dnc.check, key_of(numbers[0]))
    await req.reply(views.check_result(numbers[0], listing, await _full(req)))


async def change(req: Request, action: str, raw: list[str], reason: str | None) -> None:
    """add or remove typed numbers: all valid, or nothing changes."""
    numbers, bad = _read(req, raw)
    if bad:
        await req.reply(views.invalid_numbers(bad))
        return
    store, actor = req.services.store, req.actor
    keys = [key_of(n) for n in numbers]
    request = {"numbers": len(keys), "reason": reason, "file": None}
    async with recorded(store, actor, f"dnc {action}", request=request) as rec:
        _, done = await store.run(
            lambda: store.dnc.change(
                action,
                keys,
                user_id=actor.user_id,
                user_name=actor.user_name,
                reason=reason,
                audit_id=rec.pending_id,
            )
        )
        verb = "added to" if action == "add" else "removed from"
        rec.ok(f"{done:,} of {len(keys):,} numbers {verb} the do-not-call list")
    region = req.services.settings.default_region
    await req.reply(views.changed(action, numbers, done, reason, region, await _full(req)))


async def export(req: Request) -> None:
    """The whole list as CSV, uploaded into the asker's DM (files_upload_v2, as the
    invalid-numbers file is); the audit row is written before anything is read."""
    services, actor = req.services, req.actor
    store = services.store
    directory = upload_dir(services.settings)
    path = directory / f"{secrets.token_hex(16)}.dnc.csv"
    try:
        async with recorded(store, actor, "dnc export", request={"file": EXPORT_NAME}) as rec:
            await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
            count = await asyncio.to_thread(store.dnc.export_csv, path)
            rec.ok(f"{count:,} numbers exported to {EXPORT_NAME} in a DM")
        dm = await services.client.chat_postMessage(channel=actor.user_id, **views.export_started())
        await _upload(req, path, dm["channel"], count)
    finally:
        await asyncio.to_thread(path.unlink, missing_ok=True)


async def _upload(req: Request, path: Path, channel: str, count: int) -> None:
    try:
        await upload_client(req.services.client).files_upload_v2(
            channel=channel,
            file=str(path),
            filename=EXPORT_NAME,
            title="Do-not-call list",
            initial_comment=views.export_comment(count),
        )
        return
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "unknown error")
    except (SlackClientError, aiohttp.ClientError, TimeoutError, OSError) as exc:
        error = upload_problem(exc)
    log.warning("do-not-call export upload failed: %s", error)
    await req.reply(views.export_failed(error))
