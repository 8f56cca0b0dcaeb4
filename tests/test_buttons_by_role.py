"""Buttons by role and channel, help that names your role, "nothing sent" when a command would
change nothing, and friendly answers — signed requests in, what Slack shows out."""

from __future__ import annotations

import json

from tests.conftest import Bot
from tests.fake_slack import FakeSlack
from tests.helpers_access import audit_rows, click_as, grant, run_as, text_of

ADMIN = "UADMIN"


def control_buttons(call: object) -> set[str]:
    """The control buttons (control:<cmd>) of a message."""
    found = set()
    for cmd in ("start", "pause", "unpause", "reload", "remove"):
        if FakeSlack.buttons(call, f"control:{cmd}"):  # type: ignore[arg-type]
            found.add(cmd)
    return found


def control_puts(bot: Bot) -> list[dict[str, object]]:
    return [r for r in bot.sim.requests if r["path"].endswith("/control")]


async def test_each_role_sees_only_the_buttons_it_may_press(bot: Bot) -> None:
    await grant(bot, "UVIEW", "viewer")
    await grant(bot, "UOPER", "operator")
    viewer = (await run_as(bot, "campaigns", "UVIEW"))[-1]
    assert control_buttons(viewer) == set()
    assert FakeSlack.buttons(viewer, "campaign:show"), "viewers keep Details"
    operator = (await run_as(bot, "campaigns", "UOPER"))[-1]
    assert control_buttons(operator) == {"start", "unpause", "reload"}  # 1 stopped, 2 paused
    admin = (await run_as(bot, "campaigns", ADMIN))[-1]
    assert control_buttons(admin) == {"start", "unpause", "reload", "remove"}
    detail = (await run_as(bot, "campaign 2", "UOPER"))[-1]
    assert control_buttons(detail) == {"unpause", "reload"}
    detail = (await run_as(bot, "campaign 2", "UVIEW"))[-1]
    assert control_buttons(detail) == set()


async def test_buttons_follow_the_channel_of_a_scoped_grant(bot: Bot) -> None:
    await grant(bot, "UBOB", "viewer")
    await grant(bot, "UBOB", "operator", ["COPS"])
    in_ops = (await run_as(bot, "campaigns", "UBOB", channel="COPS"))[-1]
    assert control_buttons(in_ops) == {"start", "unpause", "reload"}
    elsewhere = (await run_as(bot, "campaigns", "UBOB", channel="C0001"))[-1]
    assert control_buttons(elsewhere) == set()


async def test_notifications_show_operator_buttons_and_refuse_viewers(bot: Bot) -> None:
    await grant(bot, "UVIEW", "viewer")
    bot.sim.state.campaigns[1]["state"] = "running"
    await run_as(bot, "pause 1", ADMIN)
    [note] = [  # threaded (the default): the reply in the campaign's thread
        c
        for c in bot.slack.calls_to("chat.postMessage")
        if c.args["channel"] == "CNOTIFY" and c.args.get("thread_ts")
    ]
    assert control_buttons(note) == {"unpause"}
    replies = await click_as(bot, "control:unpause", "1", "UVIEW", channel="CNOTIFY")
    assert "needs the *operator* role" in text_of(replies)
    assert bot.sim.state.campaigns[1]["state"] == "paused"


async def test_help_names_your_role_and_marks_what_needs_more(bot: Bot) -> None:
    await grant(bot, "UVIEW", "viewer")
    reply = await bot.command("help", user_id="UVIEW")
    text = FakeSlack.texts(reply.json or {})
    assert "Your role here: *viewer*" in text
    start_line = next(line for line in text.splitlines() if line.startswith("`/dialer start"))
    assert "🔒 _needs operator_" in start_line
    campaigns_line = next(line for line in text.splitlines() if "`/dialer campaigns" in line)
    assert "🔒" not in campaigns_line
    reply = await bot.command("help", user_id="UNOBODY")
    assert "Your role here: none" in FakeSlack.texts(reply.json or {})
    reply = await bot.command("help", user_id=ADMIN)
    text = FakeSlack.texts(reply.json or {})
    assert "Your role here: *admin*" in text and "_needs" not in text


# --- the same "nothing sent" rule in both directions ----------------------------------------


async def test_start_on_a_running_campaign_sends_nothing(bot: Bot) -> None:
    bot.sim.state.campaigns[1]["state"] = "running"
    text = text_of(await run_as(bot, "start 1", ADMIN))
    assert "Nothing sent" in text and "is already running" in text
    assert control_puts(bot) == []


async def test_pause_on_a_paused_campaign_sends_nothing_and_is_not_a_failure(bot: Bot) -> None:
    text = text_of(await run_as(bot, "pause 2", ADMIN))  # campaign 2 is paused
    assert "Nothing sent" in text and "is already paused" in text
    assert "409" not in text
    assert control_puts(bot) == []
    assert not [r for r in audit_rows(bot) if r["outcome"] == "failed"]


async def test_an_unknown_state_is_left_to_the_dialer(bot: Bot) -> None:
    bot.sim.state.campaigns[1]["state"] = "Rebalancing"
    await run_as(bot, "pause 1", ADMIN)
    assert len(control_puts(bot)) == 1, "a state the bot does not know: the dialer decides"


async def test_ids_too_large_pages_past_the_end_and_missing_campaigns(bot: Bot) -> None:
    reply = await bot.command("start 99999999999999999999999")
    text = FakeSlack.texts(reply.json or {})
    assert "too large for a campaign id" in text and "not a whole number" not in text
    text = text_of(await run_as(bot, "campaigns 99", ADMIN))
    assert "There is no page 99" in text and "`/dialer campaigns 1`" in text
    for command in ("start 999", "pause 999", "campaign 999"):
        text = text_of(await run_as(bot, command, ADMIN))
        assert "there is no campaign #999" in text and "`/dialer campaigns`" in text, command
        assert "answered 404" not in text, command


async def test_pause_because_is_audited_and_announced(bot: Bot) -> None:
    bot.sim.state.campaigns[1]["state"] = "running"
    text = text_of(await run_as(bot, "pause 1 because the list is <wrong>", ADMIN))
    assert "Reason: “the list is &lt;wrong&gt;”" in text
    [note] = [  # threaded (the default): the reply in the campaign's thread
        c
        for c in bot.slack.calls_to("chat.postMessage")
        if c.args["channel"] == "CNOTIFY" and c.args.get("thread_ts")
    ]
    assert "because “the list is &lt;wrong&gt;”" in FakeSlack.texts(note)
    [pending] = [r for r in audit_rows(bot) if r["action"] == "pause" and r["ref_id"] is None]
    assert json.loads(pending["request"])["reason"] == "the list is <wrong>"
    reply = await bot.command("pause 1 since monday")
    assert "optionally `because <reason>`" in FakeSlack.texts(reply.json or {})
    reply = await bot.command("pause 1 because")
    assert "needs a reason after `because`" in FakeSlack.texts(reply.json or {})


async def test_plurals_in_access_answers(bot: Bot) -> None:
    await grant(bot, "UBOB", "viewer")
    text = text_of(await run_as(bot, "access revoke <@UBOB|bob>", ADMIN))
    assert "Removed 1 grant of <@UBOB>" in text
    [row] = [r for r in audit_rows(bot) if r["action"] == "revoke"]
    assert row["detail"] == "1 grant removed"


async def test_revoke_in_one_channel_keeps_the_others(bot: Bot) -> None:
    await run_as(bot, "access grant <@UBOB|bob> operator <#CONE|one> <#CTWO|two>", ADMIN)
    text = text_of(await run_as(bot, "access revoke <@UBOB|bob> operator <#CONE|one>", ADMIN))
    assert "Removed 1 *operator* grant of <@UBOB>" in text and "<#CONE>" in text
    left = bot.services.store.grants.for_user("UBOB")
    assert [(g.role, g.channel_id) for g in left] == [("operator", "CTWO")]
    # A role held everywhere cannot be taken away in one channel: the answer says how.
    await grant(bot, "UCAROL", "viewer")
    text = text_of(await run_as(bot, "access revoke <@UCAROL> viewer <#CONE>", ADMIN))
    assert "nothing changed" in text and "still have *viewer* everywhere" in text


def test_a_404_names_the_campaign_whatever_the_paths() -> None:
    from bot.dialer import DialerError
    from handlers.blocks import missing_campaign

    def err(path: str, status: int = 404) -> DialerError:
        return DialerError("not found", status=status, method="GET", path=path)

    assert missing_campaign(err("/dialer/campaigns/999")) == 999
    assert missing_campaign(err("/dialer/campaigns/7/control")) == 7
    assert missing_campaign(err("/dialer/call-lists/7")) is None
    assert missing_campaign(err("/dialer/campaigns/7", 409)) is None
    paths = {"campaign": "/v2/campaign/{id}", "control": "/v2/campaign/{id}/cmd"}
    assert missing_campaign(err("/v2/campaign/12/cmd"), paths) == 12
    assert missing_campaign(err("/dialer/campaigns/12"), paths) is None
