"""A fake Slack Web API on a real aiohttp server, so tests exercise the bot's real HTTP client.

Every call is recorded (never the token) so tests can assert on what the bot sent, and
faults (429 with Retry-After, 5xx, slow answers) can be injected per method.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

#: Fields slack_sdk may send as JSON strings inside a form body; decoded before recording.
JSON_FIELDS = frozenset({"blocks", "view", "attachments", "metadata", "unfurls"})


@dataclass
class Call:
    """One request the bot made to fake Slack."""

    method: str
    args: dict[str, Any]
    at: float
    status: int
    token_present: bool = False


@dataclass
class _Fault:
    count: int
    status: int
    retry_after: int | None
    error: str
    html: bool


@dataclass
class _File:
    file_id: str
    name: str
    content: bytes
    filetype: str


@dataclass
class _User:
    user_id: str
    name: str
    real_name: str
    tz: str
    extra: dict[str, Any] = field(default_factory=dict)


class FakeSlack:
    """Stands in for https://slack.com/api/ and for response_url endpoints."""

    def __init__(self, bot_user_id: str = "UBOT", team_id: str = "T0001") -> None:
        self.bot_user_id = bot_user_id
        self.bot_id = "B" + bot_user_id.lstrip("U")
        self.team_id = team_id
        self.calls: list[Call] = []
        self._faults: dict[str, list[_Fault]] = {}
        self._delays: dict[str, float] = {}
        self._files: dict[str, _File] = {}
        self._users: dict[str, _User] = {}
        self._views: dict[str, dict[str, Any]] = {}
        self._external_ids: dict[str, str] = {}
        self._ts = itertools.count(1)
        self._view_ids = itertools.count(1)
        self._cond = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # ---------------------------------------------------------------- lifecycle

    @classmethod
    async def start(cls, bot_user_id: str = "UBOT", team_id: str = "T0001") -> FakeSlack:
        """Start listening on 127.0.0.1 with an OS-chosen port (parallel test runs never clash)."""
        fake = cls(bot_user_id=bot_user_id, team_id=team_id)
        app = web.Application()
        app.router.add_route("*", "/api/{method}", fake._handle_api)
        app.router.add_post("/response/{key}", fake._handle_response_url)
        app.router.add_get("/files/{file_id}", fake._handle_file_download)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        fake._runner = runner
        fake.base_url = f"http://127.0.0.1:{port}"
        return fake

    async def stop(self) -> None:
        """Close the server; safe to call twice."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_url(self) -> str:
        """base_url for AsyncWebClient (slack_sdk needs the trailing slash)."""
        return f"{self.base_url}/api/"

    def response_url(self, key: str) -> str:
        """A response_url to put into slash-command / block_actions payloads."""
        return f"{self.base_url}/response/{key}"

    # ---------------------------------------------------------------- test setup

    def add_file(self, file_id: str, name: str, content: bytes, filetype: str = "csv") -> None:
        """Register an uploaded file for files.info and GET /files/<id>."""
        self._files[file_id] = _File(file_id, name, content, filetype)

    def add_user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        real_name: str | None = None,
        tz: str = "Europe/Prague",
        **extra: Any,
    ) -> None:
        """Override what users.info answers for one user (default is derived from the id)."""
        self._users[user_id] = _User(
            user_id,
            name or f"user-{user_id.lower()}",
            real_name or f"User {user_id}",
            tz,
            dict(extra),
        )

    def fail_next(
        self,
        method: str,
        *,
        count: int = 1,
        status: int = 429,
        retry_after: int | None = 1,
        error: str = "ratelimited",
        html: bool = False,
    ) -> None:
        """Make the next `count` calls to `method` fail.

        429 carries a Retry-After header; `html=True` answers an HTML page (what a proxy or
        Slack's edge sends on 5xx) instead of `{"ok": false, "error": error}`. status=200 gives
        a plain Slack API error such as `user_not_found`. `method` may be "response_url".
        """
        self._faults.setdefault(method, []).append(
            _Fault(count, status, retry_after if status == 429 else None, error, html)
        )

    def set_delay(self, method: str, seconds: float) -> None:
        """Answer `method` only after `seconds` (0 removes the delay)."""
        if seconds <= 0:
            self._delays.pop(method, None)
        else:
            self._delays[method] = seconds

    def clear(self) -> None:
        """Forget recorded calls and pending faults/delays (files, users and views stay)."""
        self.calls.clear()
        self._faults.clear()
        self._delays.clear()

    # ---------------------------------------------------------------- assertions

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def _matching(self, method: str, predicate: Callable[[Call], bool]) -> list[Call]:
        out = []
        for c in self.calls:
            if c.method != method:
                continue
            try:
                ok = predicate(c)
            except (KeyError, TypeError, IndexError, AttributeError):
                ok = False  # a predicate that cannot look at this call does not match it
            if ok:
                out.append(c)
        return out

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] = lambda c: True,
        *,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the harness API tests call
    ) -> list[Call]:
        """Wait until `count` calls to `method` match `predicate`; return all matching calls.

        Calls recorded before this was called count too. Woken by every recorded call, so it
        returns as soon as the call arrives (no polling).
        """

        def enough() -> bool:
            return len(self._matching(method, predicate)) >= count

        try:
            async with self._cond:
                await asyncio.wait_for(self._cond.wait_for(enough), timeout)
        except TimeoutError:
            got = len(self._matching(method, predicate))
            raise AssertionError(
                f"waited {timeout}s for {count} matching {method!r} call(s), got {got}. "
                f"Recorded calls:\n{self.describe()}"
            ) from None
        return self._matching(method, predicate)

    def describe(self) -> str:
        """One line per recorded call, for failure messages."""
        if not self.calls:
            return "  (none)"
        lines = []
        for i, c in enumerate(self.calls):
            args = json.dumps(c.args, default=str)
            if len(args) > 300:
                args = args[:300] + "…"
            lines.append(f"  [{i}] {c.method} -> {c.status} {args}")
        return "\n".join(lines)

    @staticmethod
    def texts(call: Call | dict[str, Any], *, mrkdwn_only: bool = False) -> str:
        """All text of a message / view / response_url body, newline-joined, for assertions.

        Collects the top-level `text` and every `text` inside blocks, fields, elements,
        attachments, options, titles, and the view. With `mrkdwn_only`, only text Slack parses
        for mentions (top-level text and mrkdwn objects) — what escaping checks should look at.
        """
        args = call.args if isinstance(call, Call) else call
        out: list[str] = []
        if isinstance(args.get("text"), str):
            out.append(args["text"])
        for key, value in args.items():
            if key in ("text", "key", "channel", "ts", "user", "response_type"):
                continue
            out.extend(_walk_texts(value, mrkdwn_only))
        return "\n".join(out)

    # ---------------------------------------------------------------- recording

    async def _record(self, call: Call) -> None:
        async with self._cond:
            self.calls.append(call)
            self._cond.notify_all()

    def _take_fault(self, method: str) -> _Fault | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.count -= 1
        if fault.count <= 0:
            queue.pop(0)
        return fault

    @staticmethod
    def _fault_response(fault: _Fault) -> web.Response:
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after)
        if fault.html:
            body = f"<html><body><h1>{fault.status}</h1><p>{fault.error}</p></body></html>"
            return web.Response(
                status=fault.status, text=body, content_type="text/html", headers=headers
            )
        return web.json_response(
            {"ok": False, "error": fault.error}, status=fault.status, headers=headers
        )

    # ---------------------------------------------------------------- handlers

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        at = time.monotonic()
        args, token_present = await _read_args(request)
        fault = self._take_fault(method)
        if fault is not None:
            resp: web.Response = self._fault_response(fault)
        elif not token_present:
            resp = web.json_response({"ok": False, "error": "not_authed"})
        else:
            resp = web.json_response(self._answer(method, args))
        # Recorded on arrival (status decided up front) so a test sees a slow call in flight.
        await self._record(Call(method, args, at, resp.status, token_present))
        delay = self._delays.get(method)
        if delay:
            await asyncio.sleep(delay)
        return resp

    async def _handle_response_url(self, request: web.Request) -> web.StreamResponse:
        at = time.monotonic()
        key = request.match_info["key"]
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            body = {"_raw": await request.text()}
        args = dict(body) if isinstance(body, dict) else {"_body": body}
        args["key"] = key
        fault = self._take_fault("response_url")
        resp = (
            self._fault_response(fault)
            if fault is not None
            else web.Response(text="ok", content_type="text/html")
        )
        await self._record(Call("response_url", args, at, resp.status, False))
        delay = self._delays.get("response_url")
        if delay:
            await asyncio.sleep(delay)
        return resp

    async def _handle_file_download(self, request: web.Request) -> web.StreamResponse:
        at = time.monotonic()
        file_id = request.match_info["file_id"]
        auth = request.headers.get("Authorization", "")
        authorized = auth.startswith("Bearer xoxb-")
        f = self._files.get(file_id)
        if not authorized:
            resp = web.Response(status=401, text="not_authed")
        elif f is None:
            resp = web.Response(status=404, text="file_not_found")
        else:
            resp = web.Response(body=f.content, content_type="application/octet-stream")
        await self._record(Call("file_download", {"file_id": file_id}, at, resp.status, bool(auth)))
        return resp

    # ---------------------------------------------------------------- Slack-like answers

    def _next_ts(self) -> str:
        n = next(self._ts) * 100
        return f"{1700000000 + n // 1_000_000}.{n % 1_000_000:06d}"

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        handler = _METHODS.get(method)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        return handler(self, args)

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake-team.slack.com/",
            "team": "Fake Team",
            "user": "dialer-bot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _message(self, args: dict[str, Any], ts: str) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "team": self.team_id,
            "ts": ts,
            "text": args.get("text", ""),
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if key in args:
                msg[key] = args[key]
        return msg

    def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        ts = self._next_ts()
        return {"ok": True, "channel": channel, "ts": ts, "message": self._message(args, ts)}

    def _post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("user"):
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "message_ts": self._next_ts()}

    def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel"), args.get("ts")
        if not channel or not ts:
            return {"ok": False, "error": "message_not_found"}
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": args.get("text", ""),
            "message": self._message(args, ts),
        }

    def _delete(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel"), args.get("ts")
        if not channel or not ts:
            return {"ok": False, "error": "message_not_found"}
        return {"ok": True, "channel": channel, "ts": ts}

    def _store_view(self, view_id: str, view: dict[str, Any], prev: str | None) -> dict[str, Any]:
        digest = hashlib.sha1(
            json.dumps(view, sort_keys=True).encode() + view_id.encode(), usedforsecurity=False
        ).hexdigest()[:16]
        stored = {
            **view,
            "id": view_id,
            "team_id": self.team_id,
            "bot_id": self.bot_id,
            "hash": f"{int(time.time())}.{digest}",
            "state": {"values": {}},
            "previous_view_id": prev,
            "root_view_id": view_id if prev is None else prev,
        }
        self._views[view_id] = stored
        if view.get("external_id"):
            self._external_ids[view["external_id"]] = view_id
        return stored

    def _view_open(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        if not args.get("trigger_id") and not args.get("interactivity_pointer"):
            return {"ok": False, "error": "invalid_trigger_id"}
        view_id = f"V{next(self._view_ids):06d}"
        stored = self._store_view(view_id, view, None)
        return {"ok": True, "view": stored}

    def _view_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        view_id = args.get("view_id") or self._external_ids.get(args.get("external_id") or "")
        if not view_id or view_id not in self._views:
            return {"ok": False, "error": "not_found"}
        current = self._views[view_id]
        if args.get("hash") and args["hash"] != current["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        stored = self._store_view(view_id, view, current.get("previous_view_id"))
        return {"ok": True, "view": stored}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args.get("view")
        if not isinstance(view, dict) or not args.get("user_id"):
            return {"ok": False, "error": "invalid_arguments"}
        view_id = f"V{next(self._view_ids):06d}"
        return {"ok": True, "view": self._store_view(view_id, view, None)}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = args.get("user")
        if not user_id:
            return {"ok": False, "error": "user_not_found"}
        u = self._users.get(user_id) or _User(
            user_id, f"user-{user_id.lower()}", f"User {user_id}", "Europe/Prague"
        )
        return {
            "ok": True,
            "user": {
                "id": u.user_id,
                "team_id": self.team_id,
                "name": u.name,
                "real_name": u.real_name,
                "tz": u.tz,
                "is_bot": u.user_id == self.bot_user_id,
                "deleted": False,
                "profile": {"real_name": u.real_name, "display_name": u.name},
                **u.extra,
            },
        }

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        return {
            "ok": True,
            "channel": {
                "id": channel,
                "name": f"chan-{channel.lower()}",
                "is_channel": channel.startswith("C"),
                "is_private": channel.startswith("G"),
                "is_im": channel.startswith("D"),
                "is_member": True,
            },
        }

    def _files_info(self, args: dict[str, Any]) -> dict[str, Any]:
        f = self._files.get(args.get("file", ""))
        if f is None:
            return {"ok": False, "error": "file_not_found"}
        return {
            "ok": True,
            "file": {
                "id": f.file_id,
                "name": f.name,
                "title": f.name,
                "filetype": f.filetype,
                "size": len(f.content),
                "url_private": f"{self.base_url}/files/{f.file_id}",
                "url_private_download": f"{self.base_url}/files/{f.file_id}",
            },
        }


_METHODS: dict[str, Callable[[FakeSlack, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": FakeSlack._auth_test,
    "chat.postMessage": FakeSlack._post_message,
    "chat.postEphemeral": FakeSlack._post_ephemeral,
    "chat.update": FakeSlack._update,
    "chat.delete": FakeSlack._delete,
    "views.open": FakeSlack._view_open,
    "views.push": FakeSlack._view_open,
    "views.update": FakeSlack._view_update,
    "views.publish": FakeSlack._views_publish,
    "users.info": FakeSlack._users_info,
    "conversations.info": FakeSlack._conversations_info,
    "files.info": FakeSlack._files_info,
}


async def _read_args(request: web.Request) -> tuple[dict[str, Any], bool]:
    """Merge query string and body (JSON, urlencoded or multipart); drop any token."""
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
    token_field = args.pop("token", None)
    token_present = bool(request.headers.get("Authorization", "").startswith("Bearer ")) or bool(
        token_field
    )
    return args, token_present


def _walk_texts(node: Any, mrkdwn_only: bool) -> Iterator[str]:
    if isinstance(node, dict):
        text = node.get("text")
        if isinstance(text, str) and not (mrkdwn_only and node.get("type") == "plain_text"):
            yield text
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                continue
            if key in ("private_metadata", "callback_id", "hash", "id", "external_id"):
                continue
            yield from _walk_texts(value, mrkdwn_only)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_texts(item, mrkdwn_only)
