"""Block Kit helpers: plain dicts, in the shapes slack_sdk.models would produce.

Built as literals because every ack and reply renders blocks: slack_sdk's models validate
on each to_dict(), which cost more than the rest of a help ack (measured with a profiler
on a help ack). The lengths are clipped here to Slack's limits, and the tests validate
every message and view the bot sends with slack_sdk.models (tests/block_checks.py).

`esc` is the one escaping helper: every text that comes from a user or the dialer
passes through it before it is put into mrkdwn. `dialer_error_text` is the one way a
dialer error becomes a sentence a person can act on, in the dialer's own words, escaped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.dialer.api import PATHS, canonical_state
from bot.dialer.models import DialerError

Block = dict[str, Any]
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SECTION_TEXT_MAX = 3000
MESSAGE_BLOCKS_MAX = 50


def esc(value: object) -> str:
    """Escape &, < and > so that user or dialer text can never ping or link."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_time(ts: str) -> str:
    """An ISO timestamp as Slack's <!date> token: shown in each reader's own time zone by
    Slack, with the UTC text as fallback (and the raw text, escaped, if it is not ISO)."""
    try:
        epoch = int(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return esc(ts)
    return f"<!date^{epoch}^{{date_short}} {{time_secs}}|{esc(ts)}>"


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 number``, ``2 numbers``; ``many`` for irregular words (``entry``/``entries``)."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def mrkdwn(text: str, limit: int) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip(text, limit)}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, 150)}


def section(text: str, *, fields: list[str] | None = None, accessory: Any = None) -> Block:
    block: Block = {"type": "section"}
    if text:
        block["text"] = mrkdwn(text, SECTION_TEXT_MAX)
    if fields:
        block["fields"] = [mrkdwn(f, 2000) for f in fields[:10]]
    if accessory is not None:
        block["accessory"] = accessory if isinstance(accessory, dict) else accessory.to_dict()
    return block


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(t, 3000) for t in texts[:10]]}


def divider() -> Block:
    return {"type": "divider"}


def button(
    text: str,
    action_id: str,
    value: str,
    *,
    style: str | None = None,
    confirm: dict[str, str] | None = None,
) -> Block:
    element: Block = {
        "type": "button",
        "text": plain(text, 75),
        "action_id": action_id,
        "value": value,
    }
    if style is not None:
        element["style"] = style
    if confirm:
        dialog = {
            "title": plain(confirm["title"], 100),
            "text": mrkdwn(confirm["text"], 300),
            "confirm": plain(confirm["confirm"], 30),
            "deny": plain(confirm.get("deny", "Cancel"), 30),
        }
        if style == "danger":
            dialog["style"] = "danger"
        element["confirm"] = dialog
    return element


def actions(*elements: Block, block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements)[:25]}
    if block_id is not None:
        block["block_id"] = block_id
    return block


def message(text: str, blocks: list[Block] | None = None) -> dict[str, Any]:
    """A message body: `text` is the notification fallback, blocks what people see."""
    return {"text": clip(text, 3000), "blocks": (blocks or [section(text)])[:MESSAGE_BLOCKS_MAX]}


def week_days(days: tuple[int, ...] | list[int]) -> str:
    days = sorted(set(days))
    if days == list(range(1, 8)):
        return "every day"
    if days == list(range(1, 6)):
        return "Mon–Fri"
    if days == [6, 7]:
        return "weekends"
    return ", ".join(DAY_NAMES[d - 1] for d in days if 1 <= d <= 7)


def period(start: str, end: str, days: tuple[int, ...] | list[int]) -> str:
    return f"{week_days(days)} {esc(start)}–{esc(end)}"


# Keyed on the bot's own state names (bot/dialer/api.py canonical_state), so a dialer that
# says RUNNING or active gets the same emoji as one that says running.
STATE_EMOJI = {
    "running": "🟢",
    "wrong_time": "🌙",
    "paused": "⏸️",
    "stopped": "⏹️",
    "completed": "🏁",
    "removed": "🗑️",
}


def state_label(state: str | None) -> str:
    """The dialer's own word for the state, escaped, with an emoji where the bot knows it."""
    if not state:
        return "unknown"
    known = "removed" if state == "removed" else canonical_state(state)
    return f"{STATE_EMOJI.get(known or '', '')} {esc(state)}".strip()


def seconds_hint(seconds: int) -> str:
    """'= 15 min' style hint for retry intervals."""
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        minutes, rest = divmod(seconds, 60)
        return f"{minutes} min" + (f" {rest} s" if rest else "")
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h" + (f" {rest // 60} min" if rest >= 60 else "")


# ---- dialer errors as one sentence -----------------------------------------------------


def missing_campaign(exc: DialerError, paths: Mapping[str, str] = PATHS) -> int | None:
    """The campaign id a 404 was about (its detail or control path, as ``paths`` spells
    them, DIALER_PATHS included), or None when the 404 was about something else."""
    if exc.status != 404 or not exc.path:
        return None
    path = exc.path.split("?")[0]
    for name in ("campaign", "control"):
        template = paths.get(name, PATHS[name])
        pattern = "^" + re.escape(template).replace(re.escape("{id}"), r"(\d+)") + "$"
        m = re.match(pattern, path)
        if m and m.groups():
            return int(m.group(1))
    return None


def dialer_error_text(exc: DialerError, doing: str, paths: Mapping[str, str] = PATHS) -> str:
    """The dialer's refusal (409, 400, ...) reaches the user word for word, escaped; a 404
    of a campaign says there is no such campaign and where the list is."""
    if exc.kind == "connection" and exc.sent is False:
        return (
            f":warning: Could not {doing}: the dialer could not be reached "
            f"({esc(exc.message)}). Nothing was sent; try again when it is back."
        )
    if exc.kind in ("timeout", "connection"):
        return (
            f":warning: Could not {doing}: the dialer did not answer in time "
            f"({esc(exc.message)}). Try again in a minute."
        )
    if exc.status is not None and 200 <= exc.status < 300:  # accepted, but the answer fell short
        return f":warning: Tried to {doing}: {esc(exc.message)}"
    missing = missing_campaign(exc, paths)
    if missing is not None:
        return (
            f":warning: Could not {doing}: there is no campaign #{missing} "
            f"(the dialer said: {esc(exc.message)}). `/dialer campaigns` lists them."
        )
    return f":warning: Could not {doing}: the dialer answered {exc.status}: {esc(exc.message)}"
