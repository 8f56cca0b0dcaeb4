"""Approval requests as approvers meet them: the request reaches the approvers' channel and
group, refusals come before any dialog, announcements name both people, Reject takes a
reason, a running campaign's removal is red."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

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

REQUESTER = "UADMIN"
SECOND = "UADMIN2"


@pytest.fixture
async def abot(simulator: Any, fake_slack: FakeSlack, tmp_path: Path) -> AsyncIterator[Bot]:
    b = await start_bot(
        simulator,
        fake_slack,
        tmp_path / "bot.db",
        approval_required="remove",
        approval_channel="CAPPR",
        approver_group="S0123",
    )
    await grant(b, SECOND, "admin")
    yield b
    await stop_bot(b)


async def ask_remove(bot: Bot, campaign_id: int = 1) -> int:
    replies = await run_as(bot, f"remove {campaign_id}", REQUESTER)
    await click_as(
        bot, "control:confirm", button_value(replies[-1].args, "control:confirm"), REQUESTER
    )
    return bot.services.store.approvals.open_requests()[-1].id


def posts_in(bot: Bot, channel: str) -> list[Any]:
    return [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == channel]


async def test_the_request_is_posted_where_approvers_watch_too(abot: Bot) -> None:
    await ask_remove(abot)
    [origin] = posts_in(abot, "C0001")
    [copy] = posts_in(abot, "CAPPR")
    assert has_button(origin.args, "approval:approve") and has_button(copy.args, "approval:approve")
    assert "<!subteam^S0123>" in FakeSlack.texts(copy) and "asked in <#C0001>" in FakeSlack.texts(
        copy
    )
    assert "<!subteam" not in FakeSlack.texts(origin)
    waiting = [
        c
        for c in abot.slack.calls_to("response_url")
        if "Your request is posted" in FakeSlack.texts(c)
    ]
    assert "<#CAPPR>, where approvers watch" in FakeSlack.texts(waiting[-1])


async def test_requester_and_users_without_the_role_get_no_dialog(abot: Bot) -> None:
    approval_id = await ask_remove(abot)
    replies = await click_as(abot, "approval:approve", str(approval_id), REQUESTER)
    assert "cannot approve your own request" in text_of(replies)
    replies = await click_as(abot, "approval:approve", str(approval_id), "UNOBODY", channel="CAPPR")
    assert "needs the *admin* role" in text_of(replies)
    replies = await click_as(abot, "approval:reject", str(approval_id), "UNOBODY", channel="CAPPR")
    assert "needs the *admin* role" in text_of(replies)
    assert abot.slack.calls_to("views.open") == [], "no Approve? dialog before the checks"
    assert not FakeSlack.buttons(posts_in(abot, "C0001")[0], "approval:approve")[0].get("confirm")


async def test_approving_in_the_approvers_channel_names_both_people(abot: Bot) -> None:
    approval_id = await ask_remove(abot)
    await decide_as(abot, "approve", approval_id, SECOND)
    assert 1 not in abot.sim.state.campaigns
    [dialog] = abot.slack.calls_to("views.open")
    assert "runs as soon as you approve" in FakeSlack.texts(dialog.args["view"])
    updated = {c.args["channel"]: FakeSlack.texts(c) for c in abot.slack.calls_to("chat.update")}
    assert set(updated) == {"C0001", "CAPPR"}
    for text in updated.values():
        assert "Requested by <@UADMIN>, approved by <@UADMIN2>" in text
    # threaded (the default): the campaign's parent, then the notification in its thread
    [note] = [c for c in posts_in(abot, "CNOTIFY") if c.args.get("thread_ts")]
    assert "requested by <@UADMIN>, approved by <@UADMIN2>" in FakeSlack.texts(note)


async def test_reject_takes_a_reason_shown_and_audited(abot: Bot) -> None:
    approval_id = await ask_remove(abot)
    await decide_as(abot, "reject", approval_id, SECOND, reason="wrong <campaign>")
    assert 1 in abot.sim.state.campaigns
    text = FakeSlack.texts(abot.slack.calls_to("chat.update")[-1])
    assert "rejected by <@UADMIN2>" in text and "Reason: “wrong &lt;campaign&gt;”" in text
    [row] = [r for r in audit_rows(abot) if r["action"] == "reject remove"]
    assert json.loads(row["request"])["reason"] == "wrong <campaign>"
    assert row["detail"] == "reason: wrong <campaign>"


async def test_reject_without_a_reason_is_fine(abot: Bot) -> None:
    approval_id = await ask_remove(abot)
    await decide_as(abot, "reject", approval_id, SECOND)
    text = FakeSlack.texts(abot.slack.calls_to("chat.update")[-1])
    assert "rejected by <@UADMIN2>" in text and "Reason" not in text


async def test_a_forged_dialog_is_refused(abot: Bot) -> None:
    reply = await abot.driver.submit("approval:decide", {}, user_id=SECOND, private_metadata="{}")
    assert reply.status == 200
    await abot.settle()
    assert "That dialog is not valid" in FakeSlack.texts(
        abot.slack.calls_to("chat.postMessage")[-1]
    )


async def test_removing_a_running_campaign_says_so_in_red(abot: Bot) -> None:
    abot.sim.state.campaigns[1]["state"] = "running"
    replies = await run_as(abot, "remove 1", REQUESTER)
    text = text_of(replies)
    assert ":red_circle: *It is running now*" in text
    [confirm] = FakeSlack.buttons(replies[-1].args, "control:confirm")
    assert confirm["style"] == "danger" and confirm["confirm"]["style"] == "danger"
    assert "is running" in confirm["confirm"]["text"]["text"]
    stopped = text_of(await run_as(abot, "remove 2", REQUESTER))  # paused, not running
    assert ":red_circle:" not in stopped
    await click_as(
        abot, "control:confirm", button_value(replies[-1].args, "control:confirm"), REQUESTER
    )
    assert ":red_circle: *This campaign is running*" in FakeSlack.texts(posts_in(abot, "CAPPR")[-1])


async def test_a_dialog_that_cannot_open_decides_nothing(abot: Bot) -> None:
    approval_id = await ask_remove(abot)
    abot.slack.fail_next("views.open", status=200, error="expired_trigger_id")
    replies = await click_as(abot, "approval:approve", str(approval_id), SECOND)
    assert "Could not open the approve dialog" in text_of(replies)
    assert 1 in abot.sim.state.campaigns
    assert abot.services.store.approvals.get(approval_id).state == "open"  # type: ignore[union-attr]


def test_approval_settings_default_and_refuse_names() -> None:
    from bot.config import ConfigError, load_settings

    assert load_settings(_env_file=None, notify_channel="CNOTE").approvals_to == "CNOTE"
    s = load_settings(_env_file=None, notify_channel="CNOTE", approval_channel="CAPPR")
    assert s.approvals_to == "CAPPR"
    for bad in ({"approver_group": "@ops-leads"}, {"approval_channel": "#ops"}):
        with pytest.raises(ConfigError) as err:
            load_settings(_env_file=None, **bad)
        assert next(iter(bad)).upper() in str(err.value)
