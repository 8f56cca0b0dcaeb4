"""`/dialer history`: the audit log newest first, one line per request. Block Kit only."""

from __future__ import annotations

from typing import Any

from handlers.blocks import (
    actions,
    button,
    clip,
    context,
    esc,
    header,
    message,
    plural,
    section,
    slack_time,
)
from handlers.history.query import HistoryQuery

ANCHOR_ACTION = "anchor"  # as store/audit.py spells it (views import no store)
OUTCOME_ICON = {"ok": "✅", "failed": "❌", "unknown": "❓", "pending": "⏳", "denied": "🚫"}


def entry_line(e: Any) -> str:
    if e.action == ANCHOR_ACTION:
        return anchor_line(e)
    target = f" #{e.campaign_id}" if e.campaign_id is not None else ""
    detail = f" — {esc(clip(e.detail, 300))}" if e.detail else ""
    icon = OUTCOME_ICON.get(e.outcome, "")
    who = f"<@{e.user_id}>" if e.user_id else "the bot"  # a row no person asked for
    via = e.request.get("via") if isinstance(e.request, dict) else None
    if isinstance(via, str):  # asked for the person by a workflow
        who += f" via {esc(clip(via, 120))}"
    return f"{slack_time(e.ts)} {who} *{esc(e.action)}*{target} → {icon} {esc(e.outcome)}{detail}"


def anchor_line(e: Any) -> str:
    """The bot's own post of the audit head (bot/anchor.py): where, and which entry."""
    request = e.request if isinstance(e.request, dict) else {}
    where = f" to <#{esc(e.channel_id)}>" if e.channel_id else ""
    entry = request.get("entry")
    what = f": entry {entry}" if isinstance(entry, int) else ""
    return f"{slack_time(e.ts)} 🔗 audit anchor posted{where}{what}"


def history_title(q: HistoryQuery) -> str:
    title = "History"
    if q.campaign_id is not None:
        title += f" of campaign #{q.campaign_id}"
    if q.user_id is not None:
        title += f" · by <@{q.user_id}>"
    if q.outcome is not None:
        title += f" · {q.outcome} only"
    return title


def history_message(entries: list[Any], q: HistoryQuery, *, more: bool = False) -> dict[str, Any]:
    """``more``: older entries exist, so an "Older ▶" button pages back from the last one."""
    title = history_title(q)
    lines = [entry_line(e) for e in entries]
    # A header is plain text: a <@U…> mention there would show as its raw code.
    blocks = [header(title.replace(f"<@{q.user_id}>", "one person") if q.user_id else title)]
    if q.user_id is not None:
        blocks.append(context(f"Entries of <@{q.user_id}>"))
    chunk: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > 2900:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    empty = "_No older entries._" if q.before_id else "_No entries yet._"
    blocks.append(section("\n".join(chunk) if chunk else empty))
    older = " (older ones first seen above)" if q.before_id else ""
    blocks.append(context(f"{plural(len(entries), 'entry', 'entries')}, newest first{older}"))
    if more and entries:
        blocks.append(
            actions(
                button("Older ▶", "history:older", q.older(entries[-1].id).to_value()),
                block_id="history:nav",
            )
        )
    return message(title, blocks)


def no_campaign(campaign_id: int) -> dict[str, Any]:
    return message(
        f":warning: There is no campaign #{campaign_id}, and the audit log has nothing about "
        "it. `/dialer campaigns` lists the campaigns and their ids."
    )
