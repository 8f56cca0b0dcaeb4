"""`/dialer history`: the audit log newest first, one line per request."""

from __future__ import annotations

from typing import Any

from handlers.blocks import clip, context, esc, header, message, section, slack_time

OUTCOME_ICON = {"ok": "✅", "failed": "❌", "unknown": "❓", "pending": "⏳", "denied": "🚫"}


def entry_line(e: Any) -> str:
    target = f" #{e.campaign_id}" if e.campaign_id is not None else ""
    detail = f" — {esc(clip(e.detail, 300))}" if e.detail else ""
    icon = OUTCOME_ICON.get(e.outcome, "")
    return (
        f"{slack_time(e.ts)} <@{e.user_id}> *{esc(e.action)}*{target} → "
        f"{icon} {esc(e.outcome)}{detail}"
    )


def history_message(entries: list[Any], campaign_id: int | None) -> dict[str, Any]:
    title = f"History of campaign #{campaign_id}" if campaign_id else "History"
    lines = [entry_line(e) for e in entries]
    blocks = [header(title)]
    chunk: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > 2900:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    blocks.append(section("\n".join(chunk) if chunk else "_No entries yet._"))
    blocks.append(
        context(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}, newest first")
    )
    return message(title, blocks)
