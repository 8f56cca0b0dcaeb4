"""Calling hours: would a campaign call people outside the hours they may be called, at
their own local time?

Many countries limit the hours at which a person may be called at that person's local
time (in the US, 08:00–21:00 local). The dialer runs a campaign's active period in the
dialer's zone (BOT_TIMEZONE); a list of New York numbers dialled 09:00–17:00 Prague time
is called 03:00–11:00 in New York. This module compares the two: the pure computation
(`check`) and the service that finds the zone counts of a campaign's lists
(`CallingHours`).

A number's zones come from the number itself (phonenumbers' time zone data). A number with
several possible zones (a country-wide mobile range, a US number in a split area code) is
counted in each of them: the check treats the whole set, so it warns if any of its zones
would be called outside the window (the counting is bot/numbers/zones.py).

DST: the active period is laid on each of the next 7 days in BOT_TIMEZONE and converted
to each zone, so a week in which only one side has changed its clocks shows both local
windows.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.numbers.zones import UNKNOWN_ZONE, count_numbers
from bot.period import ActivePeriod

if TYPE_CHECKING:
    from bot.dialer import Campaign, DialerClient
    from store import Store

log = logging.getLogger(__name__)

DAYS_EVALUATED = 7
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


# -- settings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Permitted:
    """The window in which a person may be called, at their local time, and on which days."""

    start: time
    end: time
    days: frozenset[int] = frozenset(range(1, 8))

    @classmethod
    def parse(cls, hours: str, days: str | None = None) -> Permitted:
        """`08:00-20:00` and optionally `1-5` or `1,2,3,4,5` (1 = Monday … 7 = Sunday);
        ValueError saying what is wrong."""
        parts = hours.replace("–", "-").split("-")
        if len(parts) != 2:
            raise ValueError("expected a window such as 08:00-20:00")
        try:
            start, end = (time.fromisoformat(p.strip()) for p in parts)
        except ValueError:
            raise ValueError("expected a window such as 08:00-20:00 (HH:MM-HH:MM)") from None
        if end == time(0) and start != time(0):
            end = time.max  # 20:00-00:00 means until midnight
        if end <= start:
            raise ValueError(
                "the window must end after it starts on the same day, e.g. 08:00-20:00"
            )
        return cls(start, end, parse_days(days) if days else frozenset(range(1, 8)))

    @property
    def label(self) -> str:
        text = f"{hhmm(self.start)}–{hhmm(self.end)}"
        if self.days != frozenset(range(1, 8)):
            text += " on " + ", ".join(DAY_NAMES[d - 1] for d in sorted(self.days))
        return text


def parse_days(text: str) -> frozenset[int]:
    """`1-5`, `1,2,3,4,5` or `1-5,7`: week days 1 = Monday … 7 = Sunday."""
    days: set[int] = set()
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        low, _, high = part.partition("-")
        try:
            a, b = int(low), int(high or low)
        except ValueError:
            raise ValueError("expected week days such as 1-5 or 1,2,3,4,5 (1 = Monday)") from None
        if not (1 <= a <= b <= 7):
            raise ValueError("week days run from 1 (Monday) to 7 (Sunday)")
        days.update(range(a, b + 1))
    if not days:
        raise ValueError("expected week days such as 1-5 or 1,2,3,4,5 (1 = Monday)")
    return frozenset(days)


def hhmm(t: time) -> str:
    return "24:00" if t == time.max else t.strftime("%H:%M")


# -- the pure computation ---------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    """Numbers of one zone that the active period would call outside the permitted window."""

    zone: str
    numbers: int
    local: tuple[str, ...]  # the local windows they would be called in, e.g. "03:00–11:00"
    permitted: str

    @property
    def text(self) -> str:
        windows = " or ".join(self.local)
        noun = "number" if self.numbers == 1 else "numbers"
        return (
            f"{self.numbers:,} {noun} in {self.zone} would be called at {windows} local time; "
            f"permitted {self.permitted}"
        )


def check(
    period: ActivePeriod,
    bot_zone: str,
    permitted: Permitted,
    zone_counts: Mapping[str, int],
    *,
    today: date,
    days: int = DAYS_EVALUATED,
) -> list[Violation]:
    """The zones whose numbers the active period would call outside ``permitted``.

    The period is laid on each of ``days`` days from ``today`` (in ``bot_zone``) that is
    one of its week days (no week days: every day, the cautious reading), converted to
    each zone. Unknown zones are skipped (`unknown_numbers` says how many). Largest first.
    """
    home = ZoneInfo(bot_zone)
    week_days = period.week_days or frozenset(range(1, 8))
    runs = []
    for ahead in range(days):
        day = today + timedelta(days=ahead)
        if day.isoweekday() not in week_days:
            continue
        opens = datetime.combine(day, period.start, tzinfo=home)
        closes = datetime.combine(day + timedelta(days=period.overnight), period.end, tzinfo=home)
        runs.append((opens, closes))
    found = []
    for zone, count in zone_counts.items():
        if zone == UNKNOWN_ZONE or count <= 0:
            continue
        try:
            there = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            log.warning("calling hours: zone %r is not known to this system", zone)
            continue
        bad: list[str] = []
        for opens, closes in runs:
            local_open, local_close = opens.astimezone(there), closes.astimezone(there)
            if _outside(local_open, local_close, permitted):
                label = _window(local_open, local_close, permitted)
                if label not in bad:
                    bad.append(label)
        if bad:
            found.append(Violation(zone, count, tuple(bad), permitted.label))
    return sorted(found, key=lambda v: (-v.numbers, v.zone))


def _outside(start: datetime, end: datetime, permitted: Permitted) -> bool:
    """Any moment of [start, end) (local, aware) outside the window or on a day not permitted."""
    piece = start
    while piece < end:
        midnight = datetime.combine(piece.date() + timedelta(days=1), time(0), tzinfo=piece.tzinfo)
        until = min(end, midnight)
        if piece.isoweekday() not in permitted.days:
            return True
        if piece.time() < permitted.start:
            return True
        if until == midnight:
            if permitted.end != time.max:
                return True
        elif until.time() > permitted.end:
            return True
        piece = until
    return False


def _window(start: datetime, end: datetime, permitted: Permitted) -> str:
    """`03:00–11:00`; the day is named when the permitted days matter or midnight is crossed."""
    text = f"{start:%H:%M}–{end:%H:%M}"
    if permitted.days != frozenset(range(1, 8)):
        text = f"{DAY_NAMES[start.isoweekday() - 1]} {text}"
    if end.date() != start.date() and end.time() != time(0):
        text += " (next day)"
    return text


# -- the service ----------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """What the check found for one campaign."""

    violations: tuple[Violation, ...] = ()
    unknown_lists: tuple[int, ...] = ()  # call lists whose numbers' zones cannot be told
    unknown_numbers: int = 0  # numbers with no known zone
    period_unreadable: bool = False
    enforced: bool = False
    permitted: str = ""

    @property
    def numbers_outside(self) -> int:
        return sum(v.numbers for v in self.violations)

    @property
    def warns(self) -> bool:
        return bool(self.violations or self.unknown_lists or self.period_unreadable)

    @property
    def refuses(self) -> bool:
        """Under enforcement only a violation refuses; "cannot tell" is said, not refused."""
        return self.enforced and bool(self.violations)

    def lines(self) -> list[str]:
        """Plain sentences (the views escape and format them)."""
        out = [v.text for v in self.violations]
        if self.violations:
            out.append("A number with several possible zones is counted in each of them.")
        if self.unknown_lists:
            ids = ", ".join(f"#{i}" for i in self.unknown_lists)
            out.append(f"Cannot tell the zones of the numbers of call list {ids}.")
        if self.period_unreadable:
            out.append("Cannot tell: the campaign's active period is not readable.")
        if self.unknown_numbers:
            out.append(f"{self.unknown_numbers:,} numbers have no known time zone.")
        return out


class CallingHours:
    """Compare a campaign's active period with the zones of its lists' numbers.

    Counts come from the store: kept at upload for lists the bot sent, or read once from
    the dialer (the call-list detail, an assumed read) and kept by list id."""

    def __init__(
        self,
        store: Store,
        dialer: DialerClient,
        *,
        permitted: Permitted | None,
        bot_zone: str,
        enforce: bool,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._dialer = dialer
        self.permitted = permitted
        self._zone = bot_zone
        self.enforce = enforce
        self._clock = clock
        # Lists whose detail read carries not all their numbers: read once per process,
        # then "cannot tell" without asking again (a read that failed is tried next time).
        self._untellable: set[int] = set()

    @property
    def active(self) -> bool:
        return self.permitted is not None

    async def check(self, campaign: Campaign) -> Report:
        """The report for ``campaign`` (empty when CALLING_HOURS is unset)."""
        if self.permitted is None:
            return Report()
        period = ActivePeriod.read(campaign.start_time, campaign.end_time, campaign.week_days)
        totals: Counter[str] = Counter()
        unknown_lists = []
        for list_id in campaign.call_lists:
            counts = await self.counts_for(list_id)
            if counts is None:
                unknown_lists.append(list_id)
            else:
                totals.update(counts)
        base = dict(
            unknown_lists=tuple(unknown_lists),
            unknown_numbers=totals.get(UNKNOWN_ZONE, 0),
            enforced=self.enforce,
            permitted=self.permitted.label,
        )
        if period is None:
            return Report(period_unreadable=bool(campaign.call_lists), **base)  # type: ignore[arg-type]
        today = self._clock().astimezone(ZoneInfo(self._zone)).date()
        found = check(period, self._zone, self.permitted, totals, today=today)
        return Report(violations=tuple(found), **base)  # type: ignore[arg-type]

    async def counts_for(self, list_id: int) -> dict[str, int] | None:
        """The zone counts of one list, or None when they cannot be told."""
        kept = await self._store.run(self._store.list_zones.get, list_id)
        if kept is not None:
            return kept
        if list_id in self._untellable:
            return None
        from bot.dialer import DialerError

        try:
            detail = await self._dialer.get_call_list(list_id)
        except DialerError as exc:
            log.info("calling hours: call list %s not readable: %s", list_id, exc.message)
            return None
        numbers = [e.number for e in detail.entries if e.number]
        partial = detail.numbers_count is not None and detail.numbers_count > len(numbers)
        if not numbers or partial:  # no numbers, or only the first ones: cannot tell
            self._untellable.add(list_id)
            return None
        from bot.numbers.pool import get_pool

        loop = asyncio.get_running_loop()
        counts = await loop.run_in_executor(get_pool(), count_numbers, numbers)
        await self._store.run(self._store.list_zones.put, list_id, counts, source="dialer")
        return counts
