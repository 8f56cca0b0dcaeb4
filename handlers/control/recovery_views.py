"""The notification that lists commands whose outcome a crash left unknown."""

from __future__ import annotations

from typing import Any

from handlers.blocks import context, esc, message, plural, section, slack_time, state_label


def recovery_message(recovered: list[Any]) -> dict[str, Any]:
    lines = []
    for r in recovered[:15]:
        e = r.entry
        name = f"*{esc(r.campaign_name)}* " if r.campaign_name else ""
        lines.append(
            f"• {slack_time(e.ts)} <@{e.user_id}> *{esc(e.action)}* {name}(#{e.campaign_id}) "
            f"— now {state_label(r.current_state)}"
        )
    more = len(recovered) - len(lines)
    text = (
        f":warning: The bot restarted while {plural(len(recovered), 'command')} "
        f"{'was' if len(recovered) == 1 else 'were'} under way; "
        f"{'its' if len(recovered) == 1 else 'their'} outcome is unknown. "
        "Check the campaigns' current state:"
    )
    blocks = [section(text), section("\n".join(lines))]
    if more > 0:
        blocks.append(context(f"and {more} more: `/dialer history`"))
    return message(text, blocks)
