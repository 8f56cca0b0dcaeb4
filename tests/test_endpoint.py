"""The public endpoint against garbage: whoever can reach /slack/events.

Unsigned or badly signed requests are refused with 401 before anything parses the body,
with one log line (rate-limited) and no traceback. Signed but malformed payloads, on
every surface Slack has, get a 4xx or the polite answer that surface expects, never a
5xx and never a traceback in the log. A signed request seen before is not acted on
again. Approvals are checked in the channel the request was made in, whatever the
dialog's private_metadata says.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import quote_plus, urlencode

import pytest

from tests.conftest import ADMIN, SIGNING_SECRET, Bot

RESPONSE_URL = "http://127.0.0.1:9/unused"


def form(**fields: Any) -> str:
    return urlencode([(k, v) for k, v in fields.items()])


def payload(value: Any) -> str:
    """A form body payload=<json> whatever the value (even not an object)."""
    return urlencode([("payload", json.dumps(value))])


def deep(n: int) -> str:
    return "[" * n + "]" * n


USER = {"id": ADMIN, "username": "alice", "name": "alice", "team_id": "T0001"}
TEAM = {"id": "T0001", "domain": "fake-team"}


def slash(**over: Any) -> str:
    fields: dict[str, Any] = {
        "token": "x",
        "team_id": "T0001",
        "channel_id": "C0001",
        "user_id": ADMIN,
        "user_name": "alice",
        "command": "/dialer",
        "text": "campaigns",
        "response_url": RESPONSE_URL,
        "trigger_id": "1.2.abc",
    }
    for key, value in over.items():
        if value is None:
            fields.pop(key, None)
        else:
            fields[key] = value
    return form(**fields)


def actions(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "block_actions",
        "user": USER,
        "team": TEAM,
        "channel": {"id": "C0001"},
        "container": {"type": "message", "channel_id": "C0001", "is_ephemeral": True},
        "response_url": RESPONSE_URL,
        "trigger_id": "1.2.abc",
        "actions": [
            {"action_id": "control:start", "block_id": "b", "type": "button", "value": "1"}
        ],
    }
    body.update(over)
    return body


def view(callback_id: Any = "campaign_form", **over: Any) -> dict[str, Any]:
    v: dict[str, Any] = {
        "id": "V1",
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": "",
        "state": {"values": {}},
        "blocks": [],
    }
    v.update(over)
    for key in [k for k, val in v.items() if val is ...]:
        del v[key]
    return v


def submission(view_value: Any = ..., **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "view_submission", "user": USER, "team": TEAM}
    if view_value is not ...:
        body["view"] = view_value
    body.update(over)
    return body


def event(ev: Any, **over: Any) -> str:
    body = {"type": "event_callback", "team_id": "T0001", "event_id": "Ev1", "event": ev}
    body.update(over)
    return json.dumps(body)


FORM_CALLBACKS = ["campaign_form", "call_list_form", "schedule:form", "approval:decide"]
META_GARBAGE = ["[1]", "1", "null", '"x"', "{", deep(1000), "{" * 5000, 7, None, ["x"], {"a": 1}]

# (name, body, content type): each a kind of signed but malformed request.
SIGNED_GARBAGE: list[tuple[str, bytes | str, str]] = [
    # the envelope
    ("empty body", "", "form"),
    ("invalid utf-8 form", b"payload=\xff\xfe", "form"),
    ("invalid utf-8 json", b'{"type": "\xff"}', "json"),
    ("payload=[]", "payload=[]", "form"),
    ("payload not json", "payload=%7Bnot-json", "form"),
    ("payload a string", payload("block_actions"), "form"),
    ("payload null", payload(None), "form"),
    ("payload deep", urlencode([("payload", deep(1000))]), "form"),
    ("payload deep object", urlencode([("payload", '{"a":' * 1000 + "1" + "}" * 1000)]), "form"),
    ("json array", "[1, 2]", "json"),
    ("json deep", deep(1000), "json"),
    ("json not json", "{oops", "json"),
    ("no type", payload({"user": USER}), "form"),
    ("type not a string", payload({"type": ["block_actions"]}), "form"),
    ("unknown type", payload({"type": "made_up", "user": USER}), "form"),
    # slash commands
    ("slash without command", slash(command=None), "form"),
    ("slash without text", slash(text=None), "form"),
    ("slash without user", slash(user_id=None), "form"),
    ("slash without channel", slash(channel_id=None), "form"),
    ("slash other command", slash(command="/other"), "form"),
    ("slash without response_url", slash(response_url=None, text="campaigns"), "form"),
    ("slash huge text", slash(text="x" * 200_000), "form"),
    # block_actions
    ("actions not a list", payload(actions(actions="x")), "form"),
    ("actions empty", payload(actions(actions=[])), "form"),
    ("action not an object", payload(actions(actions=["x"])), "form"),
    ("action_id not a string", payload(actions(actions=[{"action_id": 5, "value": "1"}])), "form"),
    (
        "action value an object",
        payload(actions(actions=[{"action_id": "control:start", "value": {"a": 1}}])),
        "form",
    ),
    (
        "action value an int",
        payload(actions(actions=[{"action_id": "campaign:show", "value": 1}])),
        "form",
    ),
    ("actions without user", payload({k: v for k, v in actions().items() if k != "user"}), "form"),
    ("actions user a string", payload(actions(user="UADMIN")), "form"),
    ("actions user id an int", payload(actions(user={"id": 5})), "form"),
    ("actions team a string", payload(actions(team="T0001")), "form"),
    ("actions channel a string", payload(actions(channel="C0001")), "form"),
    ("actions container a list", payload(actions(container=[1])), "form"),
    ("actions view a string", payload(actions(view="V1", container={"type": "view"})), "form"),
    ("actions response_url an int", payload(actions(response_url=5)), "form"),
    ("actions trigger_id a list", payload(actions(trigger_id=[1])), "form"),
    (
        "approval value garbage",
        payload(actions(actions=[{"action_id": "approval:approve", "value": "9" * 400}])),
        "form",
    ),
    (
        "form button view without meta",
        payload(
            actions(
                actions=[{"action_id": "campaign_form:add_rule", "value": "1"}], view={"id": "V1"}
            )
        ),
        "form",
    ),
    # view_submission
    ("submission without view", payload(submission()), "form"),
    ("submission view a string", payload(submission("V1")), "form"),
    ("submission view without type", payload(submission(view(type=...))), "form"),
    ("submission view without callback_id", payload(submission(view(callback_id=...))), "form"),
    ("submission callback_id an int", payload(submission(view(callback_id=5))), "form"),
    ("submission state a list", payload(submission(view(state=[1]))), "form"),
    ("submission values a string", payload(submission(view(state={"values": "x"}))), "form"),
    ("submission without user", payload(submission(view(), user=None)), "form"),
    # view_closed
    ("closed without view", payload({"type": "view_closed", "user": USER, "team": TEAM}), "form"),
    ("closed view a string", payload({"type": "view_closed", "user": USER, "view": "V1"}), "form"),
    # block_suggestion
    (
        "suggestion without action_id",
        payload({"type": "block_suggestion", "user": USER, "value": "x"}),
        "form",
    ),
    (
        "suggestion value an int",
        payload(
            {
                "type": "block_suggestion",
                "user": USER,
                "action_id": "campaign_form:lists",
                "value": 5,
                "view": "V",
            }
        ),
        "form",
    ),
    # shortcuts
    (
        "shortcut without callback_id",
        payload({"type": "shortcut", "user": USER, "team": TEAM}),
        "form",
    ),
    (
        "shortcut callback_id an object",
        payload({"type": "shortcut", "user": USER, "callback_id": {"a": 1}}),
        "form",
    ),
    (
        "shortcut without user",
        payload({"type": "shortcut", "callback_id": "pause_all", "team": TEAM}),
        "form",
    ),
    (
        "message shortcut garbage",
        payload({"type": "message_action", "callback_id": 1, "user": "x"}),
        "form",
    ),
    # events
    ("event missing", json.dumps({"type": "event_callback", "team_id": "T0001"}), "json"),
    ("event a string", event("app_home_opened"), "json"),
    ("event without type", event({"user": ADMIN}), "json"),
    (
        "home opened user an int",
        event({"type": "app_home_opened", "user": 5, "tab": "home"}),
        "json",
    ),
    (
        "home opened event_id a list",
        event({"type": "app_home_opened", "user": ADMIN}, event_id=[1]),
        "json",
    ),
    ("url_verification without challenge", json.dumps({"type": "url_verification"}), "json"),
    (
        "url_verification challenge object",
        json.dumps({"type": "url_verification", "challenge": {"a": 1}}),
        "json",
    ),
]
SIGNED_GARBAGE += [
    (f"{cb} meta {str(meta)[:12]!r}", payload(submission(view(cb, private_metadata=meta))), "form")
    for cb in FORM_CALLBACKS
    for meta in META_GARBAGE
]

CONTENT_TYPES = {"form": "application/x-www-form-urlencoded", "json": "application/json"}


async def post_raw(
    bot: Bot,
    body: bytes | str,
    *,
    kind: str = "form",
    timestamp: str | None = None,
    signature: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, str]:
    """POST bytes as they are, signed over the same bytes unless told otherwise."""
    import hashlib
    import hmac

    raw = body.encode() if isinstance(body, str) else body
    real = bot.slack.response_url("default")
    for fake_url, url in ((quote_plus(RESPONSE_URL), quote_plus(real)), (RESPONSE_URL, real)):
        raw = raw.replace(fake_url.encode(), url.encode())
    ts = timestamp if timestamp is not None else str(int(time.time()))
    if signature is None:
        mac = hmac.new(SIGNING_SECRET.encode(), b"v0:" + ts.encode() + b":" + raw, hashlib.sha256)
        signature = "v0=" + mac.hexdigest()
    hdrs = {
        "Content-Type": CONTENT_TYPES[kind],
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
        **(headers or {}),
    }
    session = bot.driver._session_or_new()
    async with session.post(bot.driver.url, data=raw, headers=hdrs) as resp:
        return resp.status, await resp.text()


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    return caplog


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        f"{r.name}: {r.getMessage()[:200]}"
        for r in caplog.records
        if r.exc_info or "Traceback" in r.getMessage()
    ]


async def test_signed_garbage_never_gets_a_5xx_or_a_traceback(
    bot: Bot, logs: pytest.LogCaptureFixture
) -> None:
    failures = []
    for name, body, kind in SIGNED_GARBAGE:
        status, text = await post_raw(bot, body, kind=kind)
        if status >= 500 or "Traceback" in text:
            failures.append((name, status, text[:100]))
    await bot.settle()
    assert failures == [], failures
    assert tracebacks(logs) == []
    assert "Traceback" not in logs.text
    writes = [r for r in bot.sim.requests if r["method"] != "GET" and r["path"] != "/token"]
    assert writes == []

