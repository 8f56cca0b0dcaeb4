"""Words of a slash command read as people mean them: ids, counts, user mentions.

Each reader raises ValueError with a sentence that completes "`/dialer x` …" and says
what to type instead, so the router can answer at once, in the ack.
"""

from __future__ import annotations

import re

from bot.ids import MAX_ID, positive_int
from handlers.blocks import esc

USER = re.compile(r"^<@([UW][A-Z0-9]{2,20})(?:\|[^>]{0,100})?>$|^([UW][A-Z0-9]{2,20})$")


CAMPAIGNS_HINT = "`/dialer campaigns` lists the campaigns and their ids"


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


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 number``, ``2 numbers``; ``many`` for irregular words (``entry``/``entries``)."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"
