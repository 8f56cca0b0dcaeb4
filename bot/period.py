"""A campaign's active period as a clock reads it: whether `now` is inside, and when the next
window opens.

The dialer's activePeriod is a daily window (startTime–endTime) on week days 1=Mon..7=Sun,
read in BOT_TIMEZONE. An endTime not after startTime crosses midnight: the window opens on
one of its week days and closes the next morning. The state alone cannot say this: a
campaign may be `running` outside its window.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta


@dataclass(frozen=True)
class ActivePeriod:
    start: time
    end: time
    week_days: frozenset[int]

    @classmethod
    def read(
        cls, start: object, end: object, week_days: Iterable[object] | None
    ) -> ActivePeriod | None:
        """The period of a campaign record, or None when its times are missing or unreadable
        (then nothing can be said about the clock)."""
        try:
            opens = time.fromisoformat(str(start))
            closes = time.fromisoformat(str(end))
        except ValueError:
            return None
        days = frozenset(d for d in week_days or () if isinstance(d, int) and 1 <= d <= 7)
        return cls(opens.replace(tzinfo=None), closes.replace(tzinfo=None), days)

    @property
    def overnight(self) -> bool:
        return self.end <= self.start

    def contains(self, now: datetime) -> bool:
        """Inside the window at `now` (an aware datetime in BOT_TIMEZONE)."""
        clock = now.time().replace(tzinfo=None)
        today = now.isoweekday()
        if not self.overnight:
            return today in self.week_days and self.start <= clock < self.end
        yesterday = today - 1 or 7
        return (today in self.week_days and clock >= self.start) or (
            yesterday in self.week_days and clock < self.end
        )

    def next_opening(self, now: datetime) -> datetime | None:
        """When the next window opens after `now`, in now's zone; None without week days."""
        for ahead in range(8):
            day = now.date() + timedelta(days=ahead)
            if day.isoweekday() not in self.week_days:
                continue
            opening = datetime.combine(day, self.start, tzinfo=now.tzinfo)
            if opening > now:
                return opening
        return None
