"""Campaigns and call lists by name: "argument → one id, or ask".

Operators think in names. A slash-command argument is either a pure number (always an id)
or a name, matched case- and accent-insensitively (`Plzeň` = `plzen`) against the fresh
list from the one dialer client. No Slack here: callers render candidates themselves.

Matching goes in tiers, and the first tier with any match decides:

1. the whole name, folded (`outage brno` = "Outage Brno");
2. word for word: every word asked for is a whole word of the name (`spring`, `brno`);
3. loosely: every word asked for occurs somewhere in the name (`spr`, `out br`).

One match proceeds, several are candidates, none gives the nearest names. ``word_for_word``
(used by `pause`, which runs at once) stops after tier 2 and proceeds only on exactly one.

Also the one reading of a whole number from untrusted text (positive_int): slash-command
words, button values and form fields all go through it.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from bot.dialer.api import RUNNING_STATES, STATES, canonical_state

if TYPE_CHECKING:
    from bot.dialer import CallList, Campaign, DialerClient

NAME_MAX = 200  # longer "names" are typing accidents, not campaigns
CANDIDATES_MAX = 10
NEAREST_MAX = 3
_WORD = re.compile(r"\w+")
MAX_ID = 10**12 - 1


def positive_int(raw: object, *, max_value: int = MAX_ID) -> int | None:
    """The number, or None. ASCII digits only: str.isdigit() accepts '²', which int() refuses."""
    text = str(raw).strip()
    if not text or not text.isascii() or not text.isdigit() or len(text) > len(str(max_value)):
        return None
    value = int(text)
    return value if 0 < value <= max_value else None


class Named(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=Named)


def fold(text: str) -> str:
    """Case- and accent-free form: NFKD, drop combining marks, casefold, one space."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


@dataclass(frozen=True)
class Ref:
    """What a person typed for a campaign or call list: an id, or a name to look up."""

    id: int | None = None
    name: str | None = None

    @classmethod
    def parse(cls, args: Sequence[str], what: str = "campaign") -> Ref:
        """A pure number (``12`` or ``#12``) is an id; anything else is a name.

        Raises ValueError with the sentence the usage message starts with.
        """
        text = " ".join(a.strip() for a in args if a.strip())
        if not text:
            raise ValueError(f"needs a {what} id or name")
        bare = text[1:] if text.startswith("#") else text
        if bare.isascii() and bare.isdigit():
            value = positive_int(bare)
            if value is None:
                raise ValueError(f"`{text}` is not a valid {what} id (a whole number such as 12)")
            return cls(id=value)
        if len(text) > NAME_MAX:
            raise ValueError(f"takes a {what} name of at most {NAME_MAX} characters")
        if not words(text):
            raise ValueError(f"needs a {what} id or a name with letters or digits in it")
        return cls(name=text)

    def __str__(self) -> str:
        return f"#{self.id}" if self.id is not None else f'"{self.name}"'


@dataclass(frozen=True)
class Found(Generic[T]):
    """The answer for a name: exactly one ``match``, or ``candidates`` to choose from, or
    (neither) the ``nearest`` names."""

    query: str
    match: T | None = None
    candidates: tuple[T, ...] = ()
    nearest: tuple[T, ...] = ()
    # True when the list was cut to CANDIDATES_MAX: the person should type more of the name.
    more: bool = False


def _tiers(items: Sequence[T], query: str) -> tuple[list[T], list[T], list[T]]:
    q_fold, q_words = fold(query), words(query)
    whole = [i for i in items if fold(i.name) == q_fold]
    word_for_word = [i for i in items if q_words and set(q_words) <= set(words(i.name))]
    loose = [i for i in items if q_words and all(w in fold(i.name) for w in q_words)]
    return whole, word_for_word, loose


def match(items: Iterable[T], query: str, *, word_for_word: bool = False) -> Found[T]:
    """Match ``query`` against the names of ``items`` (see the module docstring)."""
    pool = sorted(items, key=lambda i: i.id)
    whole, word, loose = _tiers(pool, query)
    if word_for_word:
        strict = whole or word
        if len(strict) == 1:
            return Found(query, match=strict[0])
    first = whole or word or loose
    if len(first) == 1 and not word_for_word:
        return Found(query, match=first[0])
    if first:
        return Found(
            query, candidates=tuple(first[:CANDIDATES_MAX]), more=len(first) > CANDIDATES_MAX
        )
    return Found(query, nearest=tuple(nearest(pool, query)))


def nearest(items: Sequence[T], query: str, n: int = NEAREST_MAX) -> list[T]:
    """The names closest to ``query``, best first (difflib on the folded names)."""
    by_name: dict[str, list[T]] = {}
    for item in items:
        by_name.setdefault(fold(item.name), []).append(item)
    q = fold(query)
    close = difflib.get_close_matches(q, list(by_name), n=n, cutoff=0.4)
    if not close:  # a word of the query close to a word of a name
        scored = [
            (max(difflib.SequenceMatcher(None, w, nw).ratio() for nw in words(name)), name)
            for name in by_name
            if words(name)
            for w in words(query)[:5]
        ]
        close = [name for ratio, name in sorted(scored, reverse=True) if ratio >= 0.6]
        close = list(dict.fromkeys(close))[:n]
    return [item for name in close for item in by_name[name]][:n]


async def find_campaign(
    dialer: DialerClient, query: str, *, word_for_word: bool = False
) -> Found[Campaign]:
    """Match a campaign name on the fresh campaign list."""
    return match(await dialer.list_campaigns(), query, word_for_word=word_for_word)


async def find_call_list(dialer: DialerClient, query: str) -> Found[CallList]:
    """Match a call-list name on the fresh call-list list."""
    return match(await dialer.list_call_lists(), query)


# ---- filters: `/dialer campaigns running brno`, `/dialer lists paused` --------------------

# State words a filter takes: the bot's own state names (bot/dialer/api.py). `running`
# includes every state in which the dialer may be calling (RUNNING_STATES).
FILTER_STATES: tuple[str, ...] = ("running", "paused", "stopped", "completed")


def state_matches(raw_state: str, wanted: str) -> bool:
    canonical = canonical_state(raw_state)
    if wanted == "running":
        return canonical in RUNNING_STATES
    return canonical == wanted


@dataclass(frozen=True)
class Filter:
    """States (any of them) and words (all of them, in the name), both optional."""

    states: tuple[str, ...] = ()
    text: str = ""

    @classmethod
    def parse(cls, args: Sequence[str]) -> tuple[Filter, int]:
        """``[state …] [text …] [page]``: a trailing pure number is the page."""
        args = [a for a in args if a.strip()]
        page = 1
        if args and args[-1].isascii() and args[-1].isdigit():
            value = positive_int(args[-1])
            if value is None:
                raise ValueError(f"`{args[-1]}` is not a valid page number (such as 2)")
            page, args = value, args[:-1]
        states = tuple(dict.fromkeys(a.lower() for a in args if a.lower() in FILTER_STATES))
        text = " ".join(a for a in args if a.lower() not in FILTER_STATES)
        if len(text) > NAME_MAX:
            raise ValueError(f"takes a filter of at most {NAME_MAX} characters")
        return cls(states, text), page

    @classmethod
    def from_page_value(cls, value: str) -> tuple[Filter, int] | None:
        """A paging button's value, ``"<page> <filter words>"``; None when it is not one."""
        words_ = value.split()
        page = positive_int(words_[0]) if words_ else None
        try:
            wanted, _ = cls.parse(words_[1:])
        except ValueError:
            return None
        return None if page is None else (wanted, page)

    def page_value(self, page: int) -> str:
        """What a paging button carries, so the next page keeps this filter."""
        return f"{page} {self}".strip()

    def __bool__(self) -> bool:
        return bool(self.states or self.text)

    def __str__(self) -> str:
        """The words that parse back into this filter (kept on the paging buttons)."""
        return " ".join([*self.states, self.text]).strip()

    def name_matches(self, name: str) -> bool:
        folded = fold(name)
        return all(w in folded for w in words(self.text))

    def state_ok(self, raw_state: str) -> bool:
        return not self.states or any(state_matches(raw_state, s) for s in self.states)

    def campaigns(self, campaigns: Iterable[Campaign]) -> list[Campaign]:
        return [c for c in campaigns if self.state_ok(c.state) and self.name_matches(c.name)]

    def call_lists(
        self, lists: Iterable[CallList], campaigns: Iterable[Campaign] = ()
    ) -> list[CallList]:
        """By name; by state: the lists used by a campaign in one of those states."""
        used: set[int] = set()
        if self.states:
            for c in campaigns:
                if self.state_ok(c.state):
                    used.update(c.call_lists)
        return [
            cl for cl in lists if self.name_matches(cl.name) and (not self.states or cl.id in used)
        ]


def state_counts(campaigns: Iterable[Campaign]) -> dict[str, int]:
    """Campaigns per state as the dialer gave it (unknown states included): the known
    states in STATES order, then the others by name."""
    counts: dict[str, int] = {}
    for c in campaigns:
        counts[c.state] = counts.get(c.state, 0) + 1
    order = {state: i for i, state in enumerate(("running", *STATES))}
    return dict(sorted(counts.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))
