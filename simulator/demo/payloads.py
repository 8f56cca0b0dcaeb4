"""The requests Slack would send for what the console user does, signed like Slack signs them.

The demo console turns each input into one of these bodies and hands it to the bot's Bolt
app, so a console line and a real Slack request take the same path through the listeners.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

API_APP_ID = "ADEMO"
LEGACY_TOKEN = "demo-verification-token"  # the legacy field Slack still sends; Bolt ignores it


@dataclass(frozen=True)
class Who:
    """The console user, and where they type."""

    user_id: str
    user_name: str
    team_id: str
    team_domain: str
    channel_id: str
    channel_name: str

    def user(self) -> dict[str, str]:
        return {
            "id": self.user_id,
            "username": self.user_name,
            "name": self.user_name,
            "team_id": self.team_id,
        }

    def team(self) -> dict[str, str]:
        return {"id": self.team_id, "domain": self.team_domain}


def sign(secret: str, timestamp: str, body: str) -> str:
    """Slack's v0 signature: "v0=" + hex HMAC-SHA256(secret, "v0:{ts}:{body}")."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: str) -> dict[str, str]:
    ts = str(int(time.time()))
    return {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": sign(secret, ts, body),
    }


def app_home_opened(who: Who, event_id: str) -> str:
    """The Events API delivery Slack sends when someone opens the bot's Home tab (JSON)."""
    return json.dumps(
        {
            "token": LEGACY_TOKEN,
            "team_id": who.team_id,
            "api_app_id": API_APP_ID,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": {"type": "app_home_opened", "user": who.user_id, "tab": "home"},
        }
    )


def function_executed(
    step: str, inputs: dict[str, Any], *, team_id: str, execution_id: str, workflow_id: str
) -> str:
    """The Events API delivery Slack sends when a workflow reaches one of the bot's custom
    steps (JSON): the step's callback_id, its inputs, the run's ids and its own token."""
    return json.dumps(
        {
            "token": LEGACY_TOKEN,
            "team_id": team_id,
            "api_app_id": API_APP_ID,
            "type": "event_callback",
            "event_id": f"Ev{execution_id}",
            "event_time": int(time.time()),
            "event": {
                "type": "function_executed",
                "function": {"id": f"Fn{step.upper()}", "callback_id": step, "type": "app"},
                "inputs": inputs,
                "function_execution_id": execution_id,
                "workflow_execution_id": workflow_id,
                "event_ts": f"{time.time():.6f}",
                "bot_access_token": "xwfp-demo-" + execution_id.lower(),
            },
        }
    )


def _form(payload: dict[str, Any]) -> str:
    return urlencode([("payload", json.dumps(payload, separators=(",", ":")))])


def slash_command(text: str, who: Who, *, response_url: str, trigger_id: str) -> str:
    """The form body of `/dialer <text>`, fields in the order Slack sends them."""
    return urlencode(
        [
            ("token", LEGACY_TOKEN),
            ("team_id", who.team_id),
            ("team_domain", who.team_domain),
            ("channel_id", who.channel_id),
            ("channel_name", who.channel_name),
            ("user_id", who.user_id),
            ("user_name", who.user_name),
            ("command", "/dialer"),
            ("text", text),
            ("api_app_id", API_APP_ID),
            ("is_enterprise_install", "false"),
            ("response_url", response_url),
            ("trigger_id", trigger_id),
        ]
    )


def button_action(
    *,
    action_id: str,
    block_id: str,
    element: dict[str, Any],
    value: str | None,
    selected_option: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One entry of a block_actions payload's `actions` for a button or overflow option."""
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id,
        "type": element.get("type", "button"),
        "action_ts": f"{time.time():.6f}",
    }
    if selected_option is not None:
        action["selected_option"] = selected_option
    else:
        action["text"] = element.get("text") or {"type": "plain_text", "text": ""}
        if value is not None:
            action["value"] = value
        if element.get("style"):
            action["style"] = element["style"]
    return action


def input_action(block_id: str, action_id: str, state: dict[str, Any]) -> dict[str, Any]:
    """The action Slack sends when an input with dispatch_action changes: its state plus ids."""
    return {
        **state,
        "action_id": action_id,
        "block_id": block_id,
        "action_ts": f"{time.time():.6f}",
    }


def block_actions(
    action: dict[str, Any],
    who: Who,
    *,
    trigger_id: str,
    message: dict[str, Any] | None = None,
    message_ts: str | None = None,
    channel_id: str | None = None,
    channel_name: str | None = None,
    ephemeral: bool = False,
    response_url: str | None = None,
    view: dict[str, Any] | None = None,
) -> str:
    """A click on a message (ephemeral or not) or inside a modal (`view` given)."""
    if view is not None:
        container: dict[str, Any] = {"type": "view", "view_id": view.get("id")}
    else:
        container = {
            "type": "message",
            "message_ts": message_ts or "",
            "channel_id": channel_id,
            "is_ephemeral": ephemeral,
        }
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": who.user(),
        "api_app_id": API_APP_ID,
        "token": LEGACY_TOKEN,
        "container": container,
        "trigger_id": trigger_id,
        "team": who.team(),
        "enterprise": None,
        "is_enterprise_install": False,
        "actions": [action],
    }
    if view is not None:
        payload["view"] = view
    else:
        payload["channel"] = {"id": channel_id, "name": channel_name or who.channel_name}
        payload["state"] = {"values": {}}
        if message is not None and not ephemeral:
            payload["message"] = message
    if response_url is not None:
        payload["response_url"] = response_url
    return _form(payload)


def view_submission(view: dict[str, Any], who: Who, *, trigger_id: str) -> str:
    """A modal's Submit: the view as Slack holds it, its state.values filled in."""
    return _form(
        {
            "type": "view_submission",
            "team": who.team(),
            "user": who.user(),
            "api_app_id": API_APP_ID,
            "token": LEGACY_TOKEN,
            "trigger_id": trigger_id,
            "view": view,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
    )


def view_closed(view: dict[str, Any], who: Who) -> str:
    """Sent only for views that asked for it with notify_on_close."""
    return _form(
        {
            "type": "view_closed",
            "team": who.team(),
            "user": who.user(),
            "api_app_id": API_APP_ID,
            "token": LEGACY_TOKEN,
            "view": view,
            "is_cleared": False,
            "is_enterprise_install": False,
            "enterprise": None,
        }
    )


def block_suggestion(
    view: dict[str, Any], who: Who, *, block_id: str, action_id: str, value: str
) -> str:
    """What Slack asks an external select's options listener while the user types."""
    return _form(
        {
            "type": "block_suggestion",
            "user": who.user(),
            "container": {"type": "view", "view_id": view.get("id")},
            "api_app_id": API_APP_ID,
            "token": LEGACY_TOKEN,
            "action_id": action_id,
            "block_id": block_id,
            "value": value,
            "team": who.team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "view": view,
        }
    )
