"""The readers of each /dialer subcommand's words: pure functions, no I/O, so the router
can answer a usage error in the ack itself. Each raises ValueError with a sentence that
completes "`/dialer x` …" and says what to type instead.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from bot.find import Filter, Ref
from handlers.args import positive_arg

_WORD = re.compile("[^" + shlex.shlex().whitespace + "]+")  # a word, as shlex splits them


def no_args(args: list[str]) -> None:
    if args:
        raise ValueError("takes no arguments")


def campaign_ref(args: list[str]) -> Ref:
    """An id, or a name (bot/find.py resolves it after the ack, on the fresh list)."""
    if len(args) == 1 and args[0].lstrip("#").isascii() and args[0].lstrip("#").isdigit():
        return Ref(id=positive_arg(args[0], "campaign id"))
    return Ref.parse(args, "campaign")


def filters(args: list[str]) -> tuple[Filter, int]:
    return Filter.parse(args)


@dataclass(frozen=True)
class WithReason:
    """`/dialer pause 12 because the list is wrong`: the id, and why (audited, announced).
    ``campaign_id`` is a Ref until run_subcommand has resolved a name into an id."""

    campaign_id: int | Ref
    reason: str | None = None


REASON_MAX = 300


def id_because(args: list[str]) -> WithReason:
    """`<id|name> [because <reason>]`: a name is every word before `because`."""
    lowered = [a.lower() for a in args]
    first_is_id = bool(args) and args[0].lstrip("#").isascii() and args[0].lstrip("#").isdigit()
    if first_is_id and len(args) > 1 and lowered[1] != "because":
        raise ValueError("takes a campaign id (or name), then optionally `because <reason>`")
    cut = lowered.index("because") if "because" in lowered else len(args)
    reason = " ".join(args[cut + 1 :])[:REASON_MAX] or None
    if cut < len(args) and reason is None:
        raise ValueError("needs a reason after `because`")
    return WithReason(campaign_ref(args[:cut]), reason)


class ListNew:
    """`/dialer list new`: an alias of `/dialer upload`."""


def list_arg(args: list[str]) -> ListNew | Ref:
    """`/dialer list new` opens the upload form; `/dialer list <id|name>` shows one list."""
    if [a.lower() for a in args] == ["new"]:
        return ListNew()
    if not args:
        raise ValueError(
            "needs a call list id or name, or `new` (to see all the call lists: `/dialer lists`)"
        )
    return Ref.parse(args, "call list")


def subscribe_mode(args: list[str]) -> str | None:
    """`/dialer subscribe [threaded|flat]`: None keeps the channel's mode (threaded if new)."""
    if not args:
        return None
    if len(args) == 1 and args[0].lower() in ("threaded", "flat"):
        return args[0].lower()
    raise ValueError("takes `threaded` (one thread per campaign a day, the default) or `flat`")


def schedule_cancel(args: list[str]) -> int:
    if len(args) != 2 or args[0].lower() != "cancel":
        raise ValueError("takes `cancel <n>` (the number `/dialer schedules` shows)")
    return positive_arg(args[1], "schedule number")


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
