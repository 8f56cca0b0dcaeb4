"""Scheduled commands: the grammar and time zones (pure: no bot, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.find import Ref
from handlers.commands import UsageError, parse
from handlers.grammar import Scheduled, parse_when

PRAGUE = ZoneInfo("Europe/Prague")


def when(text: str) -> Any:
    return parse_when(text.split())


def test_in_durations() -> None:
    now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert when("in 10s").resolve(now, PRAGUE) == now + timedelta(seconds=10)
    assert when("in 30m").resolve(now, PRAGUE) == now + timedelta(minutes=30)
    assert when("in 2h").resolve(now, PRAGUE) == now + timedelta(hours=2)
    assert when("in 1h30m").resolve(now, PRAGUE) == now + timedelta(minutes=90)


def test_wall_clock_in_the_users_zone() -> None:
    now = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)  # 06:00 in Prague (CET, +1)
    assert when("at 08:00").resolve(now, PRAGUE) == datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    assert when("tomorrow 08:00").resolve(now, PRAGUE) == datetime(2026, 12, 2, 7, tzinfo=UTC)
    assert when("tomorrow at 8:00").resolve(now, PRAGUE) == datetime(2026, 12, 2, 7, tzinfo=UTC)
    ny = ZoneInfo("America/New_York")
    assert when("at 2026-12-24 08:00").resolve(now, ny) == datetime(2026, 12, 24, 13, tzinfo=UTC)


def test_dst_change() -> None:
    """Prague moves to summer time on 2027-03-28: the same 08:00 is an hour earlier in UTC."""
    now = datetime(2027, 3, 27, 12, 0, tzinfo=UTC)
    assert when("tomorrow 08:00").resolve(now, PRAGUE) == datetime(2027, 3, 28, 6, tzinfo=UTC)
    assert when("at 2027-03-27 20:00").resolve(now, PRAGUE) == datetime(2027, 3, 27, 19, tzinfo=UTC)
    # `in` is a duration: 24 h later is 24 h later, whatever the clocks do.
    assert when("in 24h").resolve(now, PRAGUE) == now + timedelta(hours=24)
    # 02:30 does not exist that night: refused, not silently moved.
    with pytest.raises(ValueError, match="does not exist"):
        when("at 2027-03-28 02:30").resolve(now, PRAGUE)
    # 02:30 on 2027-10-31 happens twice: the first (summer time) is meant.
    later = datetime(2027, 10, 30, 12, 0, tzinfo=UTC)
    assert when("at 2027-10-31 02:30").resolve(later, PRAGUE) == datetime(
        2027, 10, 31, 0, 30, tzinfo=UTC
    )


def test_past_times_are_refused() -> None:
    now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # 11:00 in Prague
    with pytest.raises(ValueError, match="in the past.*tomorrow"):
        when("at 09:00").resolve(now, PRAGUE)
    with pytest.raises(ValueError, match="in the past"):
        when("at 2026-11-30 12:00").resolve(now, PRAGUE)


@pytest.mark.parametrize(
    "text, said",
    [
        ("start 1 at 25:00", "24-hour HH:MM"),
        ("start 1 at 2026-13-01 08:00", "not a date in the calendar"),
        ("start 1 in soon", "duration such as `in 10s`"),
        ("start 1 in 0s", "is now"),
        ("start 1 at", "24-hour HH:MM"),
        ("remove 1 at 08:00", "cannot be scheduled"),
        ("start 0 at 08:00", "not a valid campaign id"),  # a name is fine: start x at 08:00
    ],
)
def test_bad_times_say_what_to_do(text: str, said: str) -> None:
    with pytest.raises(UsageError) as err:
        parse(text)
    assert said in err.value.text and "Usage:" in err.value.text


def test_the_router_reads_a_schedule() -> None:
    sub, cmd = parse("pause 12 in 10s")
    assert sub.name == "pause" and cmd.when is not None
    assert cmd.scheduled() == Scheduled("pause", 12, cmd.when)
    start = parse("start 12")[1]  # without a time: an id (or a name), as before
    assert (start.campaign, start.when) == (Ref(id=12), None)
