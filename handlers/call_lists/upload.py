"""The background check of a submitted call list: download the file from Slack (only from
Slack's own file URLs, streamed to disk within the size limit), prepare it in the numbers
pool with a progress message in the user's DM that becomes the summary, upload the file of
invalid entries into its thread, and issue the single-use token of the Create button. First
the modal's submitted values, checked, and the limits the listeners share.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import httpx
import phonenumbers
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.dialer import DialerError
from bot.numbers import (
    INVALID_SHOWN,
    BadInput,
    InvalidFile,
    Prepared,
    Progress,
    StoreKeys,
    check_size,
    describe,
    prepare_file,
    prepare_pasted,
    read_layout,
    sweep,
)
from bot.numbers.zones import count_zones
from bot.services import Services
from handlers.blocks import esc, message
from handlers.call_lists import views
from handlers.dnc import importer as dnc_importer
from handlers.dnc import views as dnc_views
from handlers.dnc.importer import DNC_ROLE_ACTION
from handlers.guard import authorize
from handlers.payload import metadata
from handlers.request import Request

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------- the modal's values

ACTION = "create_call_list"  # audit and claim action
ROLE_ACTION = "upload"  # bot/access.py
CALL_LIST_MODE = "call_list"  # what the form is for: a new call list,
DNC_MODE = views.DNC_FORM  # or numbers for the do-not-call list (handlers/dnc/)
ROLE_ACTIONS = {CALL_LIST_MODE: ROLE_ACTION, DNC_MODE: DNC_ROLE_ACTION}
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


@dataclass(frozen=True)
class Submission:
    name: str
    text: str | None
    file_id: str | None
    region: str | None
    channel_id: str | None
    mode: str = CALL_LIST_MODE  # DNC_MODE: `name` is the reason the numbers are listed
    file_name: str | None = None

    @property
    def role_action(self) -> str:
        return ROLE_ACTIONS[self.mode]


def parse_submission(
    view: dict[str, Any], default_region: str | None
) -> Submission | dict[str, str]:
    """The form's values, or {block_id: message} for the inline errors. Every level is
    type-checked: a payload is data from outside, whatever shape Slack usually sends."""
    values = as_dict(as_dict(view.get("state")).get("values"))

    def field(block: str) -> dict[str, Any]:
        return as_dict(as_dict(values.get(block)).get("value"))

    errors: dict[str, str] = {}
    name = as_str(field("name").get("value")).strip()
    if not name:
        errors["name"] = "Give the call list a name."
    elif len(name) > NAME_MAX:
        errors["name"] = f"At most {NAME_MAX} characters."
    text = as_str(field("numbers").get("value"))
    files = field("file").get("files")
    first = files[0] if isinstance(files, list) and files else None
    file_id = as_str(as_dict(first).get("id"))[:64]
    if not text.strip() and not file_id:
        errors["numbers"] = "Paste numbers here or attach a CSV file below."
    elif text.strip() and file_id:
        errors["numbers"] = "Paste numbers or attach a file, not both."
    elif len(text) > views.PASTE_MAX_CHARS:  # Slack enforces it; a forged submission need not
        errors["numbers"] = (
            f"At most {views.PASTE_MAX_CHARS:,} characters can be pasted "
            f"(this is {len(text):,}); attach a CSV file for longer lists."
        )
    region = as_str(as_dict(field("country").get("selected_option")).get("value")) or default_region
    if region is not None and region not in phonenumbers.SUPPORTED_REGIONS:
        errors["country"] = "Choose a country from the list."
    if errors:
        return errors
    meta = metadata(view)
    channel = meta.get("channel")
    mode = meta.get("mode")
    return Submission(
        name=name,
        text=text if text.strip() else None,
        file_id=file_id or None,
        region=region,
        channel_id=channel if isinstance(channel, str) and channel.isalnum() else None,
        mode=mode if mode in ROLE_ACTIONS else CALL_LIST_MODE,
        file_name=as_str(as_dict(first).get("name"))[:200] or None,
    )


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_str(value: Any) -> str:
    return value if isinstance(value, str) else ""


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


async def fetch_file(services: Services, file_id: str) -> Path | BadInput:
    """Download the file and check that it reads as CSV with a number column.

    Run before the submission's ack when it is quick enough (listeners.SUBMIT_CHECK_S), so
    an unusable file is shown inside the form; a BadInput is returned, not raised, so the
    task set does not log it as a failure.
    """
    directory = upload_dir(services.settings)
    try:
        await asyncio.to_thread(_ensure_dir, directory)
        path = await download(services, file_id, directory, upload_limit(services.settings))
    except BadInput as exc:
        return exc
    try:
        await asyncio.to_thread(read_layout, path)
    except BadInput as exc:
        await asyncio.to_thread(path.unlink, missing_ok=True)
        return exc
    return path


async def run_upload(
    req: Request, sub: Submission, fetched: asyncio.Task[Path | BadInput] | None = None
) -> None:
    """``fetched``: the file download started before the ack (fetch_file), if any."""
    services, actor = req.services, req.actor
    try:
        if not await authorize(req, sub.role_action):
            return
        first = (
            dnc_views.progress_message(sub.name, 0, None)
            if sub.mode == DNC_MODE
            else views.progress_message(sub.name, 0, None)
        )
        resp = await services.client.chat_postMessage(channel=actor.user_id, **first)
        msg = _Message(services, resp["channel"], resp["ts"])
    except Exception:
        log.exception("call list upload could not start")
        return
    try:
        await _prepare_and_summarize(req, sub, msg, fetched)
    except BadInput as exc:
        bad = dnc_views.bad_input if sub.mode == DNC_MODE else views.bad_input
        await msg.show(bad(sub.name, str(exc)))
    except Exception:
        log.exception("call list upload failed")
        await msg.show(
            message(
                f":warning: Checking the numbers for *{esc(sub.name)}* failed on our "
                "side; the error is logged. Nothing was sent to the dialer."
            )
        )


async def _prepare(
    services: Services,
    sub: Submission,
    fetched: asyncio.Task[Path | BadInput] | None,
    progress: Progress,
    **mode: Any,
) -> Prepared:
    """The one pipeline for both modes: the file (downloaded, checked, removed after) or
    the pasted text, through bot/numbers; ``mode`` is `screen` or `store_keys`."""
    directory = upload_dir(services.settings)
    await asyncio.to_thread(_ensure_dir, directory)
    if not sub.file_id:
        return await prepare_pasted(
            sub.text or "", name=sub.name, region=sub.region, directory=directory, **mode
        )
    got = await (fetched if fetched is not None else fetch_file(services, sub.file_id))
    if isinstance(got, BadInput):
        raise got
    try:
        return await prepare_file(
            got,
            name=sub.name,
            region=sub.region,
            directory=directory,
            progress=progress,
            progress_every_s=PROGRESS_EVERY_S,
            **mode,
        )
    finally:
        await asyncio.to_thread(got.unlink, missing_ok=True)


async def _prepare_and_summarize(
    req: Request, sub: Submission, msg: _Message, fetched: asyncio.Task[Path | BadInput] | None
) -> None:
    services, actor = req.services, req.actor
    if sub.mode == DNC_MODE:
        await _import_dnc(req, sub, msg, fetched)
        return

    async def progress(checked: int, fraction: float | None) -> None:
        await msg.progress(views.progress_message(sub.name, checked, fraction))

    same_name = services.tasks.spawn(_lists_named(services, sub.name), name="list names")
    # Numbers on the do-not-call list are left out here, before anything can be sent; Create
    # refuses the list if numbers were added to it after this version (listeners.create).
    store = services.store
    dnc_version = await store.run(store.dnc.version)
    prepared = await _prepare(services, sub, fetched, progress, screen=store.dnc.listed)
    try:
        # Its own step, after every other: counts per time zone of the numbers to be sent,
        # kept with the list once created (the calling-hours check); never the numbers.
        zones = await count_zones(prepared.body_path) if prepared.counts.valid else {}
        token = await _issue(services, actor, sub, prepared, zones, dnc_version)
        counts = prepared.counts
        more = counts.invalid > INVALID_SHOWN
        await msg.show(
            views.summary(
                name=sub.name,
                counts=counts,
                invalid=prepared.invalid,
                shown=INVALID_SHOWN,
                invalid_file=prepared.invalid_file if more else None,
                excluded_sample=prepared.excluded_sample,
                token=token,
                region=sub.region,
                columns=prepared.attr_names,
                user_id=actor.user_id,
                ttl_min=CONFIRM_TTL_S // 60,
                same_name=await same_name,
            )
        )
        if more and prepared.invalid_file is not None:
            await _upload_invalid(services, msg, sub.name, prepared.invalid_file, counts.invalid)
    finally:
        if prepared.invalid_file is not None:
            await asyncio.to_thread(prepared.invalid_file.path.unlink, missing_ok=True)


async def _import_dnc(
    req: Request, sub: Submission, msg: _Message, fetched: asyncio.Task[Path | BadInput] | None
) -> None:
    """The form's do-not-call mode: the same pipeline, the numbers go to the list."""
    services = req.services

    async def progress(checked: int, fraction: float | None) -> None:
        await msg.progress(dnc_views.progress_message(sub.name, checked, fraction))

    async def prepare(progress: Progress, store_keys: StoreKeys) -> Prepared:
        return await _prepare(services, sub, fetched, progress, store_keys=store_keys)

    prepared = await dnc_importer.import_numbers(req, sub.name, sub.file_name, progress, prepare)
    counts = prepared.counts
    more = counts.invalid > INVALID_SHOWN
    try:
        await msg.show(
            dnc_views.imported(
                reason=sub.name,
                source=sub.file_name or dnc_importer.PASTED,
                counts=counts,
                invalid=prepared.invalid,
                shown_invalid=INVALID_SHOWN,
                invalid_file=prepared.invalid_file if more else None,
                region=sub.region,
                user_id=req.actor.user_id,
            )
        )
        if more and prepared.invalid_file is not None:
            await _upload_invalid(
                services,
                msg,
                sub.name,
                prepared.invalid_file,
                counts.invalid,
                of="the do-not-call numbers added because",
            )
    finally:
        if prepared.invalid_file is not None:
            await asyncio.to_thread(prepared.invalid_file.path.unlink, missing_ok=True)


async def _upload_invalid(
    services: Services,
    msg: _Message,
    name: str,
    file: InvalidFile,
    total: int,
    of: str = "call list",
) -> None:
    """All invalid entries as a CSV in the summary's thread (files_upload_v2: upload URL, the
    bytes, completion with channel and thread). The file is at most MAX_INVALID_FILE_BYTES,
    which bounds what is read into memory. A failure (e.g. missing_scope on an installation
    from before files:write) becomes one message; the summary and Create still work."""
    try:
        data = await asyncio.to_thread(file.path.read_bytes)
        await upload_client(services.client).files_upload_v2(
            channel=msg.channel,
            thread_ts=msg.ts,
            file=data,
            filename=views.INVALID_FILE_NAME,
            title=views.invalid_file_title(name),
            initial_comment=views.invalid_file_comment(name, file, total, of),
        )
        return
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "unknown error")
    except (SlackClientError, aiohttp.ClientError, TimeoutError, OSError) as exc:
        error = upload_problem(exc)
    log.warning("invalid-entries file upload failed: %s", error)
    try:
        await msg.thread(views.invalid_file_failed(total, INVALID_SHOWN, error))
    except SlackApiError as exc:
        log.warning("could not say the upload failed: %s", exc.response.get("error"))


def upload_client(client: AsyncWebClient) -> AsyncWebClient:
    """The bot's client with a timeout long enough to send a large file."""
    upload = copy.copy(client)
    upload.timeout = max(client.timeout, UPLOAD_TIMEOUT_S)
    return upload


def upload_problem(exc: BaseException) -> str:
    """A short reason for the user; slack_sdk's upload error carries the whole answer."""
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return "the upload timed out"
    if isinstance(exc, aiohttp.ClientError | OSError):
        return "Slack could not be reached"
    text = str(exc)
    status = text.partition("status: ")[2].partition(",")[0]
    return f"the upload was refused, HTTP {status}" if status else "the upload failed"


async def _lists_named(services: Services, name: str) -> list[int]:
    """Ids of call lists already called ``name`` (case-insensitive); none if unknown."""
    try:
        lists = await services.dialer.list_call_lists()
    except DialerError as exc:
        log.info("could not check call-list names: %s", exc)
        return []
    wanted = name.strip().casefold()
    return sorted(cl.id for cl in lists if (cl.name or "").strip().casefold() == wanted)


def _ensure_dir(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    sweep(directory, SWEEP_AGE_S)


async def _issue(
    services: Services,
    actor: Any,
    sub: Submission,
    prepared: Prepared,
    zones: dict[str, int],
    dnc_version: list[int],
) -> str | None:
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
                "zones": zones,
                "dnc_version": dnc_version,
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
