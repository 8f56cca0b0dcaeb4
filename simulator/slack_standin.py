"""One local stand-in for Slack's Web API, shared by `dialer-bot demo` and the tests' fake Slack.

It is a real aiohttp server so the bot's real slack_sdk client talks to it over HTTP. It answers
the methods the bot uses the way Slack does: views need a fresh single-use trigger_id, updates
need a known view (and the current hash when one is given), messages must exist to be edited,
files need the bot token, response URLs must have been handed out, file uploads go through
Slack's three steps (files.getUploadURLExternal, the POST of the bytes to the upload URL,
files.completeUploadExternal). Every call is recorded in order (never the token) with an
asyncio notification, so callers can show or await what the bot sent. Subclasses decide who
is known (users, channels, triggers) and may intercept calls. The methods' answers live in
simulator/slack_web_api.py; this module is the server, the state and the recording.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import mimetypes
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from aiohttp import web

from simulator.slack_web_api import METHODS, PendingUpload, StoredFile, StoredMessage, WebApiMethods

#: Fields slack_sdk may send as JSON strings inside a form body; decoded before recording.
JSON_FIELDS = frozenset(
    {"blocks", "view", "attachments", "metadata", "unfurls", "files", "outputs"}
)
MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_UPLOAD_BYTES = 100 * 1024 * 1024  # Slack takes 1 GB; the stand-in keeps uploads in memory
DEFAULT_TZ = "Europe/Prague"


@dataclass
class Call:
    """One request the bot made: a Web API method, or "response_url" / "file_download" /
    "file_upload" (the bytes POSTed to an upload URL: args file, length, size, content)."""

    method: str
    args: dict[str, Any]
    at: float
    status: int
    token_present: bool = False
    result: dict[str, Any] = field(default_factory=dict)


#: What an interceptor answers instead of Slack: the HTTP response and the JSON body it carries.
Intercepted = tuple[web.Response, dict[str, Any]]


class SlackStandIn(WebApiMethods):
    """Stands in for https://slack.com/api/, for response URLs and for file downloads.

    `bot_token=None` accepts any bot token (xoxb-...), for callers that do not know it.
    """

    def __init__(
        self,
        *,
        bot_token: str | None = None,
        team_id: str = "T0001",
        bot_user_id: str = "UBOT",
        team_name: str = "Fake Team",
        team_url: str = "https://fake-team.slack.com/",
        app_id: str = "A0001",
    ) -> None:
        self._token = bot_token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = "B" + bot_user_id.lstrip("U")
        self.team_name = team_name
        self.team_url = team_url
        self.app_id = app_id
        self.calls: list[Call] = []
        #: The client's (host, port) of every TCP connection calls came over: a bot that
        #: keeps one pool of connections shows few, one that connects per call one per call.
        self.connections: set[tuple[str, int]] = set()
        self.users: dict[str, str] = {bot_user_id: "dialer-bot"}
        #: users.info details beyond the name: real_name, tz, any other field of the user object.
        self.profiles: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, str] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.view_versions: dict[str, int] = {}
        self.open_views: set[str] = set()
        self.files: dict[str, StoredFile] = {}
        #: Files shared by files.completeUploadExternal: file id → channel_id and thread_ts.
        self.file_shares: dict[str, dict[str, Any]] = {}
        self._uploads: dict[str, PendingUpload] = {}
        self.messages: dict[tuple[str, str], StoredMessage] = {}
        self._external_ids: dict[str, str] = {}
        self._issued_triggers: set[str] = set()
        self._used_triggers: set[str] = set()
        self._response_urls: dict[str, dict[str, Any]] = {}
        self._seq = itertools.count(1)
        self._view_seq = itertools.count(1)
        self._last_ts_us = 0
        self._calls_changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # ------------------------------------------------------------------ lifecycle

    async def listen(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve on host:port (0: an OS-chosen port, so parallel runs never clash)."""
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{key}", self._handle_response_url)
        app.router.add_get("/files/{file_id}", self._handle_file)
        app.router.add_post("/upload/{file_id}", self._handle_upload)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        self.base_url = f"http://{host}:{runner.addresses[0][1]}"

    async def stop(self) -> None:
        """Close the server; safe to call twice."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_url(self) -> str:
        """base_url for AsyncWebClient (slack_sdk needs the trailing slash)."""
        return f"{self.base_url}/api/"

    # ------------------------------------------------------------------ what Slack hands out

    def new_trigger_id(self) -> str:
        """A trigger_id the bot may use once to open a modal, as Slack's are."""
        trigger = f"{next(self._seq)}.{int(time.time())}.{secrets.token_hex(16)}"
        self._issued_triggers.add(trigger)
        return trigger

    def response_url(self, key: str, **origin: Any) -> str:
        """The response_url `key`; `origin` says what it belongs to (e.g. a button's message)."""
        self._response_urls[key] = origin
        return f"{self.base_url}/response/{key}"

    def new_response_url(self, **origin: Any) -> str:
        """A fresh response_url, as Slack puts into every command and click."""
        return self.response_url(str(next(self._seq)), **origin)

    def response_origin(self, key: str) -> dict[str, Any]:
        return self._response_urls.get(key, {})

    def store_file(
        self, name: str, content: bytes, *, file_id: str | None = None, filetype: str | None = None
    ) -> dict[str, Any]:
        """Keep an upload for files.info and its download URL; returns Slack's file object."""
        file_id = file_id or f"F{next(self._seq):08d}"
        mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if filetype is None:
            filetype = (name.rpartition(".")[2].lower() if "." in name else "") or "text"
        self.files[file_id] = StoredFile(file_id, name, content, filetype, mimetype)
        return self._file_object(self.files[file_id])

    def register_view(self, view: dict[str, Any], view_id: str | None = None) -> dict[str, Any]:
        """Store a view (opened, updated, or set by a view_submission ack); a modal becomes open."""
        view_id = view_id or f"V{next(self._view_seq):06d}"
        prev = self.views.get(view_id, {})
        digest = hashlib.sha256(
            json.dumps(view, sort_keys=True).encode() + view_id.encode()
        ).hexdigest()[:16]
        stored = {
            **view,
            "id": view_id,
            "team_id": self.team_id,
            "app_id": self.app_id,
            "bot_id": self.bot_id,
            "hash": f"{int(time.time())}.{digest}",
            "state": {"values": {}},
            "previous_view_id": prev.get("previous_view_id"),
            "root_view_id": prev.get("root_view_id", view_id),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
        }
        self.views[view_id] = stored
        self.view_versions[view_id] = self.view_versions.get(view_id, 0) + 1
        if view.get("type", "modal") == "modal":
            self.open_views.add(view_id)
        if view.get("external_id"):
            self._external_ids[view["external_id"]] = view_id
        return stored

    def close_view(self, view_id: str) -> None:
        """The person closed the modal: Slack no longer updates it."""
        self.open_views.discard(view_id)

    # ------------------------------------------------------------------ who is known

    def _user_profile(self, user_id: str) -> dict[str, Any] | None:
        """name, real_name, tz and extra user fields, or None for a user Slack does not know."""
        if user_id not in self.users:
            return None
        name = self.users[user_id]
        return {"name": name, "real_name": name, "tz": DEFAULT_TZ, **self.profiles.get(user_id, {})}

    def _channel_name(self, channel: str) -> str | None:
        return self.channels.get(channel)

    def _trigger_issued(self, trigger: str) -> bool:
        return trigger in self._issued_triggers

    async def wait_for_calls(self, after: int, timeout: float) -> bool:
        """Until more than `after` calls are recorded (False after `timeout` s): for work that
        comes later, such as a scheduled command."""
        try:
            async with self._calls_changed:
                await asyncio.wait_for(
                    self._calls_changed.wait_for(lambda: len(self.calls) > after), timeout
                )
        except TimeoutError:
            return False
        return True

    # ------------------------------------------------------------------ hooks for the tests' fake

    def _intercept(self, method: str) -> Intercepted | None:
        """An answer that replaces Slack's (a fault), or None to answer normally."""
        return None

    async def _pause(self, method: str) -> None:
        """Runs after a call is recorded, before it is answered (a slow Slack)."""

    # ------------------------------------------------------------------ HTTP

    async def _record(self, call: Call) -> None:
        async with self._calls_changed:
            self.calls.append(call)
            self._calls_changed.notify_all()

    def _auth_error(self, token: str | None) -> str | None:
        """None when the bot token came, else Slack's error code."""
        if not token:
            return "not_authed"
        if self._token is None:
            return None if token.startswith("xoxb-") else "invalid_auth"
        if not hmac.compare_digest(token.encode(), self._token.encode()):
            return "invalid_auth"
        return None

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        at = time.monotonic()
        self._note_connection(request)
        args, token = await _read_args(request)
        intercepted = self._intercept(method)
        if intercepted is not None:
            resp, result = intercepted
        else:
            result = self._answer(method, args, token)
            resp = web.json_response(result)
        # Recorded on arrival (answer decided up front) so a slow call is seen in flight.
        await self._record(Call(method, args, at, resp.status, bool(token), result))
        await self._pause(method)
        return resp

    def _note_connection(self, request: web.Request) -> None:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        if peer:
            self.connections.add((str(peer[0]), int(peer[1])))

    def _answer(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        # A workflow step answers with the run's own token (the event's bot_access_token).
        workflow_token = method.startswith("functions.") and (token or "").startswith("xwfp-")
        error = None if workflow_token else self._auth_error(token)
        if error is not None:
            return {"ok": False, "error": error}
        handler = METHODS.get(method)
        return handler(self, args) if handler else {"ok": False, "error": "unknown_method"}

    async def _handle_response_url(self, request: web.Request) -> web.StreamResponse:
        at = time.monotonic()
        self._note_connection(request)
        key = request.match_info["key"]
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            body = None
            args: dict[str, Any] = {"_raw": await request.text()}
        else:
            args = dict(body) if isinstance(body, dict) else {"_body": body}
        args["key"] = key
        intercepted = self._intercept("response_url")
        if intercepted is not None:
            resp, result = intercepted
        elif key not in self._response_urls:
            resp, result = web.Response(status=404, text="no_service"), {}
        elif not isinstance(body, dict):
            resp, result = web.Response(status=400, text="invalid_payload"), {}
        else:
            resp, result = web.Response(text="ok", content_type="text/html"), {}
        await self._record(Call("response_url", args, at, resp.status, False, result))
        await self._pause("response_url")
        return resp

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        at = time.monotonic()
        file_id = request.match_info["file_id"]
        token = _bearer(request)
        f = self.files.get(file_id)
        intercepted = self._intercept("file_download")
        if intercepted is not None:
            resp = intercepted[0]
        elif self._auth_error(token) is not None:
            resp = web.Response(status=401, text="not_authed")
        elif f is None:
            resp = web.Response(status=404, text="file_not_found")
        else:
            resp = web.Response(body=f.content, content_type=f.mimetype)
        await self._record(Call("file_download", {"file": file_id}, at, resp.status, bool(token)))
        await self._pause("file_download")
        return resp

    async def _handle_upload(self, request: web.Request) -> web.StreamResponse:
        """Step 2 of an upload: the bytes, POSTed to the URL files.getUploadURLExternal gave.

        Like Slack's, the URL itself is the credential (no token). The body must have the
        length announced in step 1; Slack answers 200 "OK - <length>".
        """
        at = time.monotonic()
        file_id = request.match_info["file_id"]
        pending = self._uploads.get(file_id)
        chunks, size = [], 0
        async for chunk in request.content.iter_chunked(256 * 1024):
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                break
            chunks.append(chunk)
        content = b"".join(chunks)
        intercepted = self._intercept("file_upload")
        if intercepted is not None:
            resp = intercepted[0]
        elif pending is None or pending.content is not None:
            resp = web.Response(status=404, text="upload_url_not_found")
        elif size != pending.length:
            resp = web.Response(status=400, text=f"length mismatch: {size} != {pending.length}")
        else:
            pending.content = content
            resp = web.Response(text=f"OK - {size}")
        args = {
            "file": file_id,
            "length": pending.length if pending else None,
            "size": size,
            "content": content,
        }
        await self._record(Call("file_upload", args, at, resp.status, bool(_bearer(request))))
        await self._pause("file_upload")
        return resp


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    return header.removeprefix("Bearer ") or None


async def _read_args(request: web.Request) -> tuple[dict[str, Any], str | None]:
    """Query string and body (JSON, urlencoded or multipart) merged, JSON fields decoded.

    The token (header or form field) is taken out and returned apart, so it is never recorded.
    """
    args: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                body = None
            if isinstance(body, dict):
                args.update(body)
        else:
            form = await request.post()
            for k, v in form.items():
                if isinstance(v, web.FileField):
                    args[k] = {"filename": v.filename, "size": len(v.file.read())}
                else:
                    args[k] = v
    for k in JSON_FIELDS & args.keys():
        if isinstance(args[k], str):
            with contextlib.suppress(ValueError):
                args[k] = json.loads(args[k])
    field_token = args.pop("token", None)
    return args, _bearer(request) or (str(field_token) if field_token else None)


# ---------------------------------------------------------------------------- the demo's Slack

MAX_FILE_BYTES = 10 * 1024 * 1024


class ConsoleSlack(SlackStandIn):
    """The stand-in as `dialer-bot demo` uses it: strict, and knowing only the users and
    channels the demo adds and the triggers it hands out. It knows the real bot token (and
    compares it, never records it); the person attaches files from local paths."""

    def __init__(self, bot_token: str, *, team_id: str = "TDEMO", bot_user_id: str = "UDEMOBOT"):
        super().__init__(
            bot_token=bot_token,
            team_id=team_id,
            bot_user_id=bot_user_id,
            team_name="Demo",
            team_url="https://demo.slack.com/",
            app_id="ADEMO",
        )

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> ConsoleSlack:
        await self.listen(host, port)
        return self

    def add_file(self, path: Path) -> dict[str, Any]:
        """Upload a local file, as a person would in a file input; returns Slack's file object."""
        content = path.read_bytes()
        if len(content) > MAX_FILE_BYTES:
            raise ValueError(f"{path.name} is larger than {MAX_FILE_BYTES // 1024 // 1024} MB")
        return self.store_file(path.name, content)
