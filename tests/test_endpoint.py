"""The public endpoint against garbage: whoever can reach /slack/events.

Unsigned or badly signed requests are refused with 401 before anything parses the body,
with one log line (rate-limited) and no traceback. Signed but malformed payloads, on
every surface Slack has, get a 4xx or the polite answer that surface expects, never a
5xx and never a traceback in the log. A signed request seen before is not acted on
again. Approvals are checked in the channel the request was made in, whatever the
dialog's private_metadata says.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlencode

import pytest
from aiohttp import web

from bot.app import build_app, build_web_app
from bot.endpoint import QuietLog, Signatures
from store import Store
from tests.conftest import ADMIN, SIGNING_SECRET, Bot, start_bot, stop_bot
from tests.fake_slack import FakeSlack
from tests.helpers_access import (
    audit_rows,
    button_value,
    click_as,
    decide_as,
    grant,
    run_as,
    text_of,
)
from tests.slack_driver import SlackDriver, sign, slash_command_body
from tests.test_dialects import RUNNING, dbot, set_state_outside_slack  # noqa: F401

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
    headers: dict[str, str | None] | None = None,
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
    hdrs = {k: v for k, v in hdrs.items() if v is not None}
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


# ---- unsigned: 401 before anything reads the body ------------------------------------------


def unsigned_garbage() -> list[tuple[str, bytes, dict[str, Any]]]:
    now = str(int(time.time()))
    good_looking = "v0=" + "0" * 64
    return [
        ("non-numeric timestamp", b"payload=[]", {"timestamp": "abc"}),
        ("unicode digits timestamp", b"payload=[]", {"timestamp": "\u0661\u0662"}),
        ("float timestamp", b"payload=[]", {"timestamp": now + ".5"}),
        ("huge timestamp", b"payload=[]", {"timestamp": "9" * 400}),
        ("no timestamp", b"payload=[]", {"headers": {"X-Slack-Request-Timestamp": None}}),
        ("no signature", b"payload=[]", {"headers": {"X-Slack-Signature": None}}),
        ("stale but signed", slash().encode(), {"timestamp": str(int(time.time()) - 301)}),
        ("signature v1", b"payload=[]", {"signature": "v1=" + "0" * 64}),
        ("signature not hex", b"payload=[]", {"signature": "v0=" + "z" * 64}),
        ("invalid utf-8", b"payload=\xff\xfe", {"signature": good_looking}),
        ("payload=[]", b"payload=[]", {"signature": good_looking}),
        ("json array", b"[1]", {"signature": good_looking, "kind": "json"}),
        ("deep json", deep(1000).encode(), {"signature": good_looking, "kind": "json"}),
    ]


async def test_unsigned_garbage_gets_401_and_one_log_line(
    bot: Bot, logs: pytest.LogCaptureFixture
) -> None:
    cases = unsigned_garbage()
    for name, body, kw in cases:
        status, text = await post_raw(bot, body, **kw)
        assert status == 401, (name, status, text[:200])
    await bot.settle()
    refusals = [r for r in logs.records if "with 401" in r.getMessage()]
    assert len(refusals) == 1, [r.getMessage() for r in refusals]  # at most one per 10 s
    assert tracebacks(logs) == [] and "Traceback" not in logs.text
    assert bot.sim.requests == []
    assert [c.method for c in bot.slack.calls if c.method != "auth.test"] == []


def test_the_quiet_log_says_how_many_it_left_out(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    quiet = QuietLog(logging.getLogger("test.quiet"), 10.0, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="test.quiet"):
        for t in (0.0, 1.0, 2.0, 9.9, 10.5, 11.0):
            now[0] = t
            quiet.warning("refused: %s", "why")
    assert [r.getMessage() for r in caplog.records] == [
        "refused: why",
        "refused: why (3 more since the last such line, not logged)",
    ]
    assert quiet.suppressed == 1


def test_signature_checks_the_bytes_as_they_came() -> None:
    checks = Signatures(SIGNING_SECRET, clock=lambda: 1_700_000_000)
    raw = b"payload=\xff"  # not UTF-8: slack_sdk's verifier would raise on it
    signed = sign_bytes(raw, "1700000000")
    headers = {"X-Slack-Request-Timestamp": "1700000000", "X-Slack-Signature": signed}
    assert checks.problem(raw, headers) is None
    assert checks.problem(raw + b"x", headers) == "a wrong signature"
    assert sign(SIGNING_SECRET, "1700000000", "abc") == sign_bytes(b"abc", "1700000000")
    stale = {**headers, "X-Slack-Request-Timestamp": "1699999699"}
    assert checks.problem(raw, stale) == "a timestamp outside the 5-minute window"


def sign_bytes(raw: bytes, ts: str) -> str:
    import hashlib
    import hmac

    mac = hmac.new(SIGNING_SECRET.encode(), b"v0:" + ts.encode() + b":" + raw, hashlib.sha256)
    return "v0=" + mac.hexdigest()


# ---- replay: a signed request is acted on once -------------------------------------------------


def controls(bot: Bot) -> list[dict[str, Any]]:
    return [r for r in bot.sim.requests if r["path"].endswith("/control")]


def pause_rows(bot: Bot) -> list[dict[str, Any]]:
    store = bot.services.store
    with store._lock:
        return list(store.db.query("SELECT * FROM audit_requests WHERE action = 'pause'"))


async def test_a_replayed_command_runs_once(dbot: Bot) -> None:  # noqa: F811
    """The same signed `/dialer pause 1`, byte for byte, 4 s later (inside Slack's 5
    minutes): the copy is answered 200 with nothing done; one control call, one audit row."""
    await set_state_outside_slack(dbot.sim, 1, RUNNING[dbot.sim.dialect.name])
    body = slash_command_body(
        "pause 1", user_id=ADMIN, response_url=dbot.slack.response_url("default")
    )
    ts = str(int(time.time()) - 4)
    signature = sign(SIGNING_SECRET, ts, body)
    first = await dbot.driver.post(body, timestamp=ts, signature=signature)
    assert first.status == 200
    await dbot.settle()
    assert len(controls(dbot)) == 1
    # Someone resumes it in the dialer's portal; the copy must not pause it again.
    await set_state_outside_slack(dbot.sim, 1, RUNNING[dbot.sim.dialect.name])
    again = await dbot.driver.post(body, timestamp=ts, signature=signature)
    assert (again.status, again.text) == (200, "")
    await dbot.settle()
    assert len(controls(dbot)) == 1
    assert [r["outcome"] for r in pause_rows(dbot)] == ["ok"]
    assert dbot.services.store.seen.count() >= 1


async def test_copies_sent_at_once_run_once(bot: Bot) -> None:
    """Ten copies of one signed `/dialer pause 1` at the same moment (they share one
    batched write): exactly one is acted on."""
    await set_state_outside_slack(bot.sim, 1, RUNNING["guide"])
    body = slash_command_body("pause 1", user_id=ADMIN, response_url=bot.slack.response_url("d"))
    ts = str(int(time.time()))
    signature = sign(SIGNING_SECRET, ts, body)
    replies = await asyncio.gather(
        *(bot.driver.post(body, timestamp=ts, signature=signature) for _ in range(10))
    )
    assert [r.status for r in replies] == [200] * 10
    await bot.settle()
    assert len(controls(bot)) == 1
    assert [r["outcome"] for r in pause_rows(bot)] == ["ok"]
    assert len(bot.replies("d")) == 1, "one command, one answer"


async def test_a_locked_database_holds_no_ack_and_a_copy_still_runs_once(
    bot: Bot, logs: pytest.LogCaptureFixture
) -> None:
    """When the seen-requests row cannot be written in time, the ack does not wait for it:
    this process's own record of the signatures it took refuses a copy, and the command
    runs once, as soon as its pending audit row can be written."""
    await set_state_outside_slack(bot.sim, 1, RUNNING["guide"])
    body = slash_command_body("pause 1", user_id=ADMIN, response_url=bot.slack.response_url("d"))
    ts = str(int(time.time()))
    signature = sign(SIGNING_SECRET, ts, body)
    other = sqlite3.connect(bot.services.store.path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        started = time.perf_counter()
        first = await bot.driver.post(body, timestamp=ts, signature=signature)
        assert first.status == 200
        assert time.perf_counter() - started < 1.0, "a locked file must not hold the ack"
        copy = await bot.driver.post(body, timestamp=ts, signature=signature)
        assert copy.status == 200
        other.execute("ROLLBACK")
    finally:
        other.close()
    await bot.settle()
    assert len(controls(bot)) == 1
    line = next(r for r in logs.records if "could not record a request" in r.getMessage())
    assert "database is locked" in line.getMessage() and not tracebacks(logs)
    again = await bot.driver.post(body, timestamp=ts, signature=signature)
    assert again.status == 200
    await bot.settle()
    assert len(controls(bot)) == 1, "the copy after the lock is still the same command"


async def test_slacks_retry_of_an_event_is_handled_once(bot: Bot) -> None:
    """Slack's retry is a new delivery (new timestamp, new signature) of the same event_id:
    it passes the replay check and the App Home's own dedup answers it."""
    body = event({"type": "app_home_opened", "user": ADMIN, "tab": "home"}, event_id="EvRetry")
    now = int(time.time())
    first = await post_raw(bot, body, kind="json", timestamp=str(now - 2))
    assert first[0] == 200
    await bot.settle()
    published = len(bot.slack.calls_to("views.publish"))
    assert published >= 1
    retry = await post_raw(
        bot,
        body,
        kind="json",
        timestamp=str(now),
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert retry == (200, "")
    await bot.settle()
    assert len(bot.slack.calls_to("views.publish")) == published
    assert bot.services.store.seen.count() == 2, "the retry was a new request, not a replay"


def test_first_sight_is_one_insert_shared_by_two_processes(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    with Store(path) as one, Store(path) as two:
        now = time.time()
        assert one.seen.first_sight("v0=aa", int(now), now) is True
        assert two.seen.first_sight("v0=aa", int(now), now) is False
        assert one.seen.first_sight("v0=aa", int(now), now) is False
        assert two.seen.first_sight("v0=bb", int(now), now) is True
        # Outside the window a signature is refused by the check anyway: pruned.
        later = now + 400
        assert two.seen.first_sight("v0=cc", int(later), later) is True
        assert one.seen.count() == 1


# ---- approvals: the role counts where the request was made --------------------------------------


@pytest.fixture
async def abot(simulator: Any, fake_slack: FakeSlack, tmp_path: Path) -> AsyncIterator[Bot]:
    b = await start_bot(
        simulator,
        fake_slack,
        tmp_path / "bot.db",
        approval_required="remove",
        approval_channel="CAPPR",
    )
    await grant(b, "UOTHER", "admin", ["COTHER"])  # an admin, but only in #other
    await grant(b, "UOPS", "admin", ["C0001"])  # an admin in #ops, where requests are made
    yield b
    await stop_bot(b)


async def ask_remove(bot: Bot) -> int:
    replies = await run_as(bot, "remove 1", ADMIN, channel="C0001")
    await click_as(bot, "control:confirm", button_value(replies[-1].args, "control:confirm"), ADMIN)
    return bot.services.store.approvals.open_requests()[-1].id


async def test_a_forged_dialog_naming_another_channel_is_refused(abot: Bot) -> None:
    approval_id = await ask_remove(abot)
    forged = json.dumps({"id": approval_id, "verb": "approve", "channel": "COTHER"})
    reply = await abot.driver.submit(
        "approval:decide", {}, user_id="UOTHER", private_metadata=forged
    )
    assert reply.status == 200
    await abot.settle()
    assert 1 in abot.sim.state.campaigns and controls(abot) == []
    assert abot.services.store.approvals.get(approval_id).state == "open"  # type: ignore[union-attr]
    told = FakeSlack.texts(abot.slack.calls_to("chat.postMessage")[-1])
    assert "needs the *admin* role" in told
    denied = [
        (r["action"], r["outcome"], r["user_id"], r["channel_id"])
        for r in audit_rows(abot)
        if r["outcome"] == "denied"
    ]
    assert denied == [("approve remove", "denied", "UOTHER", "C0001")]


async def test_a_click_in_another_channel_counts_the_role_where_it_was_asked(abot: Bot) -> None:
    approval_id = await ask_remove(abot)
    # A forged click naming #other, where UOTHER is an admin: refused.
    replies = await click_as(abot, "approval:approve", str(approval_id), "UOTHER", channel="COTHER")
    assert "needs the *admin* role" in text_of(replies)
    assert abot.slack.calls_to("views.open") == []
    # An admin of #ops clicking the copy in the approvers' channel: that role counts.
    await decide_as(abot, "approve", approval_id, "UOPS")
    assert 1 not in abot.sim.state.campaigns and len(controls(abot)) == 1


async def test_a_schedule_approval_counts_the_role_where_it_was_asked(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    b = await start_bot(simulator, fake_slack, tmp_path / "s.db", approval_required="start")
    try:
        await grant(b, "UOTHER", "operator", ["COTHER"])
        replies = await run_as(b, "start 1 in 30m", ADMIN, channel="C0001")
        token = button_value(replies[-1].args, "schedule:confirm")
        await click_as(b, "schedule:confirm", token, ADMIN)
        [sched] = await b.services.store.run(b.services.store.schedules.open)
        assert sched.state == "awaiting" and sched.channel_id == "C0001"
        replies = await click_as(b, "schedule:approve", str(sched.id), "UOTHER", channel="COTHER")
        assert "needs the *operator* role" in text_of(replies)
        fresh = await b.services.store.run(b.services.store.schedules.get, sched.id)
        assert fresh is not None and fresh.state == "awaiting"
        assert [
            (r["action"], r["outcome"], r["channel_id"])
            for r in audit_rows(b)
            if r["user_id"] == "UOTHER"
        ] == [("approve start", "denied", "C0001")]
    finally:
        await stop_bot(b)


async def test_the_error_handler_answers_input_errors_in_one_line(
    bot: Bot, logs: pytest.LogCaptureFixture
) -> None:
    """A listener that trips over a payload (KeyError, TypeError, ...) gets 400 and one
    line naming where, no traceback; a fault of the bot's own keeps its traceback."""
    app = build_app(bot.services)

    @app.action("test:input")
    async def trips(body: dict[str, Any]) -> None:
        body["no such field"]

    @app.action("test:fault")
    async def faults() -> None:
        raise OSError("disk on fire")

    runner = web.AppRunner(build_web_app(app, bot.services))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    driver = SlackDriver(f"http://127.0.0.1:{port}", SIGNING_SECRET, response_url=RESPONSE_URL)
    try:
        assert (await driver.action("test:input", "1")).status == 400
        [line] = [r for r in logs.records if "could not use" in r.getMessage()]
        assert line.exc_info is None
        assert "KeyError at test_endpoint.py:" in line.getMessage()
        assert "Traceback" not in logs.text
        assert (await driver.action("test:fault", "1")).status == 500
        [fault] = [r for r in logs.records if r.exc_info]
        assert fault.exc_info is not None and isinstance(fault.exc_info[1], OSError)
    finally:
        await driver.close()
        await runner.cleanup()
