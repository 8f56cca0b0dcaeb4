"""Controlling campaigns end to end (confirm, run once, dialer errors, notifications), and the
command surface around it: help and usage, listings, subscriptions, history, request
signatures. Signed requests in, fake Slack and the simulator out."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.block_checks import assert_valid_blocks, contains_unescaped_mention
from tests.conftest import ADMIN, NOTIFY, Bot, start_bot, stop_bot
from tests.fake_slack import FakeSlack
from tests.slack_driver import sign, slash_command_body


def last_reply(bot: Bot) -> dict[str, Any]:
    replies = bot.replies()
    assert replies, "the bot answered nothing through response_url"
    return replies[-1].args


def reply_text(bot: Bot) -> str:
    return FakeSlack.texts(last_reply(bot))


def control_puts(bot: Bot, campaign_id: int | None = None) -> list[dict[str, Any]]:
    return [
        r
        for r in bot.sim.requests
        if r["method"] == "PUT"
        and r["path"].endswith("/control")
        and (campaign_id is None or r["path"] == f"/dialer/campaigns/{campaign_id}/control")
    ]


button_values = FakeSlack.button_values


def all_messages(bot: Bot) -> list[dict[str, Any]]:
    methods = ("response_url", "chat.postMessage", "chat.update", "chat.postEphemeral")
    return [c.args for c in bot.slack.calls if c.method in methods]


async def confirmation_token(bot: Bot, text: str) -> str:
    await bot.command(text)
    await bot.settle()
    tokens = button_values(last_reply(bot), "control:confirm")
    assert len(tokens) == 1, reply_text(bot)
    return tokens[0]


# --- subcommands ------------------------------------------------------------------------


async def test_help_is_answered_in_the_ack(bot: Bot) -> None:
    reply = await bot.command("help")
    assert reply.status == 200
    assert reply.json is not None and reply.json["response_type"] == "ephemeral"
    text = FakeSlack.texts(reply.json)
    subs = ("campaigns", "campaign <id|name>", "start <id|name>", "history", "subscribe", "ivr")
    for sub in (*subs, "lists", "list <id|name>", "clone <id|name>"):
        assert f"/dialer {sub}" in text
    assert_valid_blocks(reply.json["blocks"])


async def test_empty_text_shows_help(bot: Bot) -> None:
    reply = await bot.command("")
    assert reply.json and "/dialer campaigns" in FakeSlack.texts(reply.json)


async def test_unknown_subcommand_suggests_the_nearest(bot: Bot) -> None:
    reply = await bot.command("strat 1")
    text = FakeSlack.texts(reply.json or {})
    assert "Did you mean `start`?" in text and "/dialer start <id|name>" in text
    await bot.settle()
    assert bot.replies() == [] and control_puts(bot) == []


async def test_malformed_arguments_show_usage(bot: Bot) -> None:
    for text, usage in [
        ("start", "/dialer start <id|name>"),
        ("campaign", "/dialer campaign <id|name>"),
        (
            "history 1 2 3",
            "/dialer history [<n>] [#<id>|campaign <id|name>] [@user] [failed|denied]",
        ),
        ("history #1 999", "at most 50"),
        ("history 51", "the *Older ▶* button"),
        ("history sideways", "does not know `sideways`"),
        ("start 99999999999999999999999", "too large for a campaign id"),
        ("ivr extra", "/dialer ivr"),
    ]:
        reply = await bot.command(text)
        assert usage in FakeSlack.texts(reply.json or {}), text
    await bot.settle()
    assert control_puts(bot) == []


async def test_campaigns_lists_every_campaign_with_state_buttons(bot: Bot) -> None:
    await bot.command("campaigns")
    await bot.settle()
    args = last_reply(bot)
    text = FakeSlack.texts(args)
    assert "Spring promo" in text and "Outage Brno" in text
    assert "stopped" in text and "paused" in text and "09:00–17:00" in text
    assert button_values(args, "control:start") == ["1"]  # stopped: start (and remove)
    assert button_values(args, "control:unpause") == ["2"]  # paused: unpause, reload, remove
    assert button_values(args, "control:pause") == []
    assert_valid_blocks(args["blocks"])


async def test_campaigns_paginate_within_block_limits(bot: Bot) -> None:
    base = dict(bot.sim.state.campaigns[1])
    for i in range(100, 140):
        bot.sim.state.campaigns[i] = {**base, "id": i, "name": f"Bulk {i}"}
    await bot.command("campaigns")
    await bot.settle()
    first = last_reply(bot)
    assert_valid_blocks(first["blocks"])
    assert "Page 1 of 3" in FakeSlack.texts(first)
    assert button_values(first, "campaigns:page") == ["2"]
    await bot.action("campaigns:page", "2")
    await bot.settle()
    second = last_reply(bot)
    assert second["replace_original"] is True
    assert "Page 2 of 3" in FakeSlack.texts(second)
    assert sorted(button_values(second, "campaigns:page")) == ["1", "3"]
    assert_valid_blocks(second["blocks"])


async def test_campaign_detail_names_lists_ivr_and_recent_audit(bot: Bot) -> None:
    bot.sim.state.campaigns[2]["state"] = "running"
    await bot.command("pause 2")  # an audit entry of campaign 2
    await bot.settle()
    await bot.command("campaign 2")
    await bot.settle()
    args = last_reply(bot)
    text = FakeSlack.texts(args)
    assert "Outage Brno" in text and "Brno outage area" in text  # call list by name
    assert "Outage announcement" in text  # IVR by name
    assert "queue *green*" in text and "boost factor" in text
    assert "*pause* #2" in text  # the last audit entries
    assert_valid_blocks(args["blocks"])


async def test_campaign_not_found_is_one_clear_sentence(bot: Bot) -> None:
    await bot.command("campaign 999")
    await bot.settle()
    text = reply_text(bot)
    assert "there is no campaign #999" in text and "`/dialer campaigns` lists them" in text


async def test_ivr_and_lists(bot: Bot) -> None:
    await bot.command("ivr")
    await bot.settle()
    text = reply_text(bot)
    assert "Outage announcement" in text and "TUxw53xCBf" in text
    await bot.command("lists")
    await bot.settle()
    text = reply_text(bot)
    assert "Prague customers" in text and "3 numbers" in text


async def test_subscribe_unsubscribe_subscriptions(bot: Bot) -> None:
    await bot.command("subscribe", channel_id="CSUB")
    await bot.settle()
    assert "will now receive" in reply_text(bot)
    await bot.command("subscribe", channel_id="CSUB")
    await bot.settle()
    assert "already subscribed" in reply_text(bot)
    await bot.command("subscriptions")
    await bot.settle()
    text = reply_text(bot)
    assert "<#CSUB>" in text and f"<#{NOTIFY}>" in text
    await bot.command("unsubscribe", channel_id="CSUB")
    await bot.settle()
    assert "no longer" in reply_text(bot)
    assert await bot.services.notifier.channels() == [NOTIFY]


async def test_history_newest_first_with_who_what_outcome(bot: Bot) -> None:
    bot.sim.state.campaigns[2]["state"] = "running"
    await bot.command("pause 2")
    await bot.settle()
    token = await confirmation_token(bot, "unpause 2")
    await bot.action("control:confirm", token)
    await bot.settle()
    await bot.command("history")
    await bot.settle()
    text = reply_text(bot)
    assert text.index("*unpause* #2") < text.index("*pause* #2")
    assert f"<@{ADMIN}>" in text and "ok" in text and "Campaign paused" in text
    assert "Campaign unpaused" in text  # the dialer's message
    await bot.command("history #1")
    await bot.settle()
    assert "No entries yet" in reply_text(bot)


# --- signatures -------------------------------------------------------------------------


async def test_bad_signature_and_stale_timestamp_are_refused(bot: Bot) -> None:
    body = slash_command_body("start 1", response_url=bot.slack.response_url("default"))
    bad = await bot.driver.post(body, signature="v0=" + "0" * 64)
    stale_ts = str(int(time.time()) - 6 * 60)
    stale = await bot.driver.post(
        body,
        timestamp=stale_ts,
        signature=sign("test-signing-secret-0123456789abcdef", stale_ts, body),
    )
    assert bad.status == 401 and stale.status == 401
    await bot.settle()
    assert bot.replies() == []
    assert bot.services.store.audit.history(limit=10) == []


async def test_slacks_published_signature_example() -> None:
    from slack_sdk.signature import SignatureVerifier

    body = (
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
        "G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-"
        "collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F39770088"
        "5554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c4"
        "47fce8b6703c"
    )
    expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    secret = "8f742231b10e8888abcd99yyyzzz85a5"
    assert sign(secret, "1531420618", body) == expected
    verifier = SignatureVerifier(secret, clock=type("C", (), {"now": lambda self: 1531420618})())
    assert verifier.is_valid(body, "1531420618", expected)


# --- control ----------------------------------------------------------------------------


async def test_confirm_start_end_to_end(bot: Bot) -> None:
    token = await confirmation_token(bot, "start 1")
    confirm = last_reply(bot)
    text = FakeSlack.texts(confirm)
    assert "Spring promo" in text and "stopped" in text and "Mon–Fri 09:00–17:00" in text
    assert_valid_blocks(confirm["blocks"])
    assert control_puts(bot) == []  # nothing sent before Confirm

    reply = await bot.action("control:confirm", token)
    assert reply.status == 200
    await bot.settle()

    assert bot.sim.state.campaigns[1]["state"] == "running"
    assert [r["json"] for r in control_puts(bot)] == [{"command": "start"}]
    result = last_reply(bot)
    assert result["replace_original"] is True
    assert "started campaign *Spring promo* (#1)" in FakeSlack.texts(result)

    [entry] = bot.services.store.audit.history(campaign_id=1)
    assert (entry.action, entry.outcome, entry.user_id) == ("start", "ok", ADMIN)
    assert entry.channel_id == "C0001" and entry.detail == "Campaign started"
    assert entry.duration_ms is not None

    # Threaded (the default): the parent message, then the notification in its thread.
    [note] = await bot.slack.wait_for(
        "chat.postMessage", lambda c: c.args["channel"] == NOTIFY and bool(c.args.get("thread_ts"))
    )
    assert note.args.get("reply_broadcast") is True  # a start also shows in the channel
    note_text = FakeSlack.texts(note.args)
    assert f"<@{ADMIN}> started campaign *Spring promo* (#1), was stopped" in note_text
    assert "<#C0001>" in note_text
    assert button_values(note.args, "control:pause") == ["1"]
    assert_valid_blocks(note.args["blocks"])
    assert bot.services.store.audit.verify().ok


async def test_pause_runs_at_once_and_offers_unpause(bot: Bot) -> None:
    bot.sim.state.campaigns[1]["state"] = "running"
    await bot.command("pause 1")
    await bot.settle()
    assert bot.sim.state.campaigns[1]["state"] == "paused"
    assert "paused campaign *Spring promo* (#1)" in reply_text(bot)
    [parent, note] = bot.slack.calls_to("chat.postMessage")
    assert note.args["thread_ts"] == parent.result["ts"]
    assert "paused campaign *Spring promo* (#1), was running" in FakeSlack.texts(note.args)
    assert "Last: " in FakeSlack.texts(parent.args)
    assert button_values(note.args, "control:unpause") == ["1"]


async def test_calls_to_slack_share_one_pool_of_connections(bot: Bot) -> None:
    """Replies and Web API calls reuse kept-alive connections: a connection per call would
    mean a TLS handshake per call against the real Slack (13% of the soak's CPU here)."""
    bot.sim.state.campaigns[1]["state"] = "running"
    for text in ["campaigns", "campaign 1", "pause 1", "unpause 1", "ivr"]:
        await bot.command(text)
        await bot.settle()
    replies = bot.slack.calls_to("response_url")
    posts = bot.slack.calls_to("chat.postMessage")
    assert len(replies) >= 5 and len(posts) >= 2
    assert len(bot.slack.connections) <= 2, bot.slack.connections


async def test_notification_button_leads_to_a_confirmation(bot: Bot) -> None:
    bot.sim.state.campaigns[1]["state"] = "running"
    await bot.command("pause 1")
    await bot.settle()
    await bot.action("control:unpause", "1", user_id=ADMIN, channel_id=NOTIFY)
    await bot.settle()
    assert button_values(last_reply(bot), "control:confirm")
    assert bot.sim.state.campaigns[1]["state"] == "paused"


async def test_cancel_sends_nothing_and_the_token_is_spent(bot: Bot) -> None:
    token = await confirmation_token(bot, "start 1")
    await bot.action("control:cancel", token)
    await bot.settle()
    assert "cancelled" in reply_text(bot)
    await bot.action("control:confirm", token)
    await bot.settle()
    assert control_puts(bot) == []
    assert bot.sim.state.campaigns[1]["state"] == "stopped"


async def test_double_click_sends_one_command(bot: Bot) -> None:
    token = await confirmation_token(bot, "start 1")
    await bot.action("control:confirm", token)
    await bot.action("control:confirm", token)
    await bot.settle()
    assert len(control_puts(bot)) == 1
    texts = [FakeSlack.texts(c.args) for c in bot.replies()]
    assert any("Already done" in t and f"<@{ADMIN}>" in t for t in texts), texts


async def test_concurrent_confirms_send_one_command(bot: Bot) -> None:
    others = [f"UOP{i}" for i in range(10)]
    for user in others:
        bot.services.store.grants.grant(user, "operator", None, ADMIN)
    token = await confirmation_token(bot, "start 1")
    replies = await asyncio.gather(
        *[bot.action("control:confirm", token, user_id=u) for u in [ADMIN, *others]]
    )
    assert all(r.status == 200 for r in replies)
    await bot.settle()
    assert len(control_puts(bot)) == 1
    already = [c for c in bot.replies() if "Already done" in FakeSlack.texts(c.args)]
    assert len(already) == 10
    posts = bot.slack.calls_to("chat.postMessage")  # the thread's parent and one notification
    assert [bool(c.args.get("thread_ts")) for c in posts] == [False, True]


async def test_two_bot_processes_share_the_claim(
    bot: Bot, fake_slack: FakeSlack, tmp_path: Any
) -> None:
    other = await start_bot(bot.sim, fake_slack, tmp_path / "bot.db")
    try:
        token = await confirmation_token(bot, "start 1")
        await asyncio.gather(
            bot.action("control:confirm", token), other.action("control:confirm", token)
        )
        await bot.settle()
        await other.settle()
        assert len(control_puts(bot)) == 1
    finally:
        await stop_bot(other)


async def test_409_from_the_dialer_is_shown_with_its_message(bot: Bot) -> None:
    token = await confirmation_token(bot, "start 1")
    bot.sim.state.campaigns[1]["state"] = "running"  # someone started it meanwhile
    await bot.action("control:confirm", token)
    await bot.settle()
    text = reply_text(bot)
    assert "the dialer answered 409" in text and "Cannot start campaign 1" in text
    [entry] = bot.services.store.audit.history(campaign_id=1)
    assert entry.outcome == "failed" and "Cannot start campaign 1" in entry.detail
    assert bot.slack.calls_to("chat.postMessage") == []


async def test_state_that_forbids_the_command_sends_nothing(bot: Bot) -> None:
    await bot.command("unpause 1")  # stopped
    await bot.settle()
    assert "unpause is not possible now" in reply_text(bot)
    assert control_puts(bot) == []


async def test_remove_is_danger_styled_with_a_dialog(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Any
) -> None:
    bot = await start_bot(simulator, fake_slack, tmp_path / "b.db", approval_required="")
    try:
        await bot.command("remove 1")
        await bot.settle()
        [button] = [
            el
            for b in last_reply(bot)["blocks"]
            if b["type"] == "actions"
            for el in b["elements"]
            if el["action_id"] == "control:confirm"
        ]
        assert button["style"] == "danger" and button["confirm"]["style"] == "danger"
        await bot.action("control:confirm", button["value"])
        await bot.settle()
        assert 1 not in bot.sim.state.campaigns
        assert "removed campaign *Spring promo* (#1)" in reply_text(bot)
    finally:
        await stop_bot(bot)


# --- the dialer down or slow ------------------------------------------------------------


async def test_slow_dialer_acks_fast_and_records_unknown(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Any
) -> None:
    bot = await start_bot(
        simulator, fake_slack, tmp_path / "b.db", dialer_timeout=0.5, dialer_resolve_seconds=1
    )
    try:
        token = await confirmation_token(bot, "start 1")
        simulator.faults.set(latency=2.0)
        reply = await bot.action("control:confirm", token)
        assert reply.status == 200 and reply.elapsed_ms < 500
        await bot.settle()
        text = reply_text(bot)
        assert "not known whether" in text and "/dialer campaign 1" in text
        # the re-reads time out too: the resolution leaves it unknown
        resolution, entry = bot.services.store.audit.history(campaign_id=1)
        assert (entry.action, entry.outcome) == ("start", "unknown")
        assert (resolution.action, resolution.outcome) == ("resolve", "unknown")
        assert len(control_puts(bot)) == 1  # never retried
    finally:
        await stop_bot(bot)


async def test_dialer_down_clear_error_and_failed_audit(bot: Bot) -> None:
    bot.sim.state.campaigns[1]["state"] = "running"
    await bot.command("pause 1")  # warm the token and the campaign read
    await bot.settle()
    await bot.sim.stop()
    reply = await bot.command("unpause 1")
    assert reply.status == 200 and reply.elapsed_ms < 500
    await bot.settle()
    assert "could not be reached" in reply_text(bot)
    reply = await bot.command("pause 1")
    await bot.settle()
    text = reply_text(bot)
    assert "could not be reached" in text and "Nothing was sent" in text


async def test_dialer_500_message_reaches_the_user(bot: Bot) -> None:
    token = await confirmation_token(bot, "start 1")
    bot.sim.faults.set(status=500, count=1, path_prefix="/dialer/campaigns/1/control")
    await bot.action("control:confirm", token)
    await bot.settle()
    assert "the dialer answered 500" in reply_text(bot)
    [entry] = bot.services.store.audit.history(campaign_id=1)
    assert entry.outcome == "failed"


# --- escaping and Slack faults ----------------------------------------------------------


async def test_campaign_names_cannot_ping(bot: Bot) -> None:
    nasty = "<!channel> <!here> <@U123> <http://x|y> &amp;"
    bot.sim.state.campaigns[1]["name"] = nasty
    bot.sim.state.campaigns[1]["state"] = "running"
    await bot.command("campaigns")
    await bot.command("campaign 1")
    await bot.command("pause 1")
    await bot.settle()
    token = await confirmation_token(bot, "unpause 1")
    await bot.action("control:confirm", token)
    await bot.command("history")
    await bot.settle()
    messages = all_messages(bot)
    assert len(messages) >= 6
    for args in messages:
        text = FakeSlack.texts(args, mrkdwn_only=True)
        for needle in ("<!channel>", "<!here>", "<@U123>", "<http://x|y>"):
            assert not contains_unescaped_mention(text, needle), text
        assert "&amp;amp;" in text or "Spring" not in text
        if args.get("blocks"):
            assert_valid_blocks(args["blocks"])


async def test_rate_limited_notification_is_retried(bot: Bot) -> None:
    bot.slack.fail_next("chat.postMessage", status=429, retry_after=1, count=1)
    bot.sim.state.campaigns[1]["state"] = "running"
    await bot.command("pause 1")
    await bot.settle()
    calls = bot.slack.calls_to("chat.postMessage")
    # The thread's parent is retried first; its reply follows once the parent has a ts.
    assert [(c.status, bool(c.args.get("thread_ts"))) for c in calls] == [
        (429, False),
        (200, False),
        (200, True),
    ]


async def test_failing_notification_leaves_command_and_audit_alone(bot: Bot) -> None:
    bot.slack.fail_next("chat.postMessage", status=500, count=10)
    bot.sim.state.campaigns[1]["state"] = "running"
    await bot.command("pause 1")
    await bot.services.tasks.drain(10)
    await bot.services.notifier.wait_idle(10)
    assert bot.sim.state.campaigns[1]["state"] == "paused"
    assert "paused campaign" in reply_text(bot)
    [entry] = bot.services.store.audit.history(campaign_id=1)
    assert entry.outcome == "ok"
    [parent, item] = bot.services.store.outbox.pending()  # the thread's parent, its reply
    assert (parent.kind, item.kind, item.parent_id) == ("post", "reply", parent.id)
    assert parent.attempts >= 1 and "500" in (parent.last_error or "")


@pytest.mark.parametrize("text", ["campaigns", "campaign 1", "ivr", "lists", "history"])
async def test_read_commands_ack_fast_while_the_dialer_is_slow(bot: Bot, text: str) -> None:
    bot.sim.faults.set(latency=3.0)
    reply = await bot.command(text)
    assert reply.status == 200 and reply.elapsed_ms < 500
    bot.sim.faults.clear()
