"""The App Home says a running campaign is inside its active period only when the clock
(in BOT_TIMEZONE) is; otherwise it says when the next window opens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.period import ActivePeriod
from tests.conftest import ADMIN, Bot
from tests.fake_slack import FakeSlack
from tests.test_home import hbot, open_home  # noqa: F401  (the fixture)
from tests.test_watch import portal_set_state

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


async def home_line(b: Bot, campaign_id: int, period: dict[str, object]) -> str:
    b.sim.state.campaigns[campaign_id]["activePeriod"] = period
    await portal_set_state(b.sim, campaign_id, "running")
    await b.services.watcher.poll_once()
    text = FakeSlack.texts({"view": await open_home(b, ADMIN)})
    start = text.index(f"(#{campaign_id}) — ")
    return text[start : text.index("\n", text.index("\n", start) + 1)]  # state, period


async def test_running_outside_its_days_says_when_the_next_window_opens(hbot: Bot) -> None:  # noqa: F811
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    line = await home_line(
        hbot, 2, {"startTime": "09:00", "endTime": "10:00", "weekDays": [tomorrow.isoweekday()]}
    )
    assert "inside its active period" not in line
    assert f"outside its active period; next window opens {DAYS[tomorrow.weekday()]} 09:00" in line


async def test_running_inside_its_window_says_so(hbot: Bot) -> None:  # noqa: F811
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
