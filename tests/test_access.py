"""Roles: deny by default, the role × command matrix for slash commands and buttons,
channel-scoped grants, and `/dialer access grant|revoke|list` (audited)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.access import REQUIRED_ROLE, ROLES
from handlers.commands import SUBCOMMANDS
from tests.conftest import Bot
from tests.helpers_access import audit_rows, click_as, grant, run_as, text_of

VIEWER_CMDS = {"help", "campaigns", "campaign", "ivr", "lists", "list", "history"}
OPERATOR_CMDS = {"new", "edit", "upload", "start", "pause", "unpause", "reload", "subscribe"}
OPERATOR_CMDS |= {"show numbers", "clone"}
ADMIN_CMDS = {"remove", "access"}

USER_OF = {None: "UNOBODY", "viewer": "UVIEW", "operator": "UOPER", "admin": "UADM2"}

# A slash command line per subcommand that exists (other subcommands may come and go).
SLASH = {
    "help": "help",
    "campaigns": "campaigns",
    "campaign": "campaign 1",
    "ivr": "ivr",
    "lists": "lists",
    "history": "history",
    "subscriptions": "subscriptions",
    "new": "new",
    "edit": "edit 1",
    "clone": "clone 1",
    "upload": "upload",
    "list": "list 1",  # `list new` is checked as upload
    "start": "start 1",
    "pause": "pause 2",
    "unpause": "unpause 2",
    "reload": "reload 2",
    "subscribe": "subscribe",
    "unsubscribe": "unsubscribe",
    "remove": "remove 1",
    "access": "access list",
    "schedule": "schedule cancel 1",
}

# Buttons and the action whose role they need.
BUTTONS = [
    ("control:start", "1", "start"),
    ("control:pause", "2", "pause"),
    ("control:unpause", "2", "unpause"),
    ("control:reload", "2", "reload"),
    ("control:remove", "1", "remove"),
    ("campaign:show", "1", "campaign"),
    ("campaigns:page", "1", "campaigns"),
    ("campaign:history", "1", "history"),
    ("campaign:clone", "1", "clone"),
    ("call_list:show", "1", "list"),
    ("call_list:numbers", "1", "show numbers"),
    ("lists:page", "1", "lists"),
]


def allowed(role: str | None, action: str) -> bool:
    rank = {None: 0, "viewer": 1, "operator": 2, "admin": 3}
    needed = REQUIRED_ROLE[action]
    return needed is None or rank[role] >= rank[needed]


async def give_roles(bot: Bot) -> None:
    for role, user in USER_OF.items():
        if role is not None:
            await grant(bot, user, role)


def denied_rows(bot: Bot) -> list[dict[str, Any]]:
    return [r for r in audit_rows(bot) if r["outcome"] == "denied"]


def test_the_role_map_gives_each_command_its_role() -> None:
    for cmd in VIEWER_CMDS - {"help"}:
        assert REQUIRED_ROLE[cmd] == "viewer", cmd
    for cmd in OPERATOR_CMDS:
        assert REQUIRED_ROLE[cmd] == "operator", cmd
    for cmd in ADMIN_CMDS:
        assert REQUIRED_ROLE[cmd] == "admin", cmd
    assert REQUIRED_ROLE["help"] is None
    # Every slash subcommand names its role in the one map.
    assert set(SUBCOMMANDS) <= set(REQUIRED_ROLE)
    assert [r for r in REQUIRED_ROLE.values() if r is not None and r not in ROLES] == []


@pytest.mark.parametrize("role", [None, "viewer", "operator", "admin"])
async def test_slash_command_matrix(bot: Bot, role: str | None) -> None:
    await give_roles(bot)
    bot.sim.state.campaigns[2]["state"] = "paused"
    user = USER_OF[role]
    for name in SUBCOMMANDS:
        text = SLASH.get(name, name)
        before = len(denied_rows(bot))
        replies = await run_as(bot, text, user)
        new_denials = denied_rows(bot)[before:]
        said = text_of(replies)
        if allowed(role, name):
            assert not new_denials, f"{role} should run /dialer {text}: {said}"
            assert "needs the *" not in said, f"{role} /dialer {text}: {said}"
        else:
            needed = REQUIRED_ROLE[name]
            assert [(r["action"], r["user_id"]) for r in new_denials] == [(name, user)], text
            assert f"needs the *{needed}* role" in said, f"{role} /dialer {text}: {said}"
            assert "<@UADMIN>" in said, "the refusal names who can grant access"


@pytest.mark.parametrize("role", [None, "viewer", "operator", "admin"])
async def test_button_matrix(bot: Bot, role: str | None) -> None:
    """Buttons are checked like commands: a viewer pressing a Start button someone
    else was shown is refused, whatever message carried it."""
    await give_roles(bot)
    bot.sim.state.campaigns[2]["state"] = "paused"
    user = USER_OF[role]
    for action_id, value, action in BUTTONS:
        before = len(denied_rows(bot))
        replies = await click_as(bot, action_id, value, user, message={"ts": "1700000000.000100"})
        new_denials = denied_rows(bot)[before:]
        said = text_of(replies)
        if allowed(role, action):
            assert not new_denials, f"{role} pressing {action_id}: {said}"
        else:
            assert [(r["action"], r["user_id"]) for r in new_denials] == [(action, user)]
            assert f"needs the *{REQUIRED_ROLE[action]}* role" in said
    # Nothing a refused click did reached the dialer.
    if role in (None, "viewer"):
        assert not [r for r in bot.sim.requests if r["method"] == "PUT"]


async def test_no_grant_start_is_refused_and_audited(bot: Bot) -> None:
    """No grant, no command: refused in words, nothing sent, and the refusal audited."""
    replies = await run_as(bot, "start 1", "UNOBODY")
    said = text_of(replies)
    assert "`start` needs the *operator* role" in said and "<@UADMIN>" in said
    assert not [r for r in bot.sim.requests if "/dialer/campaigns/1" in r["path"]]
    rows = denied_rows(bot)
    assert len(rows) == 1
    assert (rows[0]["action"], rows[0]["user_id"], rows[0]["campaign_id"]) == (
        "start",
        "UNOBODY",
        1,
    )
    entry = bot.services.store.audit.history(limit=1)[0]
    assert entry.outcome == "denied" and "needs operator" in (entry.detail or "")
    # help is the one thing a user without a grant can do.
    assert "dialer-bot commands" in text_of(await run_as(bot, "help", "UNOBODY"))


async def test_channel_scoped_grant(bot: Bot) -> None:
    await grant(bot, "UOPS", "operator", ["C0001"])
    inside = await run_as(bot, "start 1", "UOPS", channel="C0001")
    assert "Confirm start" in text_of(inside)
    outside = await run_as(bot, "start 1", "UOPS", channel="C0002")
    assert "needs the *operator* role in this channel" in text_of(outside)
    outside = await run_as(bot, "campaigns", "UOPS", channel="C0002")
    assert "needs the *viewer* role" in text_of(outside)
    # Buttons too: the same Start button pressed in another channel is refused.
    replies = await click_as(bot, "control:start", "1", "UOPS", channel="C0002")
    assert "needs the *operator* role" in text_of(replies)
    denied = [(r["action"], r["channel_id"]) for r in denied_rows(bot)]
    assert denied == [("start", "C0002"), ("campaigns", "C0002"), ("start", "C0002")]


async def test_channel_grant_adds_to_a_global_role(bot: Bot) -> None:
    await grant(bot, "UMIX", "viewer")
    await grant(bot, "UMIX", "operator", ["C0001"])
    role_of = bot.services.access.role_of
    assert await role_of("UMIX", "C0001") == "operator"
    assert await role_of("UMIX", "C0002") == "viewer"
    assert await role_of("UNOBODY", "C0001") is None


async def test_grant_list_revoke_through_slack(bot: Bot) -> None:
    replies = await run_as(
        bot, "access grant <@UBOB|bob> Operator <#C0001|ops> <#C0002|ops-2>", "UADMIN"
    )
    assert "<@UBOB> is now *operator* in <#C0001>, <#C0002>" in text_of(replies)
    grants = bot.services.store.grants.for_user("UBOB")
    assert [(g.role, g.channel_id, g.granted_by) for g in grants] == [
        ("operator", "C0001", "UADMIN"),
        ("operator", "C0002", "UADMIN"),
    ]
    # Only IDs are stored: the display names Slack sent are nowhere in the database.
    dump = "\n".join(bot.services.store.db.conn.iterdump())
    assert "bob" not in dump and "ops-2" not in dump

    await run_as(bot, "access grant <@UCAROL> viewer", "UADMIN")
    listing = text_of(await run_as(bot, "access list", "UADMIN"))
    assert "<@UBOB> *operator* in <#C0001>" in listing
    assert "<@UCAROL> *viewer* in every channel" in listing
    assert "DIALER_ADMINS" in listing and "<@UADMIN>" in listing

    again = await run_as(bot, "access grant <@UBOB|bob> operator <#C0001|ops>", "UADMIN")
    assert "already was *operator*" in text_of(again)

    revoked = await run_as(bot, "access revoke <@UBOB|bob>", "UADMIN")
    assert "Removed 2 grants of <@UBOB>" in text_of(revoked)
    assert bot.services.store.grants.for_user("UBOB") == []
    assert "needs the *viewer* role" in text_of(await run_as(bot, "campaigns", "UBOB"))

    rows = [r for r in audit_rows(bot) if r["action"] in ("grant", "revoke")]
    assert [(r["action"], r["outcome"], r["user_id"]) for r in rows] == [
        ("grant", "ok", "UADMIN"),
        ("grant", "ok", "UADMIN"),
        ("grant", "ok", "UADMIN"),
        ("revoke", "ok", "UADMIN"),
    ]
    first = json.loads(rows[0]["request"])
    assert first.pop("request_id").startswith("r")  # joins the row to its log lines
    assert first == {
        "user_id": "UBOB",
        "role": "operator",
        "channels": ["C0001", "C0002"],
    }
    assert json.loads(rows[1]["request"])["channels"] is None
    assert {k: v for k, v in json.loads(rows[3]["request"]).items() if k != "request_id"} == {
        "user_id": "UBOB",
        "role": None,
        "channels": ["C0001", "C0002"],
    }
    assert bot.services.store.audit.verify().ok


async def test_revoke_one_role_keeps_the_others(bot: Bot) -> None:
    await grant(bot, "UBOB", "viewer")
    await grant(bot, "UBOB", "operator", ["C0001"])
    replies = await run_as(bot, "access revoke <@UBOB> operator", "UADMIN")
    assert "Removed 1 *operator* grant of <@UBOB>" in text_of(replies)
    assert [g.role for g in bot.services.store.grants.for_user("UBOB")] == ["viewer"]


async def test_bootstrap_admins_are_not_revoked_by_command(bot: Bot) -> None:
    replies = await run_as(bot, "access revoke <@UADMIN>", "UADMIN")
    assert "DIALER_ADMINS" in text_of(replies)
    assert await bot.services.access.role_of("UADMIN", "C0009") == "admin"


async def test_only_admins_manage_access(bot: Bot) -> None:
    await grant(bot, "UOPER", "operator")
    replies = await run_as(bot, "access grant <@UOPER> admin", "UOPER")
    assert "needs the *admin* role" in text_of(replies)
    assert [g.role for g in bot.services.store.grants.for_user("UOPER")] == ["operator"]
    assert [(r["action"], r["outcome"]) for r in denied_rows(bot)] == [("access", "denied")]


async def test_channel_admin_cannot_grant_beyond_their_channel(bot: Bot) -> None:
    await grant(bot, "UCHAN", "admin", ["C0001"])
    replies = await run_as(bot, "access grant <@UBOB> operator", "UCHAN", channel="C0001")
    assert "where you are admin" in text_of(replies)
    replies = await run_as(bot, "access grant <@UBOB> operator <#C0002>", "UCHAN", channel="C0001")
    assert "where you are admin" in text_of(replies)
    assert bot.services.store.grants.for_user("UBOB") == []
    replies = await run_as(bot, "access grant <@UBOB> operator <#C0001>", "UCHAN", channel="C0001")
    assert "is now *operator* in <#C0001>" in text_of(replies)
    denied = [json.loads(r["request"]) for r in denied_rows(bot) if r["action"] == "grant"]
    assert [d["channels"] for d in denied] == [None, ["C0002"]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("access grant @bob operator", "is not one"),
        ("access grant <@UBOB> superuser", "is not a role"),
        ("access grant <@UBOB> operator #ops", "is not one"),
        ("access grant <@UBOB>", "needs a user and a role"),
        ("access revoke", "needs a user"),
        ("access frobnicate", "knows grant, revoke and list"),
        ("access grant <@UBOB> operator <#C1|x> <!channel>", "is not one"),
    ],
)
async def test_access_usage_errors_are_answered_in_the_ack(
    bot: Bot, text: str, expected: str
) -> None:
    reply = await bot.command(text, user_id="UADMIN")
    assert reply.json is not None and expected in reply.json["text"], reply.json
    assert "<!channel>" not in reply.json["text"]
    await bot.settle()
    assert bot.services.store.grants.all() == []
