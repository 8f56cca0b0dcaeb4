"""The words after `/dialer start|pause|unpause|reload <id>`: a time, several ids, or `all`.

Pure parsing, no I/O, so usage errors go back in the ack. Resolving a time needs the
user's zone (users.info), so it is a second step after the ack: :meth:`When.resolve`.

    start 12 at 08:00            today at 08:00 in the user's zone (refused once past)
    start 12 at 2026-12-24 08:00 a date and time in the user's zone
    start 12 tomorrow 08:00      (also `tomorrow at 08:00`)
    start 12 in 30m              in 10s, 30m, 2h, 1h30m: from now, whatever the zone
    start spring at 08:00        a name instead of the id (bot/find.py resolves it after
    pause "Outage Brno" in 30m   the ack; several matches ask, nothing is scheduled first)
    pause all | pause 3 5 9      the emergency stop (handlers/emergency/); names may join
    pause 3 spring "Outage Brno" the ids, each matching one campaign word for word
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.find import Ref
from bot.ids import positive_int
from handlers.blocks import esc

SCHEDULABLE = ("start", "pause", "unpause", "reload")
WHEN_WORDS = ("at", "in", "tomorrow")
MAX_AHEAD = timedelta(days=366)
MAX_IDS = 100
_DURATION = re.compile(r"^(?:(\d{1,4})h)?(?:(\d{1,5})m(?:in)?)?(?:(\d{1,6})s)?$")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@dataclass(frozen=True)
class When:
    """A time as typed: ``in`` a duration, or a wall-clock time on a day (None: today)."""

    delay: timedelta | None = None
    clock: time | None = None
    day: date | None = None
    tomorrow: bool = False
    text: str = ""

    def resolve(self, now: datetime, zone: ZoneInfo) -> datetime:
        """The UTC instant meant; ValueError (a sentence) for a past or non-existent time."""
        now = now.astimezone(UTC)
        if self.delay is not None:
            return now + self.delay
        assert self.clock is not None
        today = now.astimezone(zone).date()
        day = self.day or (today + timedelta(days=1) if self.tomorrow else today)
        wall = datetime.combine(day, self.clock)
        local = wall.replace(tzinfo=zone)  # fold=0: of an hour that repeats, the first
        due = local.astimezone(UTC)
        if due.astimezone(zone).replace(tzinfo=None) != wall:
            raise ValueError(
                f"{wall:%Y-%m-%d %H:%M} does not exist in {zone.key}: the clocks skip that "
                "hour for daylight saving time. Pick a time outside the skipped hour"
            )
        if due <= now:
            hint = "`tomorrow HH:MM` or a date such as `at 2026-12-24 08:00`"
            raise ValueError(
                f"{wall:%Y-%m-%d %H:%M} ({zone.key}) is in the past: it is now "
                f"{now.astimezone(zone):%Y-%m-%d %H:%M} there. Use {hint}"
            )
        if due - now > MAX_AHEAD:
            raise ValueError("is more than a year ahead; schedule at most 366 days ahead")
        return due


@dataclass(frozen=True)
class Scheduled:
    """`start 12 at 08:00`: run `command` on one campaign later. ``campaign_id`` is a Ref
    (`start spring at 08:00`) until the router has resolved the name into an id."""

    command: str
    campaign_id: int | Ref
    when: When


@dataclass(frozen=True)
class PauseAllRequest:
    """`pause all`: read the running campaigns and confirm once."""


@dataclass(frozen=True)
class PauseMany:
    """`pause 3 5 9`: several ids at once. ``names``: `pause 3 spring "Outage Brno"`, each
    to match exactly one campaign word for word (it runs at once), else nothing runs."""

    ids: tuple[int, ...]
    names: tuple[str, ...] = ()


def _is_id(raw: str) -> bool:
    bare = raw.lstrip("#")
    return bare.isascii() and bare.isdigit()


def _scheduled_by_name(command: str, args: list[str]) -> Scheduled:
    """`start spring promo at 08:00`: the name is every word before the first `at`, `in`
    or `tomorrow` that starts a valid time (so "Calls in Brno at 08:00" works)."""
    lowered = [a.lower() for a in args]
    error: ValueError | None = None
    for i in range(1, len(args)):
        if lowered[i] not in WHEN_WORDS:
            continue
        try:
            when = parse_when(args[i:])
        except ValueError as exc:
            error = error or exc
            continue
        return Scheduled(command, Ref.parse(args[:i], "campaign"), when)
    assert error is not None
    raise ValueError(
        f"{error}. A campaign name with `at`, `in` or `tomorrow` in it goes in quotes: "
        f'`/dialer {command} "Calls in Brno"`'
    )


def _id(raw: str) -> int:
    value = positive_int(raw.lstrip("#"))
    if value is None:
        raise ValueError(f"`{_plain(raw)}` is not a valid campaign id (a whole number such as 12)")
    return value


def _plain(raw: str) -> str:
    """Echo a word back escaped and short."""
    return esc(raw[:40])


def parse_when(words: list[str]) -> When:
    """`at 08:00`, `at 2026-12-24 08:00`, `tomorrow [at] 08:00`, `in 30m` (ValueError else)."""
    text = " ".join(words)
    lowered = [w.lower() for w in words]
    if not lowered:
        raise ValueError("needs a time after the campaign id")
    head, rest = lowered[0], lowered[1:]
    if head == "in":
        match = _DURATION.match("".join(rest))
        if not rest or not match or not any(match.groups()):
            raise ValueError(
                f"`{_plain(text)}`: give a duration such as `in 10s`, `in 30m`, `in 2h` "
                "or `in 1h30m`"
            )
        h, m, s = (int(g or 0) for g in match.groups())
        delay = timedelta(hours=h, minutes=m, seconds=s)
        if delay <= timedelta(0):
            raise ValueError("`in 0s` is now: run the command without a time instead")
        if delay > MAX_AHEAD:
            raise ValueError("is more than a year ahead; schedule at most 366 days ahead")
        return When(delay=delay, text=text)
    tomorrow = head == "tomorrow"
    if tomorrow:
        rest = rest[1:] if rest[:1] == ["at"] else rest
    elif head != "at":
        raise ValueError(f"`{_plain(text)}`: a time starts with `at`, `tomorrow` or `in`")
    day: date | None = None
    if len(rest) == 2 and not tomorrow:
        d = _DATE.match(rest[0])
        if not d:
            raise ValueError(f"`{_plain(rest[0])}` is not a date: write it as 2026-12-24")
        try:
            day = date(int(d.group(1)), int(d.group(2)), int(d.group(3)))
        except ValueError:
            raise ValueError(f"`{_plain(rest[0])}` is not a date in the calendar") from None
        rest = rest[1:]
    if len(rest) != 1 or not _CLOCK.match(rest[0]):
        raise ValueError(
            f"`{_plain(text)}`: write the time as 24-hour HH:MM, e.g. `at 08:00`, "
            "`at 2026-12-24 08:00` or `tomorrow 08:00`"
        )
    c = _CLOCK.match(rest[0])
    assert c is not None
    return When(clock=time(int(c.group(1)), int(c.group(2))), day=day, tomorrow=tomorrow, text=text)


def control_parser(command: str, single: Callable[[list[str]], Any]) -> Callable[[list[str]], Any]:
    """The parser of `/dialer <command> …`: a time or several ids here, else ``single``.

    ``single`` is the router's own one-id parser, so its extensions (e.g. a reason after
    the id) keep working for everything this module does not recognise.
    """

    def parse(args: list[str]) -> Any:
        lowered = [a.lower() for a in args]
        if command == "pause" and lowered == ["all"]:
            return PauseAllRequest()
        if len(args) >= 2 and any(w in WHEN_WORDS for w in lowered[1:]):
            if command not in SCHEDULABLE:
                raise ValueError(
                    f"cannot be scheduled; only {', '.join(SCHEDULABLE)} can run at a set time"
                )
            if lowered[1] in WHEN_WORDS and _is_id(args[0]):
                return Scheduled(command, _id(args[0]), parse_when(args[1:]))
            if not _is_id(args[0]):
                return _scheduled_by_name(command, args)
        several = command == "pause" and len(args) >= 2 and "because" not in lowered
        n_ids = sum(_is_id(a) for a in args)
        # One id then words reads as a reason without `because` (`pause 1 since monday`):
        # the one-id parser says so. Otherwise names (one word each) may join the ids.
        if several and n_ids and not (n_ids == 1 and _is_id(args[0])):
            if len(args) > MAX_IDS:
                raise ValueError(f"takes at most {MAX_IDS} ids; use `/dialer pause all`")
            names = tuple(a for a in args if not _is_id(a))
            if any(len(n) > 200 for n in names):
                raise ValueError("takes campaign names of at most 200 characters")
            return PauseMany(tuple(_id(a) for a in args if _is_id(a)), names)
        return single(args)

    return parse
