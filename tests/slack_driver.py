"""Build and sign Slack requests byte-for-byte the way Slack sends them, and post them to the bot.

Uses one aiohttp.ClientSession: httpx collapses above ~10 concurrent connections,
which would make concurrency tests measure the client.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp

TEAM_DOMAIN = "fake-team"
API_APP_ID = "A0001"
VERIFICATION_TOKEN = "fake-verification-token"  # legacy field Slack still sends; Bolt ignores it

_trigger_seq = itertools.count(1)


def sign(secret: str, timestamp: str, body: str) -> str:
    """Slack's v0 signature: "v0=" + hex HMAC-SHA256(secret, "v0:{ts}:{body}")."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def new_trigger_id() -> str:
    """A unique trigger_id shaped like Slack's ("<n>.<n>.<hex>")."""
    return f"{next(_trigger_seq)}.47445629121.{secrets.token_hex(16)}"


def slash_command_body(
    text: str,
    *,
    command: str = "/dialer",
    user_id: str = "UADMIN",
    user_name: str = "alice",
    channel_id: str = "C0001",
    channel_name: str = "ops",
    team_id: str = "T0001",
    response_url: str,
    trigger_id: str | None = None,
) -> str:
    """Form body of a slash command, fields in the order Slack sends them."""
    fields = [
        ("token", VERIFICATION_TOKEN),
        ("team_id", team_id),
        ("team_domain", TEAM_DOMAIN),
        ("channel_id", channel_id),
        ("channel_name", channel_name),
        ("user_id", user_id),
        ("user_name", user_name),
        ("command", command),
        ("text", text),
        ("api_app_id", API_APP_ID),
        ("is_enterprise_install", "false"),
        ("response_url", response_url),
        ("trigger_id", trigger_id or new_trigger_id()),
    ]
    return urlencode(fields)


def _user(user_id: str, user_name: str, team_id: str) -> dict[str, str]:
    return {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id}


def _payload_body(payload: dict[str, Any]) -> str:
    return urlencode([("payload", json.dumps(payload, separators=(",", ":")))])


def shortcut_body(
    callback_id: str,
    *,
    user_id: str,
    user_name: str = "alice",
    team_id: str = "T0001",
    trigger_id: str | None = None,
) -> str:
    """Form body of a global shortcut: a trigger_id, no channel and no response_url."""
    return _payload_body(
        {
            "type": "shortcut",
            "callback_id": callback_id,
            "action_ts": f"{time.time():.6f}",
            "user": _user(user_id, user_name, team_id),
            "api_app_id": API_APP_ID,
            "token": VERIFICATION_TOKEN,
            "trigger_id": trigger_id or new_trigger_id(),
            "team": {"id": team_id, "domain": TEAM_DOMAIN},
            "enterprise": None,
            "is_enterprise_install": False,
        }
    )


def block_actions_body(
    action_id: str,
    value: str,
    *,
    user_id: str,
    channel_id: str | None,
    response_url: str | None,
    message: dict[str, Any] | None = None,
    block_id: str = "b",
    trigger_id: str | None = None,
    container: dict[str, Any] | None = None,
    view: dict[str, Any] | None = None,
    user_name: str = "alice",
    team_id: str = "T0001",
    action_type: str = "button",
) -> str:
    """Form body (payload=<json>) of a button click.

    Container: `view` given → a click inside a modal (no response_url unless passed);
    `message` given → a click on a normal message (payload carries the message);
    neither → a click on an ephemeral message (Slack sends no `message` then).
    """
    action_ts = f"{time.time():.6f}"
    if container is None:
        if view is not None:
            container = {"type": "view", "view_id": view.get("id", "V1")}
        else:
            container = {
                "type": "message",
                "message_ts": (message or {}).get("ts", "1700000000.000100"),
                "channel_id": channel_id,
                "is_ephemeral": message is None,
            }
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id,
        "type": action_type,
        "action_ts": action_ts,
    }
    if action_type == "static_select":
        action["selected_option"] = {
            "text": {"type": "plain_text", "text": value},
            "value": value,
        }
    else:
        action["value"] = value
        action["text"] = {"type": "plain_text", "text": value, "emoji": True}
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, user_name, team_id),
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": container,
        "trigger_id": trigger_id or new_trigger_id(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "actions": [action],
    }
    if channel_id is not None:
        payload["channel"] = {"id": channel_id, "name": f"chan-{channel_id.lower()}"}
    if message is not None:
        payload["message"] = message
    if view is not None:
        payload["view"] = view
    if response_url is not None:
        payload["response_url"] = response_url
    return _payload_body(payload)


def view_submission_body(
    callback_id: str,
    state_values: dict[str, Any],
    *,
    user_id: str,
    private_metadata: str = "",
    view_id: str = "V1",
    trigger_id: str | None = None,
    user_name: str = "alice",
    team_id: str = "T0001",
    blocks: list[dict[str, Any]] | None = None,
) -> str:
    """Form body (payload=<json>) of a modal submission."""
    payload = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": _user(user_id, user_name, team_id),
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(),
        "view": {
            "id": view_id,
            "team_id": team_id,
            "type": "modal",
            "blocks": blocks or [],
            "private_metadata": private_metadata,
            "callback_id": callback_id,
            "state": {"values": state_values},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "title": {"type": "plain_text", "text": "Dialer"},
            "clear_on_close": False,
            "notify_on_close": False,
            "close": None,
            "submit": {"type": "plain_text", "text": "Submit"},
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": API_APP_ID,
            "external_id": "",
            "app_installed_team_id": team_id,
            "bot_id": "BBOT",
        },
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return _payload_body(payload)


# Helpers for view_submission state values ({block_id: {action_id: <one of these>}}).


def text_value(value: str | None) -> dict[str, Any]:
    """State of a plain_text_input (Slack sends value None when left empty)."""
    return {"type": "plain_text_input", "value": value}


def select_value(value: str | None, text: str | None = None) -> dict[str, Any]:
    """State of a static_select (selected_option None when nothing chosen)."""
    if value is None:
        return {"type": "static_select", "selected_option": None}
    return {
        "type": "static_select",
        "selected_option": {"text": {"type": "plain_text", "text": text or value}, "value": value},
    }


def multi_select_value(values: list[str]) -> dict[str, Any]:
    """State of a multi_static_select."""
    return {
        "type": "multi_static_select",
        "selected_options": [
            {"text": {"type": "plain_text", "text": v}, "value": v} for v in values
        ],
    }


def checkboxes_value(values: list[str]) -> dict[str, Any]:
    """State of a checkboxes element."""
    return {
        "type": "checkboxes",
        "selected_options": [
            {"text": {"type": "plain_text", "text": v}, "value": v} for v in values
        ],
    }


def timepicker_value(value: str | None) -> dict[str, Any]:
    """State of a timepicker ("HH:MM")."""
    return {"type": "timepicker", "selected_time": value}


@dataclass
class Reply:
    """What the bot answered to one signed request."""

    status: int
    text: str
    json: dict[str, Any] | None
    elapsed_ms: float


class SlackDriver:
    """Posts signed Slack requests to the bot's /slack/events endpoint."""

    def __init__(
        self,
        base_url: str,
        signing_secret: str,
        *,
        response_url: str | None = None,
        path: str = "/slack/events",
        timeout: float = 10.0,
    ) -> None:
        self.url = base_url.rstrip("/") + path
        self.response_url = response_url
        self._secret = signing_secret
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _session_or_new(self) -> aiohttp.ClientSession:
        # Created lazily so the session belongs to the running test loop.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    def _response_url(self, kw: dict[str, Any]) -> str:
        url = kw.pop("response_url", None) or self.response_url
        if url is None:
            raise ValueError("SlackDriver needs a response_url (constructor or per call)")
        return url

    async def post(
        self,
        body: str,
        *,
        timestamp: str | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """POST a raw form body; pass timestamp/signature to send stale or forged requests."""
        ts = timestamp if timestamp is not None else str(int(time.time()))
        sig = signature if signature is not None else sign(self._secret, ts, body)
        hdrs = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sig,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            **(headers or {}),
        }
        session = self._session_or_new()
        start = time.perf_counter()
        async with session.post(self.url, data=body.encode(), headers=hdrs) as resp:
            text = await resp.text()
            status = resp.status
        elapsed_ms = (time.perf_counter() - start) * 1000
        parsed: dict[str, Any] | None = None
        if text.strip():
            try:
                loaded = json.loads(text)
            except ValueError:
                loaded = None
            if isinstance(loaded, dict):
                parsed = loaded
        return Reply(status=status, text=text, json=parsed, elapsed_ms=elapsed_ms)

    async def command(self, text: str, **kw: Any) -> Reply:
        """A signed slash command; kw as slash_command_body (response_url defaults)."""
        url = self._response_url(kw)
        return await self.post(slash_command_body(text, response_url=url, **kw))

    async def action(self, action_id: str, value: str, **kw: Any) -> Reply:
        """A signed block_actions click; kw as block_actions_body (sane defaults filled)."""
        kw.setdefault("user_id", "UADMIN")
        kw.setdefault("channel_id", "C0001")
        if "response_url" in kw and kw["response_url"] is None:
            url = None  # explicit None: e.g. a click inside a modal
            kw.pop("response_url")
        else:
            url = self._response_url(kw)
        return await self.post(block_actions_body(action_id, value, response_url=url, **kw))

    async def shortcut(self, callback_id: str, **kw: Any) -> Reply:
        """A signed global shortcut; kw as shortcut_body."""
        kw.setdefault("user_id", "UADMIN")
        return await self.post(shortcut_body(callback_id, **kw))

    async def submit(self, callback_id: str, state_values: dict[str, Any], **kw: Any) -> Reply:
        """A signed view_submission; kw as view_submission_body."""
        kw.setdefault("user_id", "UADMIN")
        return await self.post(view_submission_body(callback_id, state_values, **kw))

    async def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        team_id: str = "T0001",
    ) -> Reply:
        """A signed Events API delivery (JSON); `retry_num` sends it as Slack's retry does."""
        body = json.dumps(
            {
                "token": "legacy",
                "team_id": team_id,
                "api_app_id": "A0001",
                "type": "event_callback",
                "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
                "event_time": int(time.time()),
                "event": event,
            }
        )
        headers = {"Content-Type": "application/json"}
        if retry_num is not None:
            headers |= {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "timeout"}
        return await self.post(body, headers=headers)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> SlackDriver:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
