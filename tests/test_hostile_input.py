"""Hostile input, property-based: whatever Slack (or a forger with the signing secret) sends.

Random, missing, oversized and wrongly typed slash-command text, button values and
view_submission state; unknown action ids; forged private_metadata and values naming
campaigns or tokens that do not exist. Never a 5xx, never a traceback shown to a
user, never a dialer write from an invalid request.

Hypothesis drives a sync function (it does not run async tests); that function runs
in a worker thread and sends each example to the bot on the test's event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ADMIN, Bot
from tests.fake_slack import FakeSlack
from tests.slack_driver import _payload_body, block_actions_body, view_submission_body

EXAMPLES = 150
LEAKS = re.compile(r"Traceback|File \"|Error:|Exception|\bNone\b|object at 0x")

ACTION_IDS = [
    "control:start",
    "control:unpause",
    "control:reload",
    "control:remove",
    "control:confirm",
    "control:cancel",
    "campaigns:page",
    "campaign:show",
    "approval:approve",
    "call_list:create",
    "campaign_form:add_rule",
]
CALLBACK_IDS = ["campaign_form", "call_list_form", "unknown_form"]
SUBCOMMANDS = [
    "help",
    "campaigns",
    "campaign",
    "ivr",
    "lists",
    "start",
    "unpause",
    "reload",
    "remove",
    "history",
    "subscribe",
    "unsubscribe",
    "subscriptions",
    "new",
    "edit",
    "upload",
    "access",
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
# Campaign ids and tokens that do not exist (the simulator has campaigns 1 and 2).
missing_ids = st.integers(min_value=1000, max_value=10**15).map(str) | st.sampled_from(
    ["0", "-1", "1e9", "0x10", "１２", "9" * 300, "#1000", " 1000", ""]
)
words = st.text(max_size=30) | missing_ids | st.sampled_from(["<!channel>", "`x`", "&amp;", "*"])
slash_texts = (
    st.text(max_size=200)
    | st.text(min_size=3000, max_size=5000)
    | st.builds(
        lambda sub, args: " ".join([sub, *args]),
        st.sampled_from(SUBCOMMANDS),
        st.lists(words, max_size=4),
    )
)


button_values = (
    missing_ids
    | st.text(max_size=100)
    | st.text(min_size=2000, max_size=2100)
    | st.sampled_from(["²", "١٢", "⑫", "12\n", " 7", "-1", "0", "1e3"])
)
action_ids = st.sampled_from(ACTION_IDS) | st.text(max_size=40)
users = st.sampled_from([ADMIN, "UNOBODY", "", "W123"])


def run_on(
    loop: asyncio.AbstractEventLoop, make: Callable[..., Coroutine[Any, Any, Any]]
) -> Callable[..., Any]:
    """Call an async function on the test's loop from Hypothesis' worker thread."""

    def call(*args: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(make(*args), loop).result(30)

    return call


def check_nothing_leaked(bot: Bot) -> None:
    writes = [
        r
        for r in bot.sim.requests
        if r["method"] in ("PUT", "POST", "DELETE") and r["path"] != "/token"
    ]
    assert writes == [], writes[:3]
    for call in bot.slack.calls:
        text = FakeSlack.texts(call.args) if isinstance(call.args, dict) else str(call.args)
        assert not LEAKS.search(text), (call.method, text[:500])


async def test_random_slash_command_text(bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    statuses: list[int] = []

    async def send(text: str, user: str) -> None:
        reply = await bot.command(text, user_id=user or "U0")
        statuses.append(reply.status)
        assert reply.status < 500, (text[:100], reply.status, reply.text[:200])
        if reply.json:
            assert not LEAKS.search(FakeSlack.texts(reply.json)), reply.text[:300]

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    @given(slash_texts, users)
    def prop(text: str, user: str) -> None:
        run_on(loop, send)(text, user)

    await asyncio.to_thread(prop)
    await bot.settle(30)
    assert len(statuses) >= EXAMPLES
    check_nothing_leaked(bot)


async def test_random_button_clicks(bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    url = bot.slack.response_url("default")

    async def click(action_id: str, value: str, user: str, metadata: str) -> None:
        view = {"id": "V1", "private_metadata": metadata, "callback_id": "campaign_form"}
        body = block_actions_body(
            action_id,
            value,
            user_id=user or "U0",
            channel_id="C0001",
            response_url=url,
            view=view if metadata else None,
        )
        reply = await bot.driver.post(body)
        assert reply.status < 500, (action_id, value[:100], reply.status)

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    @given(action_ids, button_values, users, st.sampled_from(["", "{}", '{"campaign_id": 1000}']))
    def prop(action_id: str, value: str, user: str, metadata: str) -> None:
        run_on(loop, click)(action_id, value, user, metadata)

    await asyncio.to_thread(prop)
    await bot.settle(30)
    check_nothing_leaked(bot)


async def test_wrongly_typed_and_missing_payload_fields(bot: Bot) -> None:
    """The JSON payload itself mangled: values of the wrong type, keys missing."""
    loop = asyncio.get_running_loop()
    url = bot.slack.response_url("default")

    async def post(payload: dict[str, Any]) -> None:
        reply = await bot.driver.post(_payload_body(payload))
        assert reply.status < 500, (json.dumps(payload, default=str)[:300], reply.status)

    def mangle(action_id: str, replace: dict[str, Any], drop: list[str]) -> dict[str, Any]:
        base = json.loads(
            __import__("urllib.parse").parse.parse_qs(
                block_actions_body(
                    action_id, "1000", user_id=ADMIN, channel_id="C0001", response_url=url
                )
            )["payload"][0]
        )
        action = base["actions"][0]
        for key, value in replace.items():
            action[key] = value
        for key in drop:
            base.pop(key, None)
            action.pop(key, None)
        return base

    fields = st.sampled_from(["value", "block_id", "type", "selected_option", "action_id"])
    top = st.sampled_from(["user", "actions", "channel", "container", "team", "response_url"])

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        st.sampled_from(ACTION_IDS),
        st.dictionaries(fields, json_values, max_size=3),
        st.lists(top | fields, max_size=2),
    )
    def prop(action_id: str, replace: dict[str, Any], drop: list[str]) -> None:
        run_on(loop, post)(mangle(action_id, replace, drop))

    await asyncio.to_thread(prop)
    await bot.settle(30)
    check_nothing_leaked(bot)


@pytest.mark.slow
async def test_random_view_submissions(bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    block_ids = st.text(max_size=20) | st.sampled_from(
        ["name", "caller_id", "call_lists", "ivr", "start_time", "end_time", "week_days", "file"]
    )
    element = st.dictionaries(
        st.sampled_from(["type", "value", "selected_option", "selected_options", "selected_time"]),
        json_values,
        max_size=3,
    )
    state = st.dictionaries(block_ids, st.dictionaries(st.text(max_size=10), element), max_size=6)
    metadata = (
        st.text(max_size=100)
        | st.text(min_size=3000, max_size=3200)
        | json_values.map(json.dumps)
        | st.builds(
            lambda cid: json.dumps({"campaign_id": cid, "mode": "edit"}),
            st.integers(1000, 10**12),
        )
    )

    async def submit(callback_id: str, values: dict[str, Any], meta: str) -> None:
        body = view_submission_body(callback_id, values, user_id=ADMIN, private_metadata=meta)
        reply = await bot.driver.post(body)
        assert reply.status < 500, (callback_id, meta[:100], reply.status)
        if reply.json:
            assert not LEAKS.search(json.dumps(reply.json)), reply.text[:300]

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(CALLBACK_IDS) | st.text(max_size=30), state, metadata)
    def prop(callback_id: str, values: dict[str, Any], meta: str) -> None:
        run_on(loop, submit)(callback_id, values, meta)

    await asyncio.to_thread(prop)
    await bot.settle(30)
    check_nothing_leaked(bot)


async def test_unicode_digit_button_value_is_refused(bot: Bot) -> None:
    """'²'.isdigit() is True, but it is no campaign id: refused without a dialer call."""
    reply = await bot.action("control:start", "²")
    assert reply.status == 200
    await bot.settle()
    [answer] = bot.slack.calls_to("response_url")
    assert "That button is not valid" in FakeSlack.texts(answer.args)
    assert bot.sim.requests == []


async def test_block_action_without_action_id_is_refused(bot: Bot) -> None:
    """Slack never sends one: refused 400 before any listener, and nothing runs."""
    payload = {
        "type": "block_actions",
        "user": {"id": ADMIN},
        "team": {"id": "T0001"},
        "actions": [{"type": "button", "value": "1", "block_id": "b"}],
    }
    reply = await bot.driver.post(_payload_body(payload))
    assert reply.status == 400
    await bot.settle()
    assert [c.method for c in bot.slack.calls if c.method != "auth.test"] == []


async def test_invalid_click_without_response_url_is_answered(bot: Bot) -> None:
    """A click inside a modal has no response_url: the answer goes to the user's DM."""
    reply = await bot.action("control:start", "", response_url=None)
    assert reply.status == 200
    await bot.settle()
    [answer] = bot.slack.calls_to("chat.postMessage")
    assert answer.args["channel"] == ADMIN
    assert "That button is not valid" in FakeSlack.texts(answer.args)


SURFACES = [
    "block_actions",
    "view_submission",
    "view_closed",
    "block_suggestion",
    "shortcut",
    "message_action",
    "event_callback",
    "url_verification",
]


async def test_random_signed_payloads_on_every_surface(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    """Whole payloads made up at random, of every surface's type, signed: never a 5xx and
    never a traceback in the log (tests/test_endpoint.py lists the kinds one by one)."""
    caplog.set_level(logging.INFO)
    loop = asyncio.get_running_loop()
    user = st.fixed_dictionaries({"id": st.sampled_from([ADMIN, "UNOBODY"])}) | json_values
    view = st.fixed_dictionaries(
        {
            "type": st.just("modal"),
            "callback_id": st.sampled_from(CALLBACK_IDS + ["approval:decide"]),
        },
        optional={
            "private_metadata": st.text(max_size=50) | json_values.map(json.dumps) | json_values,
            "state": st.fixed_dictionaries({"values": json_values}) | json_values,
            "id": st.text(max_size=5) | json_values,
        },
    )
    action = st.fixed_dictionaries(
        {"action_id": st.sampled_from(ACTION_IDS)},
        optional={"value": json_values, "selected_option": json_values, "type": json_values},
    )
    payloads = st.fixed_dictionaries(
        {"type": st.sampled_from(SURFACES)},
        optional={
            "user": user,
            "team": json_values,
            "view": view | json_values,
            "actions": st.lists(action, max_size=2) | json_values,
            "action_id": st.sampled_from(ACTION_IDS) | json_values,
            "callback_id": st.sampled_from(["pause_all", "x"]) | json_values,
            "event": st.fixed_dictionaries(
                {"type": st.just("app_home_opened")}, optional={"user": user, "tab": json_values}
            )
            | json_values,
            "value": json_values,
            "trigger_id": st.text(max_size=10) | json_values,
            "challenge": json_values,
        },
    )

    statuses: list[int] = []

    async def post(payload: dict[str, Any]) -> None:
        body = (
            json.dumps(payload)
            if payload["type"] in ("event_callback", "url_verification")
            else _payload_body(payload)
        )
        kind = {"Content-Type": "application/json"} if body.startswith("{") else None
        reply = await bot.driver.post(body, headers=kind)
        assert reply.status < 500, (json.dumps(payload)[:300], reply.status)
        statuses.append(reply.status)

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    @given(payloads)
    def prop(payload: dict[str, Any]) -> None:
        run_on(loop, post)(payload)

    await asyncio.to_thread(prop)
    # Which of the random payloads are well-formed is chance: one of each, stated.
    well_formed = {
        "type": "block_actions",
        "user": {"id": ADMIN},
        "actions": [{"action_id": "campaign:show", "value": "1"}],
    }
    statuses.clear()
    await post(well_formed)
    await post({"type": "block_actions", "actions": "not a list"})
    assert statuses == [200, 400], "a well-formed payload is acted on, a bad one refused"
    await bot.settle(30)
    check_nothing_leaked(bot)
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.exc_info], [
        r.getMessage() for r in caplog.records if r.exc_info
    ][:3]
