"""Two-person rule: request in the channel, approval by someone else exactly once, expiry."""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import bot.app as services_module
from store import Store
from tests.block_checks import assert_escaped, assert_valid_blocks
from tests.conftest import Bot, start_bot, stop_bot
from tests.fake_slack import FakeSlack
from tests.helpers_access import (
    audit_rows,
    button_value,
    click_as,
    decide_as,
    grant,
    has_button,
    run_as,
    text_of,
)

REQUESTER = "UADMIN"  # in DIALER_ADMINS
SECOND = "UADMIN2"  # granted admin in the tests
OPERATOR = "UOPER"


class Clock:
    """A store clock the test moves by hand: expiry without sleeping."""

    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def abot(
    simulator: Any,
    fake_slack: FakeSlack,
    tmp_path: Path,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Bot]:
    """The bot with APPROVAL_REQUIRED=remove,start and a store on the test's clock."""
    monkeypatch.setattr(services_module, "Store", functools.partial(Store, clock=clock))
    b = await start_bot(
        simulator, fake_slack, tmp_path / "bot.db", approval_required="remove,start"
    )
    await grant(b, SECOND, "admin")
    await grant(b, OPERATOR, "operator")
    yield b
    await stop_bot(b)


async def request_remove(bot: Bot, campaign_id: int = 1, user: str = REQUESTER) -> int:
    """`/dialer remove <id>` → Confirm; returns the approval id posted in the channel."""
    replies = await run_as(bot, f"remove {campaign_id}", user)
    shown = text_of(replies)
    assert "Ask approval to remove" in shown and "a second person must approve" in shown
    token = button_value(replies[-1].args, "control:confirm")
    before = len(bot.slack.calls_to("chat.postMessage"))
    replies = await click_as(bot, "control:confirm", token, user)
    posts = bot.slack.calls_to("chat.postMessage")[before:]
    requests = [
        p for p in posts if has_button(p.args, "approval:approve") and p.args["channel"] == "C0001"
    ]
    assert len(requests) == 1, bot.slack.describe()
    assert "Your request is posted in <#C0001>" in text_of(replies)
    waiting = text_of(replies)
    assert waiting.startswith(":hourglass_flowing_sand: Removing campaign ")
    assert f"(#{campaign_id}) needs a second person." in waiting
    return int(button_value(requests[0].args, "approval:approve"))


def updates(bot: Bot) -> list[Any]:
    """Updates of the request in the channel of origin (its copy in CNOTIFY is updated too)."""
    return [c for c in bot.slack.calls_to("chat.update") if c.args["channel"] == "C0001"]


async def test_remove_waits_for_a_second_admin_and_runs_once(abot: Bot) -> None:
    approval_id = await request_remove(abot)
    post = [p for p in abot.slack.calls_to("chat.postMessage") if p.args["channel"] == "C0001"][-1]
    text = FakeSlack.texts(post)
    assert "<@UADMIN> asks to remove campaign *Spring promo* (#1)" in text
    assert_valid_blocks(post.args["blocks"])
    assert 1 in abot.sim.state.campaigns, "nothing may run before the approval"
    assert not [r for r in abot.sim.requests if r["path"].endswith("/control")]

    replies = await decide_as(abot, "approve", approval_id, SECOND)
    assert 1 not in abot.sim.state.campaigns
    controls = [r for r in abot.sim.requests if r["path"].endswith("/control")]
    assert len(controls) == 1 and controls[0]["json"] == {"command": "remove"}
    update = updates(abot)[-1]
    assert update.args["channel"] == "C0001"
    shown = FakeSlack.texts(update)
    assert "Requested by <@UADMIN>, approved by <@UADMIN2>" in shown
    assert "removed campaign" in shown
    assert not has_button(update.args, "approval:approve"), "a decided request keeps no buttons"
    assert replies == [], "the channel message shows the result; nothing else is needed"

    # A second click, by anyone, does nothing.
    again = await click_as(abot, "approval:approve", str(approval_id), SECOND)
    assert "Already approved by <@UADMIN2>" in text_of(again)
    assert len([r for r in abot.sim.requests if r["path"].endswith("/control")]) == 1

    rows = audit_rows(abot)
    actions = [(r["action"], r["outcome"], r["user_id"]) for r in rows]
    assert ("request remove", "ok", REQUESTER) in actions
    assert ("approve remove", "ok", SECOND) in actions
    final = [r for r in rows if r["action"] == "remove"]
    assert [r["outcome"] for r in final] == ["pending", "ok"]
    request = json.loads(final[0]["request"])
    assert request["requested_by"] == REQUESTER and request["approved_by"] == SECOND
    assert request["approval_id"] == approval_id
    assert abot.services.store.audit.verify().ok


async def test_the_message_is_updated_in_place(abot: Bot) -> None:
    approval_id = await request_remove(abot)
    posted = abot.slack.calls_to("chat.postMessage")[-1]
    await decide_as(abot, "reject", approval_id, SECOND)
    update = updates(abot)[-1]
    approval = abot.services.store.approvals.get(approval_id)
    assert approval is not None and approval.message_ts
    assert update.args["ts"] == approval.message_ts and update.args["channel"] == "C0001"
    # The copy where approvers watch (NOTIFY_CHANNEL by default) is updated as well.
    assert posted.args["channel"] == "CNOTIFY" and approval.copy_channel_id == "CNOTIFY"
    copy_updates = [c for c in abot.slack.calls_to("chat.update") if c.args["channel"] == "CNOTIFY"]
    assert [c.args["ts"] for c in copy_updates] == [approval.copy_message_ts]
    assert "rejected by <@UADMIN2>" in FakeSlack.texts(update)


async def test_requester_cannot_approve_own_request(abot: Bot) -> None:
    approval_id = await request_remove(abot)
    replies = await click_as(abot, "approval:approve", str(approval_id), REQUESTER)
    assert "cannot approve your own request" in text_of(replies)
    assert 1 in abot.sim.state.campaigns
    assert not updates(abot), "a refused click leaves the request as it is"
    denied = [r for r in audit_rows(abot) if r["outcome"] == "denied"]
    assert [(r["action"], r["user_id"]) for r in denied] == [("approve remove", REQUESTER)]
    approval = abot.services.store.approvals.get(approval_id)
    assert approval is not None and approval.state == "open"
    # Someone else still can.
    await decide_as(abot, "approve", approval_id, SECOND)
    assert 1 not in abot.sim.state.campaigns


async def test_approver_needs_the_commands_role(abot: Bot) -> None:
    approval_id = await request_remove(abot)
    replies = await click_as(abot, "approval:approve", str(approval_id), OPERATOR)
    text = text_of(replies)
    assert "needs the *admin* role" in text and "<@UADMIN>" in text
    assert 1 in abot.sim.state.campaigns
    denied = [r for r in audit_rows(abot) if r["outcome"] == "denied"]
    assert [(r["action"], r["user_id"]) for r in denied] == [("approve remove", OPERATOR)]
    # A user with no grant at all is refused too, for Reject as well.
    replies = await click_as(abot, "approval:reject", str(approval_id), "UNOBODY")
    assert "needs the *admin* role" in text_of(replies)
    assert abot.services.store.approvals.get(approval_id).state == "open"  # type: ignore[union-attr]


async def test_operator_start_is_approved_by_another_operator(abot: Bot) -> None:
    replies = await run_as(abot, "start 1", OPERATOR)
    token = button_value(replies[-1].args, "control:confirm")
    await click_as(abot, "control:confirm", token, OPERATOR)
    assert abot.sim.state.campaigns[1]["state"] == "stopped"
    approval_id = int(
        button_value(abot.slack.calls_to("chat.postMessage")[-1].args, "approval:approve")
    )
    await grant(abot, "UOPER2", "operator", ["C0001"])
    await click_as(abot, "approval:approve", str(approval_id), "UOPER2")
    assert abot.sim.state.campaigns[1]["state"] == "running"


async def test_reject_and_cancel(abot: Bot) -> None:
    first = await request_remove(abot)
    replies = await click_as(abot, "approval:cancel", str(first), SECOND)
    assert "Only <@UADMIN> can cancel" in text_of(replies)
    assert abot.services.store.approvals.get(first).state == "open"  # type: ignore[union-attr]
    await click_as(abot, "approval:cancel", str(first), REQUESTER)
    assert "Cancelled by <@UADMIN>" in FakeSlack.texts(updates(abot)[-1])
    replies = await click_as(abot, "approval:approve", str(first), SECOND)
    assert "Already cancelled" in text_of(replies)

    second = await request_remove(abot)
    await decide_as(abot, "reject", second, SECOND)
    assert "rejected by <@UADMIN2>" in FakeSlack.texts(updates(abot)[-1])
    replies = await click_as(abot, "approval:approve", str(second), SECOND)
    assert "Already rejected" in text_of(replies)
    assert 1 in abot.sim.state.campaigns
    assert not [r for r in abot.sim.requests if r["path"].endswith("/control")]

    actions = [(r["action"], r["outcome"], r["user_id"]) for r in audit_rows(abot)]
    assert ("cancel remove", "denied", SECOND) in actions
    assert ("cancel remove", "ok", REQUESTER) in actions
    assert ("reject remove", "ok", SECOND) in actions


async def test_a_click_after_expiry_expires_it(abot: Bot, clock: Clock) -> None:
    approval_id = await request_remove(abot)
    clock.advance(abot.services.settings.approval_ttl + 1)
    replies = await decide_as(abot, "approve", approval_id, SECOND)
    assert "expired" in text_of(replies)
    assert 1 in abot.sim.state.campaigns
    assert "Expired: nobody approved in time" in FakeSlack.texts(updates(abot)[-1])
    expire_rows = [r for r in audit_rows(abot) if r["action"] == "expire remove"]
    assert len(expire_rows) == 1 and expire_rows[0]["user_id"] == REQUESTER
    # Once expired, later clicks change nothing and write no more expiry rows.
    replies = await click_as(abot, "approval:approve", str(approval_id), SECOND)
    assert "expired" in text_of(replies)
    assert len([r for r in audit_rows(abot) if r["action"] == "expire remove"]) == 1
    assert len(updates(abot)) == 1


async def test_sweeper_expires_unanswered_requests(abot: Bot, clock: Clock) -> None:
    approval_id = await request_remove(abot)
    services = abot.services
    await services.approvals.sweep()  # expired requests shown as such (bot.app wires it)
    assert services.store.approvals.get(approval_id).state == "open"  # type: ignore[union-attr]
    assert not updates(abot)

    clock.advance(services.settings.approval_ttl + 1)
    await services.approvals.sweep()  # expired requests shown as such (bot.app wires it)
    approval = services.store.approvals.get(approval_id)
    assert approval is not None and approval.state == "expired"
    assert "Expired" in FakeSlack.texts(updates(abot)[-1])
    assert [r["action"] for r in audit_rows(abot)].count("expire remove") == 1
    await services.approvals.sweep()  # expired requests shown as such (bot.app wires it)
    assert [r["action"] for r in audit_rows(abot)].count("expire remove") == 1


async def test_sweeper_runs_in_the_background(abot: Bot, clock: Clock) -> None:
    approval_id = await request_remove(abot)
    clock.advance(abot.services.settings.approval_ttl + 1)
    abot.services.approvals.start_sweeper(interval_s=3600)
    await abot.slack.wait_for("chat.update", timeout=5)  # the request, shown as expired
    await abot.services.approvals.aclose()
    assert abot.services.store.approvals.get(approval_id).state == "expired"  # type: ignore[union-attr]


async def test_confirmation_is_single_use_for_requests_too(abot: Bot) -> None:
    replies = await run_as(abot, "remove 1", REQUESTER)
    token = button_value(replies[-1].args, "control:confirm")
    await click_as(abot, "control:confirm", token, REQUESTER)
    again = await click_as(abot, "control:confirm", token, REQUESTER)
    assert "Already done" in text_of(again)
    assert len(abot.services.store.approvals.open_requests()) == 1


async def test_commands_not_listed_run_without_approval(abot: Bot) -> None:
    abot.sim.state.campaigns[1]["state"] = "running"
    await run_as(abot, "pause 1", OPERATOR)
    assert abot.sim.state.campaigns[1]["state"] == "paused"
    assert not abot.services.store.approvals.open_requests()


async def test_pause_in_approval_required_asks_to_confirm(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    b = await start_bot(simulator, fake_slack, tmp_path / "p.db", approval_required="pause")
    try:
        simulator.state.campaigns[1]["state"] = "running"
        replies = await run_as(b, "pause 1", "UADMIN")
        token = button_value(replies[-1].args, "control:confirm")
        await click_as(b, "control:confirm", token, "UADMIN")
        assert simulator.state.campaigns[1]["state"] == "running"
        assert len(b.services.store.approvals.open_requests()) == 1
    finally:
        await stop_bot(b)


async def test_request_is_withdrawn_when_it_cannot_be_posted(abot: Bot) -> None:
    replies = await run_as(abot, "remove 1", REQUESTER)
    token = button_value(replies[-1].args, "control:confirm")
    abot.slack.fail_next("chat.postMessage", status=200, error="not_in_channel")
    replies = await click_as(abot, "control:confirm", token, REQUESTER)
    assert "Invite the bot" in text_of(replies)
    assert not abot.services.store.approvals.open_requests()
    assert 1 in abot.sim.state.campaigns


async def test_approval_messages_escape_campaign_names(abot: Bot) -> None:
    name = "<!channel> <@U123> <http://x|y> &amp;"
    abot.sim.state.campaigns[1]["name"] = name
    approval_id = await request_remove(abot)
    await decide_as(abot, "approve", approval_id, SECOND)
    for call in abot.slack.calls:
        if call.method in ("chat.postMessage", "chat.update", "response_url"):
            assert_escaped(
                FakeSlack.texts(call, mrkdwn_only=True),
                allowed_ids=(REQUESTER, SECOND, "C0001", "CNOTIFY"),
            )
