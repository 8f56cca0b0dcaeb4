"""`/dialer` words read into typed commands: pure, no I/O, so a usage error goes back in
the ack itself. Every reader raises ValueError with a sentence that completes
"`/dialer x` …" and says what to type instead.

Each command names what it acts on in one field, ``campaign``: a :class:`Ref` (an id, or
a name bot/find.py resolves after the ack, on the fresh list), or None. Only `pause`
takes several (``several``: ids, names, or `all`). A time suffix is ``when``; resolving
it needs the user's zone (users.info), so that is a second step after the ack:
:meth:`When.resolve`.

    start 12 at 08:00            today at 08:00 in the user's zone (refused once past)
    start 12 at 2026-12-24 08:00 a date and time in the user's zone
    start 12 tomorrow 08:00      (also `tomorrow at 08:00`)
    start 12 in 30m              in 10s, 30m, 2h, 1h30m: from now, whatever the zone
    start spring at 08:00        a name instead of the id (several matches ask, nothing
    pause "Outage Brno" in 30m   is scheduled first)
    pause 12 because <reason>    the reason is audited and announced
    start 12 because <reason>    an admin's start (or unpause) outside enforced calling
    unpause 12 because <reason>  hours (audited)
    pause all | pause 3 5 9      the emergency stop; names may join the ids, each
    pause 3 spring "Outage Brno" matching one campaign word for word
    history #12 20 @bob failed   filters, one of each kind, in any order
    access grant @alice operator #ops
"""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.access import ROLES
from bot.control import CALLS_PEOPLE
from bot.find import MAX_ID, Filter, Ref, positive_int
from handlers.blocks import esc

# --- words ---------------------------------------------------------------------------------

_WORD = re.compile("[^" + shlex.shlex().whitespace + "]+")  # a word, as shlex splits them
USER = re.compile(r"^<@([UW][A-Z0-9]{2,20})(?:\|[^>]{0,100})?>$|^([UW][A-Z0-9]{2,20})$")
CHANNEL = re.compile(r"^<#([CG][A-Z0-9]{2,20})(?:\|[^>]{0,100})?>$|^([CG][A-Z0-9]{2,20})$")
CAMPAIGNS_HINT = "`/dialer campaigns` lists the campaigns and their ids"


def split_words(text: str) -> list[str]:
    """Words, with "double quotes" (Slack's “curly” ones too) holding a name together.

    Apostrophes stay letters ("Mike's list"); an unclosed quote falls back to spaces.
    """
    text = text.replace("\u201c", '"').replace("\u201d", '"').replace("\u201e", '"')
    if '"' not in text:  # nothing to hold together: the same words as shlex, at a tenth of it
        return _WORD.findall(text)
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.quotes = '"'
    lexer.escape = ""
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError:
        return text.replace('"', " ").split()


def positive_arg(
    raw: str, what: str, *, max_value: int = MAX_ID, hint: str = CAMPAIGNS_HINT
) -> int:
    """A whole number from 1 to ``max_value``; a leading ``#`` is allowed (``#12``)."""
    text = raw.lstrip("#")
    value = positive_int(text, max_value=max_value)
    if value is not None:
        return value
    if text.isascii() and text.isdigit() and int(text) > 0:
        shown = esc(text if len(text) <= 15 else text[:12] + "…")
        limit = f"at most {max_value}" if max_value < 10**6 else f"{len(str(max_value))} digits"
        raise ValueError(f"got `{shown}`, which is too large for a {what} ({limit}); {hint}")
    raise ValueError(f"`{esc(raw)}` is not a valid {what} (a whole number such as 12)")


def user_arg(raw: str) -> str | None:
    """The Slack user ID of a mention (``<@U123|bob>``), or None when ``raw`` is not one."""
    m = USER.match(raw)
    return (m.group(1) or m.group(2)) if m else None


def _is_id(raw: str) -> bool:
    bare = raw.lstrip("#")
    return bare.isascii() and bare.isdigit()


def _plain(raw: str) -> str:
    """Echo a word back escaped and short."""
    return esc(raw[:40])


def _nearest(word: str, choices: tuple[str, ...]) -> str | None:
    """The word meant when ``word`` is a typo of one of ``choices`` (`tomorow`)."""
    low = word.lower()
    if low in choices:
        return None
    near = difflib.get_close_matches(low, choices, n=1, cutoff=0.75)
    return near[0] if near else None


# --- times ---------------------------------------------------------------------------------

SCHEDULABLE = ("start", "pause", "unpause", "reload")
WHEN_WORDS = ("at", "in", "tomorrow")
_SPELT_OUT = ("tomorrow",)  # long enough that a typo of it is clearly one
MAX_AHEAD = timedelta(days=366)
_LONGEST = f"the longest delay is {MAX_AHEAD.days} days (`in {MAX_AHEAD.days * 24}h`)"
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m(?:in)?)?(?:(\d+)s)?$")
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
    """`start 12 at 08:00`: run ``command`` on one campaign later, as stored and confirmed.
    ``campaign_id`` is a Ref until the router has resolved a name into an id."""

    command: str
    campaign_id: int | Ref
    when: When


def _delay(text: str, rest: list[str]) -> timedelta:
    match = _DURATION.match("".join(rest))
    if not rest or not match or not any(match.groups()):
        raise ValueError(
            f"`{_plain(text)}`: give a duration such as `in 10s`, `in 30m`, `in 2h` or `in 1h30m`"
        )
    if any(len(g or "") > 9 for g in match.groups()):  # beyond any year, and beyond timedelta
        raise ValueError(f"`{_plain(text)}` is too far ahead: {_LONGEST}")
    h, m, s = (int(g or 0) for g in match.groups())
    delay = timedelta(hours=h, minutes=m, seconds=s)
    if delay <= timedelta(0):
        raise ValueError("`in 0s` is now: run the command without a time instead")
    if delay > MAX_AHEAD:
        raise ValueError(f"`{_plain(text)}` is {delay.days} days ahead: {_LONGEST}")
    return delay


def parse_when(words: list[str]) -> When:
    """`at 08:00`, `at 2026-12-24 08:00`, `tomorrow [at] 08:00`, `in 30m` (ValueError else)."""
    text = " ".join(words)
    lowered = [w.lower() for w in words]
    if not lowered:
        raise ValueError("needs a time after the campaign id")
    head, rest = lowered[0], lowered[1:]
    if head == "in":
        return When(delay=_delay(text, rest), text=text)
    tomorrow = head == "tomorrow"
    if tomorrow:
        rest = rest[1:] if rest[:1] == ["at"] else rest
    elif head != "at":
        meant = _nearest(head, _SPELT_OUT)
        if meant:
            raise ValueError(f"does not know `{_plain(words[0])}`: did you mean `{meant}`?")
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


# --- commands ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Command:
    """One /dialer line, read. ``campaign``: the one campaign it acts on (the router checks
    the role on it and resolves a name into an id after the ack); ``when``: run it later."""

    name: str
    campaign: Ref | None = None
    when: When | None = None

    @property
    def campaign_id(self) -> int:
        """The id, once the router has resolved the campaign."""
        assert self.campaign is not None and self.campaign.id is not None, self
        return self.campaign.id

    def scheduled(self) -> Scheduled:
        """The command to store and run at ``when``."""
        assert self.campaign is not None and self.when is not None
        ref = self.campaign
        return Scheduled(self.name, ref.id if ref.id is not None else ref, self.when)


@dataclass(frozen=True)
class Several:
    """`pause 3 5 9`: ids, and names each to match exactly one campaign word for word (they
    run at once); `pause all`: every running campaign, after one confirmation."""

    ids: tuple[int, ...] = ()
    names: tuple[str, ...] = ()
    every_running: bool = False


@dataclass(frozen=True, kw_only=True)
class Control(Command):
    """start, pause, unpause, reload, remove: one campaign (optionally later, and a pause,
    start or unpause with a reason), or for `pause` several at once."""

    reason: str | None = None
    several: Several | None = None


@dataclass(frozen=True, kw_only=True)
class Listing(Command):
    """`campaigns` and `lists`: states and name words to keep, and the page."""

    wanted: Filter = field(default_factory=Filter)
    page: int = 1


@dataclass(frozen=True, kw_only=True)
class ShowCallList(Command):
    """`list <id|name>`: one call list (bot/find.py resolves a name after the ack)."""

    call_list: Ref


DEFAULT_COUNT = 10
MAX_COUNT = 50
OUTCOME_FILTERS = ("failed", "denied")


@dataclass(frozen=True, kw_only=True)
class History(Command):
    """`history`: how many entries, and of whom or what outcome (``campaign``: of which)."""

    count: int = DEFAULT_COUNT
    user_id: str | None = None
    outcome: str | None = None


@dataclass(frozen=True, kw_only=True)
class AccessCommand(Command):
    """`access grant|revoke|list`: only the IDs of mentions are kept, so renaming a user or
    a channel changes nothing."""

    verb: str  # grant | revoke | list
    user_id: str | None = None
    role: str | None = None
    channels: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Subscribe(Command):
    """`subscribe [threaded|flat]`: None keeps the channel's mode (threaded if new)."""

    mode: str | None = None


@dataclass(frozen=True, kw_only=True)
class CancelSchedule(Command):
    """`schedule cancel <n>`: the number `/dialer schedules` shows."""

    number: int


@dataclass(frozen=True, kw_only=True)
class DncCommand(Command):
    """`dnc [add|remove|check|upload|export]`: numbers as typed (read with DEFAULT_REGION
    after the ack), and the reason after `because`."""

    verb: str  # status | add | remove | check | upload | export
    numbers: tuple[str, ...] = ()
    reason: str | None = None


# --- readers -------------------------------------------------------------------------------

REASON_MAX = 300
MAX_IDS = 100
MAX_CHANNELS = 20
CONTROL = ("start", "pause", "unpause", "reload", "remove")


def no_args(name: str, args: list[str]) -> Command:
    if args:
        raise ValueError("takes no arguments")
    return Command(name=name)


def campaign_ref(args: list[str], name: str = "campaign") -> Ref:
    """An id, or a name. After a control command, several bare ids are a mistake rather
    than a name made of numbers (that one goes in quotes): only `pause` takes several."""
    if len(args) == 1 and _is_id(args[0]):
        return Ref(id=positive_arg(args[0], "campaign id"))
    if name in CONTROL and len(args) > 1 and all(_is_id(a) for a in args):
        ids = " ".join(_plain(a) for a in args)
        raise ValueError(
            f"takes one campaign, not {len(args)}; only `pause` takes several "
            f"(`/dialer pause {ids}`), so {name} them one at a time: "
            f'`/dialer {name} {_plain(args[0])}`. A name made of numbers goes in quotes: `"{ids}"`'
        )
    return Ref.parse(args, "campaign")


def _one_campaign(name: str, args: list[str]) -> Command:
    return Command(name=name, campaign=campaign_ref(args, name))


def _misspelt_time(name: str, args: list[str]) -> None:
    """`start 12 tomorow 9:00`: say the word meant, rather than look for a campaign
    called "12 tomorow 9:00". A name's own words are left alone unless a time follows."""
    for i, word in enumerate(args[1:], start=1):
        meant = _nearest(word, _SPELT_OUT)
        after = args[i + 1].lower() if i + 1 < len(args) else ""
        if meant and (_is_id(args[0]) or after == "at" or _CLOCK.match(after)):
            example = " ".join([*args[:i], meant, *args[i + 1 :]])
            raise ValueError(
                f"does not know `{_plain(word)}`: did you mean `{meant}`? "
                f"e.g. `/dialer {name} {_plain(example)}`"
            )


def _scheduled_by_name(name: str, args: list[str]) -> Control:
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
        return Control(name=name, campaign=Ref.parse(args[:i], "campaign"), when=when)
    assert error is not None
    raise ValueError(
        f"{error}. A campaign name with `at`, `in` or `tomorrow` in it goes in quotes: "
        f'`/dialer {name} "Calls in Brno"`'
    )


def _because(args: list[str], name: str = "pause") -> Control:
    """`pause|start|unpause <id|name> [because <reason>]`: a name is every word before
    `because`."""
    lowered = [a.lower() for a in args]
    if args and _is_id(args[0]) and len(args) > 1 and lowered[1] != "because":
        rest = _plain(" ".join(args[1:]))
        raise ValueError(
            "takes a campaign id (or name), then optionally `because <reason>`: put "
            f"`because` before a reason, e.g. `/dialer {name} {_plain(args[0])} because {rest}`"
        )
    cut = lowered.index("because") if "because" in lowered else len(args)
    reason = " ".join(args[cut + 1 :])[:REASON_MAX] or None
    if cut < len(args) and reason is None:
        raise ValueError("needs a reason after `because`")
    return Control(name=name, campaign=campaign_ref(args[:cut], name), reason=reason)


def control(name: str, args: list[str]) -> Control:
    """start|pause|unpause|reload|remove: one campaign, a time, several ids, or `all`."""
    lowered = [a.lower() for a in args]
    if name == "pause" and lowered == ["all"]:
        return Control(name=name, several=Several(every_running=True))
    _misspelt_time(name, args)
    if len(args) >= 2 and any(w in WHEN_WORDS for w in lowered[1:]):
        if name not in SCHEDULABLE:
            raise ValueError(
                f"cannot be scheduled; only {', '.join(SCHEDULABLE)} can run at a set time"
            )
        if lowered[1] in WHEN_WORDS and _is_id(args[0]):
            ref = Ref(id=positive_arg(args[0], "campaign id"))
            return Control(name=name, campaign=ref, when=parse_when(args[1:]))
        if not _is_id(args[0]):
            return _scheduled_by_name(name, args)
    if name in CALLS_PEOPLE and "because" in lowered:
        return _because(args, name)  # an admin's reason to call outside enforced hours
    if name != "pause":
        return Control(name=name, campaign=campaign_ref(args, name))
    n_ids = sum(_is_id(a) for a in args)
    # One id then words reads as a reason without `because` (`pause 1 since monday`):
    # _because says so. Otherwise names (one word each) may join the ids.
    several = len(args) >= 2 and "because" not in lowered
    if several and n_ids and not (n_ids == 1 and _is_id(args[0])):
        if len(args) > MAX_IDS:
            raise ValueError(f"takes at most {MAX_IDS} ids; use `/dialer pause all`")
        names = tuple(a for a in args if not _is_id(a))
        if any(len(n) > 200 for n in names):
            raise ValueError("takes campaign names of at most 200 characters")
        ids = tuple(positive_arg(a, "campaign id") for a in args if _is_id(a))
        return Control(name=name, several=Several(ids, names))
    return _because(args)


def listing(name: str, args: list[str]) -> Listing:
    wanted, page = Filter.parse(args)
    return Listing(name=name, wanted=wanted, page=page)


def call_list(name: str, args: list[str]) -> Command:
    """`list new` is `upload` (the same form, the same role); `list <id|name>` shows one."""
    if [a.lower() for a in args] == ["new"]:
        return Command(name="upload")
    if not args:
        raise ValueError(
            "needs a call list id or name, or `new` (to see all the call lists: `/dialer lists`)"
        )
    return ShowCallList(name=name, call_list=Ref.parse(args, "call list"))


def subscribe(name: str, args: list[str]) -> Subscribe:
    if not args:
        return Subscribe(name=name)
    if len(args) == 1 and args[0].lower() in ("threaded", "flat"):
        return Subscribe(name=name, mode=args[0].lower())
    raise ValueError("takes `threaded` (one thread per campaign a day, the default) or `flat`")


def schedule_cancel(name: str, args: list[str]) -> CancelSchedule:
    if len(args) != 2 or args[0].lower() != "cancel":
        raise ValueError("takes `cancel <n>` (the number `/dialer schedules` shows)")
    return CancelSchedule(name=name, number=positive_arg(args[1], "schedule number"))


def history(name: str, args: list[str]) -> History:
    """One meaning per word, so no input is ambiguous: a lone number is a count, `#12` or
    `campaign 12|spring` a campaign, `@bob` a person, `failed|denied` an outcome; each at
    most once, in any order."""
    found: dict[str, object] = {}
    words = list(args)

    def put(kind: str, value: object, word: str) -> None:
        if kind == "count" and kind in found:
            raise ValueError(
                f"takes one count, and `{esc(word)}` is a second one; a campaign is named "
                f"with `#`, e.g. `history #{found[kind]} {esc(word)}`"
            )
        if kind == "outcome" and kind in found:
            raise ValueError(
                f"shows one outcome at a time; choose one: `history {found[kind]}` "
                f"or `history {esc(word.lower())}`"
            )
        if kind in found:
            raise ValueError(f"names a {kind} twice (`{esc(word)}`); give each at most once")
        found[kind] = value

    while words:
        word = words.pop(0)
        low = word.lower()
        if low == "campaign":
            if not words:
                raise ValueError(
                    "needs an id or a name after `campaign`, e.g. `history campaign 12`"
                    " or `history campaign spring`"
                )
            nxt = words.pop(0)
            put("campaign", _history_campaign(nxt), nxt)
        elif word.startswith("#") and len(word) > 1:
            put("campaign", _history_campaign(word), word)
        elif low in OUTCOME_FILTERS:
            put("outcome", low, word)
        elif word.startswith("<@") or word.startswith("@"):
            user = user_arg(word)
            if user is None:
                raise ValueError(
                    f"needs a user mention, and `{esc(word)}` is not one: pick the person "
                    "from Slack's @ list"
                )
            put("user", user, word)
        elif word.isascii() and word.isdigit():
            count = positive_arg(
                word,
                "count",
                max_value=MAX_COUNT,
                hint="the *Older ▶* button under the entries pages further back",
            )
            put("count", count, word)
        else:
            raise ValueError(
                f"does not know `{esc(word)}`: give a count (`history 20`), a campaign "
                "(`history #12`), a person (`history @bob`) or `failed` / `denied`"
            )
    campaign = found.get("campaign")
    return History(
        name=name,
        campaign=campaign if isinstance(campaign, Ref) else None,
        count=int(found.get("count", DEFAULT_COUNT)),  # type: ignore[call-overload]
        user_id=found.get("user"),  # type: ignore[arg-type]
        outcome=found.get("outcome"),  # type: ignore[arg-type]
    )


def _history_campaign(word: str) -> Ref:
    """`12`, `#12`: an id; anything else (`spring`, `#spring`, `"Outage Brno"`): a name."""
    bare = word.removeprefix("#")
    if bare.isascii() and bare.isdigit():
        return Ref(id=positive_arg(bare, "campaign id"))
    return Ref.parse([bare], "campaign")


def _mentioned_user(raw: str) -> str:
    user = user_arg(raw)
    if user is None:
        raise ValueError(
            f"needs a user mention, and `{esc(raw)}` is not one: pick the person from Slack's "
            "@ list (the /dialer command must have “Escape channels, users, and links” on)"
        )
    return user


def _channel(raw: str) -> str:
    m = CHANNEL.match(raw)
    if not m:
        raise ValueError(
            f"takes channel mentions after the role, and `{esc(raw)}` is not one: "
            "pick the channel from Slack's # list"
        )
    return m.group(1) or m.group(2)


def _role(raw: str) -> str:
    role = raw.lower()
    if role not in ROLES:
        raise ValueError(f"`{esc(raw)}` is not a role; use one of {', '.join(ROLES)}")
    return role


def access(name: str, args: list[str]) -> AccessCommand:
    """`access [list] | grant @user <role> [#channel …] | revoke @user [<role>] [#channel …]`."""
    if not args or args[0].lower() == "list":
        if len(args) > 1:
            raise ValueError("list takes no arguments")
        return AccessCommand(name=name, verb="list")
    verb, rest = args[0].lower(), args[1:]
    if verb == "grant":
        if len(rest) < 2:
            raise ValueError("grant needs a user and a role")
        channels = tuple(dict.fromkeys(_channel(c) for c in rest[2:]))
        if len(channels) > MAX_CHANNELS:
            raise ValueError(f"grant takes at most {MAX_CHANNELS} channels at a time")
        user, role = _mentioned_user(rest[0]), _role(rest[1])
        return AccessCommand(name=name, verb="grant", user_id=user, role=role, channels=channels)
    if verb == "revoke":
        if not rest:
            raise ValueError("revoke needs a user, optionally a role and channels")
        role = _role(rest[1]) if len(rest) > 1 and not CHANNEL.match(rest[1]) else None
        channels = tuple(dict.fromkeys(_channel(c) for c in rest[2 if role else 1 :]))
        if len(channels) > MAX_CHANNELS:
            raise ValueError(f"revoke takes at most {MAX_CHANNELS} channels at a time")
        user = _mentioned_user(rest[0])
        return AccessCommand(name=name, verb="revoke", user_id=user, role=role, channels=channels)
    raise ValueError(f"knows grant, revoke and list, not `{esc(verb)}`")


DNC_VERBS = ("add", "remove", "check", "upload", "export")
MAX_DNC_NUMBERS = 100
_DIGITS_OF_ONE = 8  # a word with this many digits is a whole number, not a piece of one


def dnc_numbers(words: list[str]) -> list[str]:
    """Numbers as typed: separated by commas or semicolons, or by spaces when each word is
    a whole number (`+420601123456 +420601123457`); otherwise the spaces are inside one
    number (`+420 601 123 456`)."""
    numbers: list[str] = []
    for part in re.split(r"[,;]", " ".join(words)):
        pieces = part.split()
        if not pieces:
            continue
        if all(sum(ch.isdigit() for ch in p) >= _DIGITS_OF_ONE for p in pieces):
            numbers.extend(pieces)
        else:
            numbers.append(" ".join(pieces))
    return numbers


def dnc(name: str, args: list[str]) -> DncCommand:
    """`dnc` | `dnc add <number> … [because <reason>]` | `dnc remove <number> … [because
    <reason>]` | `dnc check <number>` | `dnc upload` | `dnc export`."""
    if not args:
        return DncCommand(name=name, verb="status")
    verb, rest = args[0].lower(), args[1:]
    if verb not in DNC_VERBS:
        meant = _nearest(verb, DNC_VERBS)
        hint = f"did you mean `{meant}`? " if meant else ""
        raise ValueError(
            f"does not know `{_plain(args[0])}`: {hint}use one of {', '.join(DNC_VERBS)}"
        )
    if verb in ("upload", "export"):
        if rest:
            raise ValueError(f"{verb} takes no arguments")
        return DncCommand(name=name, verb=verb)
    lowered = [w.lower() for w in rest]
    cut = lowered.index("because") if "because" in lowered else len(rest)
    reason = " ".join(rest[cut + 1 :])[:REASON_MAX] or None
    if cut < len(rest) and reason is None:
        raise ValueError("needs a reason after `because`")
    numbers = dnc_numbers(rest[:cut])
    if not numbers:
        raise ValueError(f"{verb} needs a phone number, e.g. `/dialer dnc {verb} +420601123456`")
    if verb == "check":
        if len(numbers) > 1 or reason:
            raise ValueError("check takes one number")
        return DncCommand(name=name, verb=verb, numbers=tuple(numbers))
    if len(numbers) > MAX_DNC_NUMBERS:
        raise ValueError(
            f"{verb} takes at most {MAX_DNC_NUMBERS} numbers; for more, `/dialer dnc upload` "
            "takes a file"
        )
    return DncCommand(name=name, verb=verb, numbers=tuple(numbers), reason=reason)


Reader = Callable[[str, list[str]], Command]

READERS: dict[str, Reader] = {
    "help": no_args,
    "campaigns": listing,
    "campaign": _one_campaign,
    "ivr": no_args,
    "lists": listing,
    "upload": no_args,
    "list": call_list,
    "new": no_args,
    "edit": _one_campaign,
    "clone": _one_campaign,
    **dict.fromkeys(CONTROL, control),
    "schedules": no_args,
    "schedule": schedule_cancel,
    "history": history,
    "subscribe": subscribe,
    "unsubscribe": no_args,
    "subscriptions": no_args,
    "access": access,
    "dnc": dnc,
}


def read(name: str, args: list[str]) -> Command:
    """The command ``/dialer <name> <args>`` means; ValueError (a sentence) when it means none.

    ``name`` is a known subcommand, lowercased (the router answers unknown ones)."""
    return READERS[name](name, args)
