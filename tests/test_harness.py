"""Tests for the Slack-side harness itself: if these lie, every bot test lies with them."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, parse_qsl

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import Clock, SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tests.block_checks import (
    assert_escaped,
    assert_valid_blocks,
    assert_valid_view,
    contains_unescaped_mention,
    slack_escape,
)
from tests.fake_slack import FakeSlack
from tests.slack_driver import (
    SlackDriver,
    block_actions_body,
    select_value,
    sign,
    slash_command_body,
    text_value,
    view_submission_body,
)

# Slack's worked example of request signing.
EXAMPLE_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
EXAMPLE_TS = "1531420618"
EXAMPLE_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    "&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    "&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    "%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
EXAMPLE_SIG = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
SECRET = "test-signing-secret"


class FixedClock(Clock):
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    f = await FakeSlack.start()
    yield f
    await f.stop()


@pytest.fixture
async def client(fake: FakeSlack) -> AsyncIterator[AsyncWebClient]:
    c = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
    yield c
    if c.session is not None:
        await c.session.close()


# ------------------------------------------------------------------ signing


def test_sign_matches_slack_worked_example() -> None:
    assert sign(EXAMPLE_SECRET, EXAMPLE_TS, EXAMPLE_BODY) == EXAMPLE_SIG
    assert sign(EXAMPLE_SECRET, EXAMPLE_TS, EXAMPLE_BODY + "x") != EXAMPLE_SIG


def test_slack_sdk_verifier_accepts_example_and_our_signatures() -> None:
    verifier = SignatureVerifier(EXAMPLE_SECRET, clock=FixedClock(int(EXAMPLE_TS) + 10))
    assert verifier.is_valid(EXAMPLE_BODY, EXAMPLE_TS, EXAMPLE_SIG)
    body = slash_command_body("list", response_url="http://127.0.0.1:1/response/k")
    assert verifier.is_valid(body, EXAMPLE_TS, sign(EXAMPLE_SECRET, EXAMPLE_TS, body))
    assert not verifier.is_valid(body, EXAMPLE_TS, sign("other-secret", EXAMPLE_TS, body))
    stale = SignatureVerifier(EXAMPLE_SECRET, clock=FixedClock(int(EXAMPLE_TS) + 301))
    assert not stale.is_valid(EXAMPLE_BODY, EXAMPLE_TS, EXAMPLE_SIG)


def test_slash_command_body_field_order_and_values() -> None:
    body = slash_command_body(
        "start 12 <!channel>", response_url="http://x/response/a", trigger_id="1.2.3"
    )
    pairs = parse_qsl(body, keep_blank_values=True)
    assert [k for k, _ in pairs] == [
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "api_app_id",
        "is_enterprise_install",
        "response_url",
        "trigger_id",
    ]
    d = dict(pairs)
    assert d["command"] == "/dialer" and d["text"] == "start 12 <!channel>"
    assert d["user_id"] == "UADMIN" and d["trigger_id"] == "1.2.3"
    assert "command=%2Fdialer" in body


def test_block_actions_and_view_submission_payloads() -> None:
    body = block_actions_body(
        "confirm", "tok-1", user_id="U2", channel_id="C9", response_url="http://x/response/r"
    )
    payload = json.loads(parse_qs(body)["payload"][0])
    assert payload["type"] == "block_actions"
    assert payload["user"]["id"] == "U2" and payload["channel"]["id"] == "C9"
    assert payload["actions"][0] == {
        **payload["actions"][0],
        "action_id": "confirm",
        "value": "tok-1",
        "block_id": "b",
        "type": "button",
    }
    assert payload["container"]["type"] == "message" and "message" not in payload
    msg = {"type": "message", "ts": "1700000000.000500", "text": "hi"}
    payload = json.loads(
        parse_qs(
            block_actions_body(
                "a", "v", user_id="U", channel_id="C", response_url=None, message=msg
            )
        )["payload"][0]
    )
    assert payload["container"]["message_ts"] == "1700000000.000500"
    assert payload["message"] == msg and "response_url" not in payload

    state = {"name": {"name": text_value("Promo")}, "ivr": {"ivr": select_value("TUxw53xCBf")}}
    body = view_submission_body("create", state, user_id="U3", private_metadata='{"c":"C1"}')
    payload = json.loads(parse_qs(body)["payload"][0])
    assert payload["type"] == "view_submission"
    assert payload["view"]["callback_id"] == "create"
    assert payload["view"]["state"]["values"] == state
    assert payload["view"]["private_metadata"] == '{"c":"C1"}'


# ------------------------------------------------------------------ FakeSlack


async def test_records_chat_post_message_from_real_client(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Spring promo* running"}}]
    r1 = await client.chat_postMessage(channel="C0001", text="fallback", blocks=blocks)
    r2 = await client.chat_postMessage(channel="C0001", text="second")
    assert r1["ok"] and r1["channel"] == "C0001"
    assert r1["message"]["blocks"] == blocks
    assert float(r2["ts"]) > float(r1["ts"])
    assert len(r1["ts"].split(".")[1]) == 6
    calls = fake.calls_to("chat.postMessage")
    assert len(calls) == 2
    first = calls[0]
    assert first.args["blocks"] == blocks  # decoded, not a JSON string
    assert first.token_present is True and first.status == 200
    assert "xoxb-test" not in json.dumps(first.args)
    assert fake.texts(first) == "fallback\n*Spring promo* running"


async def test_form_encoded_json_fields_are_decoded_and_get_params_read(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    blocks = [{"type": "divider"}]
    posted = await client.chat_postMessage(channel="C1", text="x")
    await client.api_call(
        "chat.update", data={"channel": "C1", "ts": posted["ts"], "blocks": json.dumps(blocks)}
    )
    assert fake.calls_to("chat.update")[0].args["blocks"] == blocks
    info = await client.users_info(user="U42")
    assert info["user"]["id"] == "U42" and info["user"]["tz"]
    conv = await client.conversations_info(channel="C0ABC")
    assert conv["channel"]["name"] == "chan-c0abc"
    auth = await client.auth_test()
    assert auth["user_id"] == "UBOT" and auth["team_id"] == "T0001"
    with pytest.raises(SlackApiError) as err:
        await client.api_call("nonsense.method")
    assert err.value.response["error"] == "unknown_method"


async def test_missing_token_is_not_authed(fake: FakeSlack) -> None:
    async with aiohttp.ClientSession() as s, s.post(fake.api_url + "auth.test") as resp:
        body = await resp.json()
    assert body == {"ok": False, "error": "not_authed"}
    assert fake.calls[0].token_present is False


async def test_wait_for_already_recorded_later_and_timeout(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    await client.chat_postMessage(channel="C1", text="early")
    got = await fake.wait_for("chat.postMessage", timeout=0.5)
    assert got[0].args["text"] == "early"

    async def later() -> None:
        await asyncio.sleep(0.05)
        await client.chat_postMessage(channel="C2", text="late")

    task = asyncio.create_task(later())
    start = time.monotonic()
    got = await fake.wait_for("chat.postMessage", lambda c: c.args["channel"] == "C2", timeout=3)
    assert got[0].args["text"] == "late"
    assert time.monotonic() - start < 1.0
    await task

    with pytest.raises(AssertionError, match=r"chat\.postMessage.*early"):
        await fake.wait_for("chat.postMessage", count=3, timeout=0.1)


async def test_fail_next_429_then_retry_handler_succeeds(fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=0)
    client = AsyncWebClient(
        token="xoxb-test",
        base_url=fake.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    resp = await client.chat_postMessage(channel="C1", text="hello")
    assert resp["ok"]
    calls = fake.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]


async def test_fail_next_429_has_retry_after_and_5xx_html(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    ts = (await client.chat_postMessage(channel="C1", text="x"))["ts"]
    fake.fail_next("chat.postMessage", status=429, retry_after=7)
    fake.fail_next("chat.update", status=503, html=True, error="upstream down")
    async with aiohttp.ClientSession() as s:
        headers = {"Authorization": "Bearer xoxb-test"}
        async with s.post(fake.api_url + "chat.postMessage", headers=headers) as resp:
            assert resp.status == 429 and resp.headers["Retry-After"] == "7"
            assert await resp.json() == {"ok": False, "error": "ratelimited"}
    with pytest.raises(SlackApiError) as err:
        await client.chat_update(channel="C1", ts=ts, text="x")
    assert err.value.response.status_code == 503
    # The fault was used up: the next call succeeds.
    assert (await client.chat_update(channel="C1", ts=ts, text="x"))["ok"]


async def test_set_delay_slows_the_answer(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.set_delay("views.open", 0.2)
    start = time.monotonic()
    await client.views_open(
        trigger_id="1.2.3",
        view={"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": []},
    )
    assert time.monotonic() - start >= 0.2


async def test_views_open_then_update_by_external_id_keeps_id(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    view = {
        "type": "modal",
        "external_id": "ext-1",
        "title": {"type": "plain_text", "text": "Loading"},
        "blocks": [],
    }
    opened = await client.views_open(trigger_id="1.2.3", view=view)
    vid = opened["view"]["id"]
    assert vid.startswith("V") and opened["view"]["hash"]
    updated = await client.views_update(
        external_id="ext-1", view={**view, "title": {"type": "plain_text", "text": "Ready"}}
    )
    assert updated["view"]["id"] == vid and updated["view"]["title"]["text"] == "Ready"
    with pytest.raises(SlackApiError) as err:
        await client.views_update(view_id=vid, hash="stale", view=view)
    assert err.value.response["error"] == "hash_conflict"
    assert fake.calls_to("views.update")[0].args["view"]["title"]["text"] == "Ready"


async def test_slack_rules_the_fake_shares_with_the_demo(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    """Strict where Slack is: single-use triggers, known messages, open modals, own URLs."""
    view = {"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": []}

    async def error_of(call: Any) -> str:
        with pytest.raises(SlackApiError) as err:
            await call
        return str(err.value.response["error"])

    opened = await client.views_open(trigger_id="7.8.9", view=view)
    assert await error_of(client.views_open(trigger_id="7.8.9", view=view)) == "invalid_trigger_id"
    assert await error_of(client.views_open(trigger_id="", view=view)) == "invalid_trigger_id"
    fake.close_view(opened["view"]["id"])
    assert await error_of(client.views_update(view_id=opened["view"]["id"], view=view)) == (
        "not_found"
    )
    home = {"type": "home", "blocks": []}
    published = await client.views_publish(user_id="U1", view=home)
    assert (await client.views_update(view_id=published["view"]["id"], view=home))["ok"]

    assert await error_of(client.chat_update(channel="C1", ts="1.2", text="x")) == (
        "message_not_found"
    )
    posted = await client.chat_postMessage(channel="C1", text="x")
    assert (await client.chat_delete(channel="C1", ts=posted["ts"]))["ok"]
    assert await error_of(client.chat_delete(channel="C1", ts=posted["ts"])) == (
        "message_not_found"
    )
    no_text = client.api_call("chat.postMessage", json={"channel": "C1"})
    assert await error_of(no_text) == "no_text"

    user_token = AsyncWebClient(token="xoxp-person", base_url=fake.api_url)
    assert await error_of(user_token.auth_test()) == "invalid_auth"

    async with aiohttp.ClientSession() as s:
        async with s.post(f"{fake.base_url}/response/never-issued", json={"text": "x"}) as r:
            assert r.status == 404
        async with s.post(fake.response_url("k"), data=b"not json") as r:
            assert r.status == 400
    assert [c.status for c in fake.calls_to("response_url")] == [404, 400]


async def test_files_info_and_download_need_bearer(fake: FakeSlack, client: AsyncWebClient) -> None:
    content = b"number\n+420601123456\n"
    fake.add_file("F1", "numbers.csv", content)
    info = await client.files_info(file="F1")
    f = info["file"]
    assert f["name"] == "numbers.csv" and f["size"] == len(content) and f["filetype"] == "csv"
    url = f["url_private_download"]
    async with aiohttp.ClientSession() as s:
        async with s.get(url, headers={"Authorization": "Bearer xoxb-test"}) as resp:
            assert resp.status == 200
            assert await resp.read() == content
        async with s.get(url) as resp:
            assert resp.status == 401
    assert [c.status for c in fake.calls_to("file_download")] == [200, 401]
    with pytest.raises(SlackApiError):
        await client.files_info(file="FNOPE")


async def test_files_upload_v2_three_steps_into_a_thread(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    """slack_sdk's files_upload_v2 against the stand-in: URL, bytes, completion in a thread."""
    parent = await client.chat_postMessage(channel="U1", text="summary")
    content = b"line,entry,reason\r\n3,nope,not a phone number\r\n"
    done = await client.files_upload_v2(
        channel=parent["channel"],
        thread_ts=parent["ts"],
        file=content,
        filename="invalid-numbers.csv",
        title="Invalid entries",
    )
    [step1] = fake.calls_to("files.getUploadURLExternal")
    assert step1.args["filename"] == "invalid-numbers.csv"
    assert int(step1.args["length"]) == len(content)
    file_id = step1.result["file_id"]
    assert step1.result["upload_url"].startswith(fake.base_url + "/upload/")
    [step2] = fake.calls_to("file_upload")
    assert step2.status == 200 and step2.args["file"] == file_id
    assert step2.args["content"] == content and not step2.token_present
    [step3] = fake.calls_to("files.completeUploadExternal")
    assert step3.args["files"] == [{"id": file_id, "title": "Invalid entries"}]
    assert (step3.args["channel_id"], step3.args["thread_ts"]) == ("U1", parent["ts"])
    assert done["file"]["id"] == file_id and done["file"]["title"] == "Invalid entries"
    assert fake.files[file_id].content == content
    assert fake.file_shares[file_id] == {"channel_id": "U1", "thread_ts": parent["ts"]}
    info = await client.files_info(file=file_id)
    assert info["file"]["size"] == len(content) and info["file"]["filetype"] == "csv"


async def test_upload_steps_are_checked_and_can_fail(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    async def error_of(call: Any) -> str:
        with pytest.raises(SlackApiError) as err:
            await call
        return str(err.value.response["error"])

    bad_length = client.files_getUploadURLExternal(filename="a.csv", length=0)
    assert await error_of(bad_length) == "invalid_arguments"
    url = await client.files_getUploadURLExternal(filename="a.csv", length=3)
    files = [{"id": url["file_id"], "title": "a"}]
    # Completing before the bytes came, or with an unknown id, finds no file.
    assert await error_of(client.files_completeUploadExternal(files=files)) == "file_not_found"
    async with aiohttp.ClientSession() as s:
        async with s.post(url["upload_url"], data=b"toolong") as r:
            assert r.status == 400  # not the announced length
        async with s.post(url["upload_url"], data=b"abc") as r:
            assert r.status == 200 and await r.text() == "OK - 3"
        async with s.post(f"{fake.base_url}/upload/FNOPE", data=b"abc") as r:
            assert r.status == 404
    assert [c.status for c in fake.calls_to("file_upload")] == [400, 200, 404]
    assert (await client.files_completeUploadExternal(files=files))["ok"]  # private file
    assert await error_of(client.files_completeUploadExternal(files=files)) == "file_not_found"

    fake.fail_next("files.getUploadURLExternal", status=200, error="missing_scope")
    with pytest.raises(SlackApiError) as err:
        await client.files_upload_v2(channel="C1", content="x", filename="x.csv")
    assert err.value.response["error"] == "missing_scope"
    assert fake.calls_to("file_upload")[3:] == []


async def test_response_url_is_recorded(fake: FakeSlack) -> None:
    async with (
        aiohttp.ClientSession() as s,
        s.post(fake.response_url("cmd1"), json={"text": "Done", "replace_original": True}) as r,
    ):
        assert r.status == 200 and await r.text() == "ok"
    (call,) = await fake.wait_for("response_url", lambda c: c.args["key"] == "cmd1")
    assert call.args == {"text": "Done", "replace_original": True, "key": "cmd1"}


# ------------------------------------------------------------------ driver against real Bolt


@pytest.fixture
async def bolt(fake: FakeSlack) -> AsyncIterator[str]:
    """A minimal Bolt app wired to FakeSlack, proving the harness talks Slack's dialect."""
    app = AsyncApp(
        client=AsyncWebClient(token="xoxb-test", base_url=fake.api_url),
        signing_secret=SECRET,
        process_before_response=True,
    )

    @app.command("/dialer")
    async def dialer(ack, command, respond) -> None:  # type: ignore[no-untyped-def]
        await ack(text=f"got {command['text']}")
        await respond(text=f"later {command['user_id']}")

    @app.action("confirm")
    async def confirm(ack, body, respond) -> None:  # type: ignore[no-untyped-def]
        await ack()
        await respond(text=f"confirmed {body['actions'][0]['value']}")

    @app.view("create")
    async def create(ack, view) -> None:  # type: ignore[no-untyped-def]
        name = view["state"]["values"]["name"]["name"]["value"]
        if not name:
            await ack(response_action="errors", errors={"name": "Name is required"})
        else:
            await ack()

    runner = web.AppRunner(app.web_app(path="/slack/events"), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


async def test_driver_against_bolt(fake: FakeSlack, bolt: str) -> None:
    driver = SlackDriver(bolt, SECRET, response_url=fake.response_url("default"))
    try:
        reply = await driver.command("list")
        # Bolt answers an ack with only text as a plain-text body.
        assert reply.status == 200 and reply.text == "got list" and reply.json is None
        assert reply.elapsed_ms > 0
        (call,) = await fake.wait_for("response_url")
        assert call.args["text"] == "later UADMIN" and call.args["key"] == "default"

        reply = await driver.action("confirm", "tok-9", response_url=fake.response_url("a1"))
        assert reply.status == 200
        (call,) = await fake.wait_for("response_url", lambda c: c.args["key"] == "a1")
        assert call.args["text"] == "confirmed tok-9"

        reply = await driver.submit("create", {"name": {"name": text_value(None)}})
        assert reply.json == {"response_action": "errors", "errors": {"name": "Name is required"}}
        reply = await driver.submit("create", {"name": {"name": text_value("Promo")}})
        assert reply.status == 200 and reply.json is None

        assert fake.calls_to("auth.test"), "Bolt calls auth.test on the first request"
    finally:
        await driver.close()


async def test_driver_bad_signature_and_stale_timestamp_get_401(fake: FakeSlack, bolt: str) -> None:
    async with SlackDriver(bolt, SECRET) as driver:
        body = slash_command_body("list", response_url=fake.response_url("x"))
        assert (await driver.post(body, signature="v0=" + "0" * 64)).status == 401
        stale = str(int(time.time()) - 600)
        assert (await driver.post(body, timestamp=stale)).status == 401
        forged = sign("wrong-secret", str(int(time.time())), body)
        assert (await driver.post(body, signature=forged)).status == 401
        assert (await driver.post(body)).status == 200
        # Only the correctly signed request reached the listener.
        assert len(await fake.wait_for("response_url")) == 1


# ------------------------------------------------------------------ block checks


def _button(text: str, value: str = "v", action_id: str = "a") -> dict:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "value": value,
        "action_id": action_id,
    }


def test_valid_blocks_pass() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Campaigns"}},
        {
            "type": "section",
            "block_id": "c1",
            "text": {"type": "mrkdwn", "text": "*Spring promo* — stopped"},
            "fields": [{"type": "mrkdwn", "text": f"f{i}"} for i in range(10)],
        },
        {"type": "actions", "elements": [_button("Start"), _button("Remove", action_id="r")]},
    ]
    assert_valid_blocks(blocks)
    assert_valid_blocks([{"type": "divider"}] * 50)


def test_over_long_button_text_rejected() -> None:
    blocks = [{"type": "actions", "elements": [_button("x" * 76)]}]
    with pytest.raises(AssertionError, match=r"blocks\[0\]"):
        assert_valid_blocks(blocks)


def test_51_blocks_rejected_in_message_but_fine_in_modal() -> None:
    blocks = [{"type": "divider"}] * 51
    with pytest.raises(AssertionError, match="51 blocks, limit 50"):
        assert_valid_blocks(blocks)
    assert_valid_blocks(blocks, surface="modal")


def test_limits_slack_sdk_may_miss() -> None:
    options = [
        {"text": {"type": "plain_text", "text": str(i)}, "value": str(i)} for i in range(101)
    ]
    select = {"type": "static_select", "action_id": "s", "options": options}
    with pytest.raises(AssertionError, match="options"):
        assert_valid_blocks(
            [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}, "accessory": select}]
        )
    confirm = {
        "title": {"type": "plain_text", "text": "Remove?"},
        "text": {"type": "plain_text", "text": "y" * 301},
        "confirm": {"type": "plain_text", "text": "Yes"},
        "deny": {"type": "plain_text", "text": "No"},
    }
    with pytest.raises(AssertionError, match="confirm"):
        assert_valid_blocks(
            [{"type": "actions", "elements": [{**_button("Go"), "confirm": confirm}]}]
        )
    with pytest.raises(AssertionError, match="button value"):
        assert_valid_blocks([{"type": "actions", "elements": [_button("Go", value="v" * 2001)]}])


def test_view_checks() -> None:
    view = {
        "type": "modal",
        "callback_id": "create",
        "title": {"type": "plain_text", "text": "New campaign"},
        "submit": {"type": "plain_text", "text": "Create"},
        "private_metadata": "{}",
        "blocks": [
            {
                "type": "input",
                "block_id": "name",
                "label": {"type": "plain_text", "text": "Name"},
                "element": {"type": "plain_text_input", "action_id": "name"},
            }
        ],
    }
    assert_valid_view(view)
    with pytest.raises(AssertionError, match="title"):
        assert_valid_view({**view, "title": {"type": "plain_text", "text": "t" * 25}})
    with pytest.raises(AssertionError, match="private_metadata"):
        assert_valid_view({**view, "private_metadata": "m" * 3001})


def test_escaping_helpers() -> None:
    name = "Promo <!channel> for <@U123>"
    assert contains_unescaped_mention(f"Started {name}", name)
    assert not contains_unescaped_mention(f"Started {slack_escape(name)}", name)
    assert_escaped(f"Started {slack_escape(name)} by <@UADMIN>", allowed_ids=("UADMIN",))
    with pytest.raises(AssertionError, match="<!here>"):
        assert_escaped("hi <!here>")
    with pytest.raises(AssertionError, match="<@U123>"):
        assert_escaped("by <@U123>", allowed_ids=("UADMIN",))
