"""Block Kit helpers, built with slack_sdk.models so that every block is validated on to_dict().

`esc` is the one escaping helper: every text that comes from a user or the dialer
passes through it before it is put into mrkdwn.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.dialer.api import canonical_state

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


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def header(text: str) -> Block:
    return HeaderBlock(text=PlainTextObject(text=clip(text, 150), emoji=True)).to_dict()


def section(text: str, *, fields: list[str] | None = None, accessory: Any = None) -> Block:
    block = SectionBlock(
        text=MarkdownTextObject(text=clip(text, SECTION_TEXT_MAX)) if text else None,
        fields=[MarkdownTextObject(text=clip(f, 2000)) for f in fields[:10]] if fields else None,
        accessory=accessory,
    )
    return block.to_dict()


def context(*texts: str) -> Block:
    return ContextBlock(
        elements=[MarkdownTextObject(text=clip(t, 3000)) for t in texts[:10]]
    ).to_dict()


def divider() -> Block:
    return DividerBlock().to_dict()


def button(
    text: str,
    action_id: str,
    value: str,
    *,
    style: str | None = None,
    confirm: dict[str, str] | None = None,
) -> ButtonElement:
    return ButtonElement(
        text=PlainTextObject(text=clip(text, 75), emoji=True),
        action_id=action_id,
        value=value,
        style=style,
        confirm=ConfirmObject(
            title=clip(confirm["title"], 100),
            text=MarkdownTextObject(text=clip(confirm["text"], 300)),
            confirm=clip(confirm["confirm"], 30),
            deny=clip(confirm.get("deny", "Cancel"), 30),
            style="danger" if style == "danger" else None,
        )
        if confirm
        else None,
    )


def actions(*elements: ButtonElement, block_id: str | None = None) -> Block:
    return ActionsBlock(elements=list(elements)[:25], block_id=block_id).to_dict()


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
