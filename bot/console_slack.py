"""The Slack Web API for `dialer-bot demo`: a local aiohttp server the bot's real client talks to.

It answers the methods the bot uses the way Slack does (views need a fresh trigger_id,
updates need a known view, files need the bot token), records every call in order so the
console can show what the bot sent, and serves the console's own response URLs.
It keeps no secret: the bot token is compared, never recorded.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import json
import mimetypes
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

#: Fields slack_sdk may send as JSON strings inside a form body.
JSON_FIELDS = frozenset({"blocks", "view", "attachments", "metadata"})
MAX_FILE_BYTES = 10 * 1024 * 1024


@dataclass
class Call:
    """One request the bot made: a Web API method, or "response_url" / "file_download"."""

    method: str
    args: dict[str, Any]
    status: int
    result: dict[str, Any] = field(default_factory=dict)


@dataclass
class StoredFile:
    file_id: str
    name: str
    content: bytes
    filetype: str
    mimetype: str


@dataclass
class StoredMessage:
    channel: str
    ts: str
    body: dict[str, Any]


class ConsoleSlack:
    """Stands in for https://slack.com/api/, for response_url and for file downloads."""

    def __init__(self, bot_token: str, *, team_id: str = "TDEMO", bot_user_id: str = "UDEMOBOT"):
        self._token = bot_token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = "BDEMOBOT"
        self.calls: list[Call] = []
        self.users: dict[str, str] = {bot_user_id: "dialer-bot"}
        self.channels: dict[str, str] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.view_versions: dict[str, int] = {}
        self.open_views: set[str] = set()
        self.files: dict[str, StoredFile] = {}
        self.messages: dict[tuple[str, str], StoredMessage] = {}
        self._external_ids: dict[str, str] = {}
        self._triggers: dict[str, float] = {}
        self._response_urls: dict[str, dict[str, Any]] = {}
        self._seq = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # ------------------------------------------------------------------ lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> ConsoleSlack:
        app = web.Application(client_max_size=MAX_FILE_BYTES)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{key}", self._handle_response_url)
        app.router.add_get("/files/{file_id}", self._handle_file)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        self.base_url = f"http://{host}:{runner.addresses[0][1]}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    # ------------------------------------------------------------------ what the console hands out

    def new_trigger_id(self) -> str:
        """A trigger_id the bot may use once to open a modal, as Slack's are."""
        trigger = f"{next(self._seq)}.{int(time.time())}.{secrets.token_hex(16)}"
        self._triggers[trigger] = time.monotonic()
        return trigger

    def new_response_url(self, **origin: Any) -> str:
        """A response_url; `origin` says what it belongs to (e.g. the message a button sat on)."""
        key = str(next(self._seq))
        self._response_urls[key] = origin
        return f"{self.base_url}/response/{key}"

    def response_origin(self, key: str) -> dict[str, Any]:
        return self._response_urls.get(key, {})

    def add_file(self, path: Path) -> dict[str, Any]:
        """Upload a local file, as a person would in a file input; returns Slack's file object."""
        content = path.read_bytes()
        if len(content) > MAX_FILE_BYTES:
            raise ValueError(f"{path.name} is larger than {MAX_FILE_BYTES // 1024 // 1024} MB")
        file_id = f"F{next(self._seq):08d}DEMO"
        mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        filetype = path.suffix.lstrip(".").lower() or "text"
        self.files[file_id] = StoredFile(file_id, path.name, content, filetype, mimetype)
        return self._file_object(self.files[file_id])

    def register_view(self, view: dict[str, Any], view_id: str | None = None) -> dict[str, Any]:
        """Store a view (opened by the bot, or set by a view_submission ack) and mark it open."""
        view_id = view_id or f"V{next(self._seq):08d}"
        prev = self.views.get(view_id, {})
        digest = hashlib.sha256(
            json.dumps(view, sort_keys=True).encode() + view_id.encode()
        ).hexdigest()[:16]
        stored = {
            **view,
            "id": view_id,
            "team_id": self.team_id,
            "app_id": "ADEMO",
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
        self.open_views.add(view_id)
        if view.get("external_id"):
            self._external_ids[view["external_id"]] = view_id
        return stored

    def close_view(self, view_id: str) -> None:
        self.open_views.discard(view_id)

    # ------------------------------------------------------------------ HTTP

    def _auth_error(self, request: web.Request, args: dict[str, Any]) -> str | None:
        """None when the bot token came (header or form field), else Slack's error code."""
        header = request.headers.get("Authorization", "")
        given = header.removeprefix("Bearer ") if header.startswith("Bearer ") else ""
        given = given or str(args.get("token") or "")
        if not given:
            return "not_authed"
        if not hmac.compare_digest(given.encode(), self._token.encode()):
            return "invalid_auth"
        return None

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        args = await _read_args(request)
        error = self._auth_error(request, args)
        args.pop("token", None)
        if error is not None:
            result = {"ok": False, "error": error}
        else:
            handler = _METHODS.get(method)
            result = handler(self, args) if handler else {"ok": False, "error": "unknown_method"}
        self.calls.append(Call(method, args, 200, result))
        return web.json_response(result)

    async def _handle_response_url(self, request: web.Request) -> web.StreamResponse:
        key = request.match_info["key"]
        if key not in self._response_urls:
            return web.Response(status=404, text="no_service")
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            return web.Response(status=400, text="invalid_payload")
        args = dict(body) if isinstance(body, dict) else {}
        args["key"] = key
        self.calls.append(Call("response_url", args, 200))
        return web.Response(text="ok")

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["file_id"]
        f = self.files.get(file_id)
        if self._auth_error(request, {}) is not None:
            resp = web.Response(status=401, text="not_authed")
        elif f is None:
            resp = web.Response(status=404, text="file_not_found")
        else:
            resp = web.Response(body=f.content, content_type=f.mimetype)
        self.calls.append(Call("file_download", {"file": file_id}, resp.status))
        return resp

    # ------------------------------------------------------------------ methods

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._seq):06d}"

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://demo.slack.com/",
            "team": "Demo",
            "user": "dialer-bot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _known_channel(self, channel: str) -> bool:
        return channel in self.channels or channel in self.users

    def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        if not self._known_channel(channel):
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("text") and not args.get("blocks") and not args.get("attachments"):
            return {"ok": False, "error": "no_text"}
        ts = self._next_ts()
        body = self._message(args, ts)
        self.messages[(channel, ts)] = StoredMessage(channel, ts, body)
        return {"ok": True, "channel": channel, "ts": ts, "message": body}

    def _post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        if not self._known_channel(str(args.get("channel") or "")):
            return {"ok": False, "error": "channel_not_found"}
        if str(args.get("user") or "") not in self.users:
            return {"ok": False, "error": "user_not_in_channel"}
        return {"ok": True, "message_ts": self._next_ts()}

    def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        key = (str(args.get("channel") or ""), str(args.get("ts") or ""))
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        body = self._message(args, key[1])
        self.messages[key].body = body
        return {"ok": True, "channel": key[0], "ts": key[1], "text": body["text"], "message": body}

    def _delete(self, args: dict[str, Any]) -> dict[str, Any]:
        key = (str(args.get("channel") or ""), str(args.get("ts") or ""))
        if self.messages.pop(key, None) is None:
            return {"ok": False, "error": "message_not_found"}
        return {"ok": True, "channel": key[0], "ts": key[1]}

    def _message(self, args: dict[str, Any], ts: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "team": self.team_id,
            "ts": ts,
            "text": args.get("text", ""),
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if key in args:
                body[key] = args[key]
        return body

    def _take_trigger(self, args: dict[str, Any]) -> bool:
        trigger = str(args.get("trigger_id") or args.get("interactivity_pointer") or "")
        return self._triggers.pop(trigger, None) is not None

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        if not self._take_trigger(args):
            return {"ok": False, "error": "invalid_trigger_id"}
        return {"ok": True, "view": self.register_view(view)}

    def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        if not self._take_trigger(args):
            return {"ok": False, "error": "invalid_trigger_id"}
        if not self.open_views:
            return {"ok": False, "error": "not_found"}
        stored = self.register_view(view)
        return {"ok": True, "view": stored}

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        view_id = args.get("view_id") or self._external_ids.get(str(args.get("external_id") or ""))
        if not view_id or view_id not in self.open_views:
            return {"ok": False, "error": "not_found"}
        if args.get("hash") and args["hash"] != self.views[view_id]["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        return {"ok": True, "view": self.register_view(view, view_id)}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args.get("view")
        if not isinstance(view, dict) or not args.get("user_id"):
            return {"ok": False, "error": "invalid_arguments"}
        stored = self.register_view(view)
        self.close_view(stored["id"])  # a Home tab is no modal
        return {"ok": True, "view": stored}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = str(args.get("user") or "")
        if user_id not in self.users:
            return {"ok": False, "error": "user_not_found"}
        name = self.users[user_id]
        return {
            "ok": True,
            "user": {
                "id": user_id,
                "team_id": self.team_id,
                "name": name,
                "real_name": name,
                "tz": "Europe/Prague",
                "is_bot": user_id == self.bot_user_id,
                "deleted": False,
                "profile": {"real_name": name, "display_name": name},
            },
        }

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        return {
            "ok": True,
            "channel": {
                "id": channel,
                "name": self.channels[channel],
                "is_channel": channel.startswith("C"),
                "is_private": channel.startswith("G"),
                "is_im": channel.startswith("D"),
                "is_member": True,
            },
        }

    def _files_info(self, args: dict[str, Any]) -> dict[str, Any]:
        f = self.files.get(str(args.get("file") or ""))
        if f is None:
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "file": self._file_object(f)}

    def _file_object(self, f: StoredFile) -> dict[str, Any]:
        return {
            "id": f.file_id,
            "created": int(time.time()),
            "name": f.name,
            "title": f.name,
            "mimetype": f.mimetype,
            "filetype": f.filetype,
            "size": len(f.content),
            "url_private": f"{self.base_url}/files/{f.file_id}",
            "url_private_download": f"{self.base_url}/files/{f.file_id}",
        }


_METHODS: dict[str, Callable[[ConsoleSlack, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": ConsoleSlack._auth_test,
    "chat.postMessage": ConsoleSlack._post_message,
    "chat.postEphemeral": ConsoleSlack._post_ephemeral,
    "chat.update": ConsoleSlack._update,
    "chat.delete": ConsoleSlack._delete,
    "views.open": ConsoleSlack._views_open,
    "views.push": ConsoleSlack._views_push,
    "views.update": ConsoleSlack._views_update,
    "views.publish": ConsoleSlack._views_publish,
    "users.info": ConsoleSlack._users_info,
    "conversations.info": ConsoleSlack._conversations_info,
    "files.info": ConsoleSlack._files_info,
}


async def _read_args(request: web.Request) -> dict[str, Any]:
    """Query string and body (JSON, urlencoded or multipart) merged, JSON fields decoded."""
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
                args[k] = v.filename if isinstance(v, web.FileField) else v
    for k in JSON_FIELDS & args.keys():
        if isinstance(args[k], str):
            with contextlib.suppress(ValueError):
                args[k] = json.loads(args[k])
    return args
