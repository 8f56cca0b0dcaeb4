"""The call-list flow: /dialer upload → modal → background check → summary → Create/Cancel.

The modal opens at once (no dialer call before it). On submit the ack only carries inline
errors; reading the file and normalizing run after it (bot/numbers/: a process pool), with
a progress message in the user's DM that becomes the summary; past the first 20 invalid
entries, all of them are uploaded as a CSV file into the summary's thread (files:write).
Create claims a single-use token, writes the audit entry (counts, never numbers) and posts
the list once.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import httpx
import phonenumbers
from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.dialer import DialerError, JsonFile
from bot.numbers import (
    INVALID_SHOWN,
    BadInput,
    InvalidFile,
    Prepared,
    check_size,
    describe,
    prepare_file,
    prepare_pasted,
    resolve_body,
    sweep,
)
from bot.recorded import recorded
from bot.services import Services
from handlers.blocks import esc, message
from handlers.call_list import views
from handlers.errors import dialer_error_text
from handlers.guard import authorize
from handlers.request import Request

log = logging.getLogger(__name__)

ACTION = "create_call_list"  # audit and claim action
ROLE_ACTION = "upload"  # bot/access.py
CONFIRM_TTL_S = 30 * 60
SWEEP_AGE_S = 2 * 60 * 60  # leftovers older than any live confirmation
PROGRESS_EVERY_S = 3.0
DOWNLOAD_TIMEOUT_S = 60.0
UPLOAD_TIMEOUT_S = 120  # the invalid-entries file may be up to 20 MB
NAME_MAX = 255


def upload_dir(settings: Settings) -> Path:
    """Prepared request bodies live next to the database, like the bot's other state."""
    return Path(settings.database_path).resolve().parent / "call-list-uploads"


def upload_limit(settings: Settings) -> int:
    return settings.max_upload_mb * 1024 * 1024


# ---------------------------------------------------------------------------- modal


async def open_upload_modal(req: Request, _: Any) -> None:
    """`/dialer upload` and `/dialer list new`: the trigger lasts 3 s, so open right away."""
    view = views.upload_modal(req.services.settings.default_region, req.actor.channel_id)
    await req.services.client.views_open(trigger_id=req.trigger_id, view=view)


@dataclass(frozen=True)
class Submission:
    name: str
    text: str | None
    file_id: str | None
    region: str | None
    channel_id: str | None


def parse_submission(
    view: dict[str, Any], default_region: str | None
) -> Submission | dict[str, str]:
    """The form's values, or {block_id: message} for the inline errors. Every level is
    type-checked: a payload is data from outside, whatever shape Slack usually sends."""
    values = _dict(_dict(view.get("state")).get("values"))

    def field(block: str) -> dict[str, Any]:
        return _dict(_dict(values.get(block)).get("value"))

    errors: dict[str, str] = {}
    name = _str(field("name").get("value")).strip()
    if not name:
        errors["name"] = "Give the call list a name."
    elif len(name) > NAME_MAX:
        errors["name"] = f"At most {NAME_MAX} characters."
    text = _str(field("numbers").get("value"))
    files = field("file").get("files")
    first = files[0] if isinstance(files, list) and files else None
    file_id = _str(_dict(first).get("id"))[:64]
    if not text.strip() and not file_id:
        errors["numbers"] = "Paste numbers here or attach a CSV file below."
    elif text.strip() and file_id:
        errors["numbers"] = "Paste numbers or attach a file, not both."
    elif len(text) > views.PASTE_MAX_CHARS:  # Slack enforces it; a forged submission need not
        errors["numbers"] = (
            f"At most {views.PASTE_MAX_CHARS:,} characters can be pasted "
            f"(this is {len(text):,}); attach a CSV file for longer lists."
        )
    region = _str(_dict(field("country").get("selected_option")).get("value")) or default_region
    if region is not None and region not in phonenumbers.SUPPORTED_REGIONS:
        errors["country"] = "Choose a country from the list."
    if errors:
        return errors
    try:
        meta = json.loads(_str(view.get("private_metadata")) or "{}")
    except ValueError:
        meta = {}
    channel = _dict(meta).get("channel")
    return Submission(
        name=name,
        text=text if text.strip() else None,
        file_id=file_id or None,
        region=region,
        channel_id=channel if isinstance(channel, str) and channel.isalnum() else None,
    )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def dm_request(services: Services, actor: Any) -> Request:
    """A Request whose replies go to the user's DM with the bot (a modal has no
    response_url; Request.reply falls back to the DM)."""
    return Request(services=services, actor=actor, respond=None)


async def on_submit(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    services: Services = context["services"]
    parsed = parse_submission(_dict(body.get("view")), services.settings.default_region)
    if isinstance(parsed, dict):
        await ack(response_action="errors", errors=parsed)
        return
    await ack(response_action="clear")
    actor = replace(context["actor"], channel_id=parsed.channel_id)
    req = dm_request(services, actor)
    services.tasks.spawn(run_upload(req, parsed), name="call list upload")


# ---------------------------------------------------------------------------- the job


class _Message:
    """The progress message in the user's DM, updated in place; it becomes the summary."""

    def __init__(self, services: Services, channel: str, ts: str) -> None:
        self._client = services.client
        self.channel = channel
        self.ts = ts

    async def show(self, msg: dict[str, Any]) -> None:
        await self._client.chat_update(channel=self.channel, ts=self.ts, **msg)

    async def progress(self, msg: dict[str, Any]) -> None:
        """Progress is best effort: a Slack hiccup must not stop the job."""
        try:
            await self.show(msg)
        except SlackApiError as exc:
            log.warning("progress update failed: %s", exc.response.get("error"))

    async def thread(self, msg: dict[str, Any]) -> None:
        await self._client.chat_postMessage(channel=self.channel, thread_ts=self.ts, **msg)


async def run_upload(req: Request, sub: Submission) -> None:
    services, actor = req.services, req.actor
    try:
        if not await authorize(req, ROLE_ACTION):
            return
        resp = await services.client.chat_postMessage(
            channel=actor.user_id, **views.progress_message(sub.name, 0, None)
        )
        msg = _Message(services, resp["channel"], resp["ts"])
    except Exception:
        log.exception("call list upload could not start")
        return
    try:
        await _prepare_and_summarize(req, sub, msg)
    except BadInput as exc:
        await msg.show(views.bad_input(sub.name, str(exc)))
    except Exception:
        log.exception("call list upload failed")
        await msg.show(
            message(
                f":warning: Checking the numbers for *{esc(sub.name)}* failed on our "
                "side; the error is logged. Nothing was sent to the dialer."
            )
        )


async def _prepare_and_summarize(req: Request, sub: Submission, msg: _Message) -> None:
    services, actor = req.services, req.actor
    settings = services.settings
    directory = upload_dir(settings)
    await asyncio.to_thread(_ensure_dir, directory)

    async def progress(checked: int, fraction: float | None) -> None:
        await msg.progress(views.progress_message(sub.name, checked, fraction))

    if sub.file_id:
        path = await download(services, sub.file_id, directory, upload_limit(settings))
        try:
            prepared = await prepare_file(
                path,
                name=sub.name,
                region=sub.region,
                directory=directory,
                progress=progress,
                progress_every_s=PROGRESS_EVERY_S,
            )
        finally:
            await asyncio.to_thread(path.unlink, missing_ok=True)
    else:
        prepared = await prepare_pasted(
            sub.text or "", name=sub.name, region=sub.region, directory=directory
        )
    try:
        token = await _issue(services, actor, sub, prepared)
        counts = prepared.counts
        more = counts.invalid > INVALID_SHOWN
        await msg.show(
            views.summary(
                name=sub.name,
                counts=counts,
                invalid=prepared.invalid,
                shown=INVALID_SHOWN,
                invalid_file=prepared.invalid_file if more else None,
                token=token,
                region=sub.region,
                columns=prepared.attr_names,
                user_id=actor.user_id,
                ttl_min=CONFIRM_TTL_S // 60,
            )
        )
        if more and prepared.invalid_file is not None:
            await _upload_invalid(services, msg, sub.name, prepared.invalid_file, counts.invalid)
    finally:
        if prepared.invalid_file is not None:
            await asyncio.to_thread(prepared.invalid_file.path.unlink, missing_ok=True)


async def _upload_invalid(
    services: Services, msg: _Message, name: str, file: InvalidFile, total: int
) -> None:
    """All invalid entries as a CSV in the summary's thread (files_upload_v2: upload URL, the
    bytes, completion with channel and thread). The file is at most MAX_INVALID_FILE_BYTES,
    which bounds what is read into memory. A failure (e.g. missing_scope on an installation
    from before files:write) becomes one message; the summary and Create still work."""
    try:
        data = await asyncio.to_thread(file.path.read_bytes)
        await _upload_client(services.client).files_upload_v2(
            channel=msg.channel,
            thread_ts=msg.ts,
            file=data,
            filename=views.INVALID_FILE_NAME,
            title=views.invalid_file_title(name),
            initial_comment=views.invalid_file_comment(name, file, total),
        )
        return
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "unknown error")
    except (SlackClientError, aiohttp.ClientError, TimeoutError, OSError) as exc:
        error = _upload_problem(exc)
    log.warning("invalid-entries file upload failed: %s", error)
    try:
        await msg.thread(views.invalid_file_failed(total, INVALID_SHOWN, error))
    except SlackApiError as exc:
        log.warning("could not say the upload failed: %s", exc.response.get("error"))


def _upload_client(client: AsyncWebClient) -> AsyncWebClient:
    """The bot's client with a timeout long enough to send a large file."""
    upload = copy.copy(client)
    upload.timeout = max(client.timeout, UPLOAD_TIMEOUT_S)
    return upload


def _upload_problem(exc: BaseException) -> str:
    """A short reason for the user; slack_sdk's upload error carries the whole answer."""
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return "the upload timed out"
    if isinstance(exc, aiohttp.ClientError | OSError):
        return "Slack could not be reached"
    text = str(exc)
    status = text.partition("status: ")[2].partition(",")[0]
    return f"the upload was refused, HTTP {status}" if status else "the upload failed"


def _ensure_dir(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    sweep(directory, SWEEP_AGE_S)


async def _issue(services: Services, actor: Any, sub: Submission, prepared: Prepared) -> str | None:
    """The Create button's token; its payload names the body file, never the numbers."""
    if not prepared.counts.valid:
        await asyncio.to_thread(prepared.body_path.unlink, missing_ok=True)
        return None
    store = services.store
    return await store.run(
        lambda: store.claims.issue(
            action=ACTION,
            campaign_id=None,
            user_id=actor.user_id,
            channel_id=actor.channel_id,
            payload={
                "name": sub.name,
                "file": prepared.body_name,
                "region": sub.region,
                **describe(prepared),
            },
            ttl_s=CONFIRM_TTL_S,
        )
    )


# ---------------------------------------------------------------------------- download


def trusted_file_url(url: str, slack_api_url: str) -> bool:
    """Only send the bot token to Slack (or to the API host the bot is configured with)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and (host == "slack.com" or host.endswith(".slack.com")):
        return True
    api = urlsplit(slack_api_url)
    return bool(host) and host == (api.hostname or "").lower() and parts.scheme == api.scheme


async def download(services: Services, file_id: str, directory: Path, limit: int) -> Path:
    """files.info, then url_private_download with the bot token, streamed to a temp file
    with the size limit enforced while streaming (files.info's size may be absent)."""
    settings = services.settings
    try:
        info = await services.client.files_info(file=file_id)
    except SlackApiError as exc:
        raise BadInput(
            f"Slack did not give the bot the file ({exc.response.get('error')})."
        ) from None
    f = info.get("file") or {}
    check_size(int(f.get("size") or 0), limit)
    name = str(f.get("name") or "")
    if f.get("filetype") not in ("csv", "text", "txt") and not name.lower().endswith(
        (".csv", ".txt")
    ):
        raise BadInput(
            f"The file {name or file_id} is not a CSV or text file "
            f"(type {f.get('filetype') or 'unknown'}). Upload a .csv file."
        )
    url = f.get("url_private_download") or f.get("url_private") or ""
    if not trusted_file_url(url, settings.slack_api_url):
        raise BadInput("Slack gave a download address that is not Slack's; not downloading.")
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    path = directory / f"{secrets.token_hex(16)}.csv"
    try:
        await _stream_to(path, url, token, limit)
    except BaseException:
        await asyncio.to_thread(path.unlink, missing_ok=True)
        raise
    return path


async def _stream_to(path: Path, url: str, token: str, limit: int) -> None:
    timeout = httpx.Timeout(DOWNLOAD_TIMEOUT_S, connect=10.0)
    # httpx drops the Authorization header on redirects to another host.
    async with (
        httpx.AsyncClient(timeout=timeout, follow_redirects=True) as http,
        http.stream("GET", url, headers={"Authorization": f"Bearer {token}"}) as resp,
    ):
        if resp.status_code != 200:
            raise BadInput(f"Downloading the file from Slack failed (HTTP {resp.status_code}).")
        if resp.headers.get("content-type", "").startswith("text/html"):
            raise BadInput(
                "Slack answered with a web page instead of the file: the bot needs the "
                "files:read scope (see manifest.yml)."
            )
        out = await asyncio.to_thread(path.open, "wb")
        try:
            received = 0
            async for chunk in resp.aiter_bytes(256 * 1024):
                received += len(chunk)
                check_size(received, limit)
                out.write(chunk)
        finally:
            out.close()
        if received == 0:
            raise BadInput("The file is empty.")


# ---------------------------------------------------------------------------- buttons


def _token(body: dict[str, Any]) -> str:
    actions = body.get("actions")
    first = actions[0] if isinstance(actions, list) and actions else None
    return _str(_dict(first).get("value"))[:64]


async def on_create(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    await ack()
    req = Request.from_bolt(context, body, respond)
    req.spawn(create(req, _token(body)), "create the call list")


async def on_cancel(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    await ack()
    req = Request.from_bolt(context, body, respond)
    req.spawn(cancel(req, _token(body)), "cancel the call list")


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
            created = await services.dialer.create_call_list_json(body)
            rec.ok(f"call list #{created.id}: {created.message}")
    except DialerError as exc:
        if rec.outcome == "unknown":
            await req.reply(views.create_unknown(name, exc.message), replace=True)
        else:
            text = dialer_error_text(exc, f"create call list {esc(name)}")
            await req.reply(message(text + " Nothing was created; upload again."), replace=True)
        return
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
