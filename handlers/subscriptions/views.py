"""Block Kit for the watcher's notifications and for every campaign thread's parent.

State names go through bot/dialer/api.py's canonical_state(): a state the table does
not know is shown exactly as the dialer gave it (escaped).
"""

from __future__ import annotations

from typing import Any

from bot.dialer.api import allowed_for, canonical_state
from bot.notify import Notice
from bot.watch import WatchEvent
from handlers.blocks import STATE_EMOJI, Block, actions, button, context, esc, period, section

STATE_WORDS = {"wrong_time": "running, outside its active period"}
BUTTON_STYLE = {"start": "primary", "unpause": "primary", "remove": "danger"}
FINISHED = frozenset({"completed"})
# Events that are also shown in the channel, not only in the campaign's thread.
DANGEROUS_STATES = frozenset({"running", "wrong_time"})


def state_text(raw: str | None) -> str:
    """🟢 running for a state the bot knows; the dialer's own word, escaped, otherwise."""
    if not raw:
        return "unknown"
    canon = canonical_state(raw)
    if canon is None:
        return esc(raw)
    return f"{STATE_EMOJI.get(canon, '')} {STATE_WORDS.get(canon, canon)}".strip()


def allowed(raw: str | None) -> tuple[str, ...]:
    """What the dialer may accept: every command for a state the bot does not know (the
    dialer then decides), none for a campaign that is gone."""
    return () if not raw or raw == "removed" else allowed_for(raw)


def control_buttons(campaign_id: int, raw_state: str | None) -> list[Any]:
    return [
        button(cmd.capitalize(), f"control:{cmd}", str(campaign_id), style=BUTTON_STYLE.get(cmd))
        for cmd in allowed(raw_state)
    ]


def ref(name: str | None, campaign_id: int) -> str:
    return f"*{esc(name)}* (#{campaign_id})" if name else f"Campaign #{campaign_id}"


def subject(campaign_id: int) -> str:
    return f"campaign:{campaign_id}"


def thread_parent(
    campaign_id: int, name: str | None, raw_state: str | None, last_event: str
) -> dict[str, Any]:
    """The one message per campaign per channel per day, edited in place at every event."""
    blocks: list[Block] = [
        section(f"{ref(name, campaign_id)} — {state_text(raw_state)}\nLast: {last_event}"),
        context("Today's updates about this campaign are in this thread."),
    ]
    buttons = control_buttons(campaign_id, raw_state)
    if buttons:
        blocks.append(actions(*buttons, block_id=f"campaign:{campaign_id}"))
    text = f"{esc(name or 'Campaign')} (#{campaign_id}): {last_event}"
    return {"text": text, "blocks": blocks}


def period_text(record: dict[str, Any] | None) -> str:
    start, end, days = (record or {}).get("period") or [None, None, []]
    return period(start or "?", end or "?", days or [])


def _change_lines(event: WatchEvent) -> list[str]:
    old, new = event.old or {}, event.new or {}
    lines = []
    if "name" in event.changes:
        lines.append(f"name: {esc(old.get('name'))} → {esc(new.get('name'))}")
    if "active period" in event.changes:
        lines.append(f"active period: {period_text(old)} → {period_text(new)}")
    if "call lists" in event.changes:
        before = ", ".join(f"#{i}" for i in old.get("call_lists") or []) or "none"
        after = ", ".join(f"#{i}" for i in new.get("call_lists") or []) or "none"
        lines.append(f"call lists: {before} → {after}")
    return lines


def event_text(event: WatchEvent) -> str:
    """One line, e.g. "*Spring promo* (#12) is now ⏸️ paused — changed outside Slack (was …)"."""
    r = ref(event.name, event.campaign_id)
    if event.kind == "appeared":
        return f"{r} appeared — created outside Slack ({state_text(event.state)})"
    if event.kind == "disappeared":
        return f"{r} was removed — outside Slack (was {state_text(event.old_state)})"
    if event.kind == "changed":
        return f"{r}: {', '.join(event.changes)} changed outside Slack"
    was = state_text(event.old_state)
    if canonical_state(event.state) in FINISHED:
        return f"{r} has finished — it is now {state_text(event.state)} (was {was})"
    return f"{r} is now {state_text(event.state)} — changed outside Slack (was {was})"


def event_notice(event: WatchEvent) -> Notice:
    text = event_text(event)
    blocks: list[Block] = [section(text)]
    lines = _change_lines(event)
    if lines:
        blocks.append(context(*lines))
    buttons = control_buttons(event.campaign_id, event.state) if event.new else []
    if buttons:
        blocks.append(actions(*buttons, block_id=f"campaign:{event.campaign_id}"))
    dangerous = event.kind == "disappeared" or (
        event.kind == "state" and canonical_state(event.state) in DANGEROUS_STATES
    )
    parent_state = event.state if event.new else "removed"
    return Notice(
        text=text,
        blocks=blocks,
        subject=subject(event.campaign_id),
        parent=thread_parent(event.campaign_id, event.name, parent_state, text),
        broadcast=dangerous,
    )


def hhmm(stamp: str) -> str:
    return stamp[11:16] + " UTC" if len(stamp) >= 16 else esc(stamp)


def unreachable_notice(since: str, reason: str) -> Notice:
    text = f":rotating_light: The dialer is unreachable since {hhmm(since)}: {esc(reason)}"
    return Notice(
        text=text,
        blocks=[
            section(text),
            context("The bot keeps polling and says so once it answers again."),
        ],
    )


def reachable_notice(since: str, minutes: int) -> Notice:
    text = (
        f":white_check_mark: The dialer is reachable again after {minutes} min "
        f"(unreachable since {hhmm(since)})."
    )
    return Notice(text=text, blocks=[section(text)])


class Views:
    """The watcher's WatchViews (bot/watch.py)."""

    def event(self, event: WatchEvent) -> Notice:
        return event_notice(event)

    def unreachable(self, since: str, reason: str) -> Notice:
        return unreachable_notice(since, reason)

    def reachable(self, since: str, minutes: int) -> Notice:
        return reachable_notice(since, minutes)
