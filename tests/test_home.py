"""The App Home: contents per role, the 100-block limit, retried events, republishing, and a
running campaign said inside its active period only when the clock (in BOT_TIMEZONE) is;
otherwise when the next window opens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.period import ActivePeriod
from handlers.home.views import PAUSE_ALL_ACTION
from tests.block_checks import assert_valid_view
from tests.conftest import ADMIN, Bot, start_bot, stop_bot
from tests.fake_slack import FakeSlack
from tests.test_watch import portal_set_state

VIEWER, OPERATOR, NOBODY, REQUESTER = "UVIEW", "UOPER", "UNOBODY", "UREQ"


@pytest.fixture
async def hbot(simulator: Any, fake_slack: FakeSlack, tmp_path: Path) -> AsyncIterator[Bot]:
    b = await start_bot(simulator, fake_slack, tmp_path / "bot.db", approval_required="remove")
    grants = b.services.store.grants
    grants.grant(VIEWER, "viewer", None, ADMIN)
    grants.grant(OPERATOR, "operator", None, ADMIN)
    grants.grant(REQUESTER, "admin", None, ADMIN)
    b.services.home.spacing_s = 0.0  # Slack's pace is not what these tests are about
    await b.services.watcher.poll_once()  # the baseline snapshot the Home publishes from
    yield b
    await stop_bot(b)


async def open_home(b: Bot, user: str, **kw: Any) -> dict[str, Any]:
    before = len(b.slack.calls_to("views.publish"))
    reply = await b.driver.event({"type": "app_home_opened", "user": user, "tab": "home"}, **kw)
    assert reply.status == 200
    await b.settle()
    calls = b.slack.calls_to("views.publish")
    assert len(calls) > before, b.slack.describe()
    assert calls[-1].args["user_id"] == user
    view = calls[-1].args["view"]
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    assert_valid_view(view)
    return view


def action_ids(view: dict[str, Any]) -> set[str]:
    return {
        el["action_id"]
        for b in view["blocks"]
        for el in b.get("elements") or []
        if "action_id" in el
    }


async def test_home_per_role(hbot: Bot) -> None:
    nobody = await open_home(hbot, NOBODY)
    assert "no role" in FakeSlack.texts({"view": nobody})
    assert action_ids(nobody) == set()

    viewer = await open_home(hbot, VIEWER)
    text = FakeSlack.texts({"view": viewer})
    assert "The dialer is *reachable*" in text and "last successful poll" in text
    assert "*Spring promo* (#1) — ⏹️ stopped" in text and "Mon–Fri 09:00–17:00" in text
    assert action_ids(viewer) == {"campaign:show"}  # reading only

    operator = await open_home(hbot, OPERATOR)
    ids = action_ids(operator)
    assert {"control:start", "control:unpause", "control:reload"} <= ids
    assert "control:remove" not in ids  # admins only
    assert {"home:new_campaign", "home:upload", PAUSE_ALL_ACTION} <= ids

    admin = await open_home(hbot, ADMIN)
    assert "control:remove" in action_ids(admin)


async def test_running_first_and_window_and_unknown_states(hbot: Bot) -> None:
    await portal_set_state(hbot.sim, 2, "running")
    await portal_set_state(hbot.sim, 1, "<b>WEIRD</b>")
    await hbot.services.watcher.poll_once()
    view = await open_home(hbot, ADMIN)
    text = FakeSlack.texts({"view": view})
    assert text.index("(#2)") < text.index("(#1)")
    # Inside or not is the clock's (BOT_TIMEZONE, here UTC): the active-period tests below
    window = (
        "inside its active period now"
        if 8 <= datetime.now(UTC).hour < 20
        else "outside its active period; next window opens"
    )
    assert f"(#2) — 🟢 running\nevery day 08:00–20:00 · {window}" in text
    assert "(#1) — &lt;b&gt;WEIRD&lt;/b&gt;" in text


async def test_approvals_this_user_may_decide_and_last_commands(hbot: Bot) -> None:
    await hbot.command("remove 2", user_id=OPERATOR)  # needs admin: refused, and audited
    await hbot.settle()
    reply = await hbot.command("remove 1", user_id=REQUESTER, channel_id="C0001")
    assert reply.status == 200
    await hbot.settle()
    confirm = [c for c in hbot.replies() if FakeSlack.button_values(c.args, "control:confirm")]
    [token] = FakeSlack.button_values(confirm[-1].args, "control:confirm")
    await hbot.action("control:confirm", token, user_id=REQUESTER, channel_id="C0001")
    await hbot.settle()
    [approval] = hbot.services.store.approvals.open_requests()

    admin = await open_home(hbot, ADMIN)
    assert FakeSlack.button_values({"view": admin}, "approval:approve") == [str(approval.id)]
    assert f"<@{REQUESTER}> asks to remove *Spring promo* (#1)" in FakeSlack.texts({"view": admin})
    requester = await open_home(hbot, REQUESTER)  # never their own request
    assert FakeSlack.button_values({"view": requester}, "approval:approve") == []
    operator = await open_home(hbot, OPERATOR)  # remove needs admin
    assert FakeSlack.button_values({"view": operator}, "approval:approve") == []
    assert "*remove* #2 → 🚫 denied" in FakeSlack.texts({"view": operator})


async def test_the_100_block_limit(hbot: Bot) -> None:
    state = hbot.sim.state
    body = {k: v for k, v in state.campaigns[1].items() if k not in ("id", "state")}
    for i in range(80):
        state.add_campaign({**body, "name": f"Bulk {i}"})
    await hbot.services.watcher.poll_once()
    view = await open_home(hbot, ADMIN)
    assert len(view["blocks"]) <= 100
    [more] = [b for b in view["blocks"] if "more — `/dialer campaigns`" in FakeSlack.texts(b)]
    shown = sum(1 for b in view["blocks"] if b.get("block_id", "").startswith("campaign:"))
    assert FakeSlack.texts(more).startswith(f"{82 - shown} more")


async def test_a_retried_event_is_handled_once(hbot: Bot) -> None:
    await open_home(hbot, ADMIN, event_id="Ev1")
    before = len(hbot.slack.calls_to("views.publish"))
    reply = await hbot.driver.event(
        {"type": "app_home_opened", "user": ADMIN, "tab": "home"}, event_id="Ev1", retry_num=1
    )
    assert reply.status == 200
    await hbot.settle()
    assert len(hbot.slack.calls_to("views.publish")) == before


async def test_a_change_republishes_recent_viewers_once(hbot: Bot) -> None:
    await open_home(hbot, ADMIN)
    await open_home(hbot, VIEWER)
    hbot.slack.clear()
    await portal_set_state(hbot.sim, 1, "running")
    await portal_set_state(hbot.sim, 2, "running")
    await hbot.services.watcher.poll_once()
    await hbot.settle()
    published = [c.args["user_id"] for c in hbot.slack.calls_to("views.publish")]
    assert sorted(published) == [ADMIN, "UVIEW"]  # two changes, one publish each
    assert "(#1) — 🟢 running" in FakeSlack.texts(hbot.slack.calls_to("views.publish")[0].args)


# --- the active period ----------------------------------------------------------------------

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


async def home_line(b: Bot, campaign_id: int, period: dict[str, object]) -> str:
    b.sim.state.campaigns[campaign_id]["activePeriod"] = period
    await portal_set_state(b.sim, campaign_id, "running")
    await b.services.watcher.poll_once()
    text = FakeSlack.texts({"view": await open_home(b, ADMIN)})
    start = text.index(f"(#{campaign_id}) — ")
    return text[start : text.index("\n", text.index("\n", start) + 1)]  # state, period


async def test_running_outside_its_days_says_when_the_next_window_opens(hbot: Bot) -> None:
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    line = await home_line(
        hbot, 2, {"startTime": "09:00", "endTime": "10:00", "weekDays": [tomorrow.isoweekday()]}
    )
    assert "inside its active period" not in line
    assert f"outside its active period; next window opens {DAYS[tomorrow.weekday()]} 09:00" in line


async def test_running_inside_its_window_says_so(hbot: Bot) -> None:
    # 00:00–00:00 crosses midnight: the whole day, every day
    line = await home_line(
        hbot, 2, {"startTime": "00:00", "endTime": "00:00", "weekDays": [1, 2, 3, 4, 5, 6, 7]}
    )
    assert "every day 00:00–00:00 · inside its active period now" in line


def test_the_period_reads_the_clock_in_its_zone() -> None:
    prague = ZoneInfo("Europe/Prague")
    weekdays = ActivePeriod.read("09:00", "17:00", [1, 2, 3, 4, 5])
    assert weekdays is not None
    monday_8 = datetime(2026, 12, 7, 8, 0, tzinfo=prague)  # a Monday
    assert not weekdays.contains(monday_8)
    assert weekdays.next_opening(monday_8) == datetime(2026, 12, 7, 9, 0, tzinfo=prague)
    assert weekdays.contains(monday_8.replace(hour=16, minute=59))
    friday_18 = datetime(2026, 12, 11, 18, 0, tzinfo=prague)
    assert weekdays.next_opening(friday_18) == datetime(2026, 12, 14, 9, 0, tzinfo=prague)
    night = ActivePeriod.read("22:00", "06:00", [5])  # Friday night into Saturday
    assert night is not None
    assert night.contains(datetime(2026, 12, 12, 5, 0, tzinfo=prague))  # Saturday 05:00
    assert not night.contains(datetime(2026, 12, 13, 5, 0, tzinfo=prague))  # Sunday 05:00
    assert ActivePeriod.read(None, "06:00", [5]) is None
