"""Test helpers for access and approvals: act as a given user, find buttons, read the audit."""

from __future__ import annotations

import itertools
from typing import Any

from tests.block_checks import assert_valid_blocks, assert_valid_view
from tests.conftest import Bot
from tests.fake_slack import Call, FakeSlack
from tests.slack_driver import text_value

_keys = itertools.count(1)


async def run_as(bot: Bot, text: str, user: str, channel: str = "C0001") -> list[Call]:
    """Type `/dialer <text>` as `user`; returns the replies to that one command, validated."""
    key = f"cmd{next(_keys)}"
    reply = await bot.command(
        text, user_id=user, channel_id=channel, response_url=bot.slack.response_url(key)
    )
    assert reply.status == 200, reply.text
    await bot.settle()
    found = bot.replies(key)
    if reply.json and reply.json.get("blocks"):
        found.insert(0, Call("ack", reply.json, 0.0, 200))
    for call in found:
        assert_valid_blocks(call.args.get("blocks") or [])
    return found


async def click_as(
    bot: Bot, action_id: str, value: str, user: str, channel: str = "C0001", **kw: Any
) -> list[Call]:
    """Press a button as `user`; returns the replies through that click's response_url."""
    key = f"click{next(_keys)}"
    reply = await bot.action(
        action_id,
        value,
        user_id=user,
        channel_id=channel,
        response_url=bot.slack.response_url(key),
        **kw,
    )
    assert reply.status == 200, reply.text
    await bot.settle()
    found = bot.replies(key)
    for call in found:
        assert_valid_blocks(call.args.get("blocks") or [])
    return found


def text_of(calls: list[Call]) -> str:
    return "\n".join(FakeSlack.texts(c) for c in calls)


def button_value(args: dict[str, Any], action_id: str) -> str:
    """The value of the button `action_id` in a message's blocks (fails if absent)."""
    values = FakeSlack.button_values(args, action_id)
    assert values, f"no {action_id!r} button in {args.get('blocks')}"
    return values[0]


def has_button(args: dict[str, Any], action_id: str) -> bool:
    return bool(FakeSlack.buttons(args, action_id))


def audit_rows(bot: Bot) -> list[dict[str, Any]]:
    """Raw audit rows, oldest first (every row, completions included)."""
    store = bot.services.store
    with store._lock:
        return list(store.db.query("SELECT * FROM audit_log ORDER BY id"))


async def grant(bot: Bot, user: str, role: str, channels: list[str] | None = None) -> None:
    """Set up a grant directly in the store (tests of the command itself use /dialer access)."""
    store = bot.services.store
    await store.run(store.grants.grant, user, role, channels, "UADMIN")


async def decide_as(
    bot: Bot, verb: str, approval_id: int, user: str, reason: str | None = None
) -> list[Any]:
    """Click Approve/Reject; when a dialog opens (reject, approve of remove), submit it."""
    dialogs = len(bot.slack.calls_to("views.open"))
    replies = await click_as(bot, f"approval:{verb}", str(approval_id), user)
    opened = bot.slack.calls_to("views.open")[dialogs:]
    if not opened:
        return replies
    view = opened[-1].args["view"]
    assert_valid_view(view)
    reply = await bot.driver.submit(
        "approval:decide",
        {"reason": {"reason": text_value(reason)}} if verb == "reject" else {},
        user_id=user,
        private_metadata=view["private_metadata"],
    )
    assert reply.status == 200 and not reply.text, reply.text
    await bot.settle()
    return replies + [
        c for c in bot.slack.calls_to("chat.postMessage") if c.args.get("channel") == user
    ]
