"""Block Kit for the App Home: the dialer's status, campaigns, approvals, the user's commands.

Pure functions of what handlers/home/publisher.py gathered. A Home holds at most 100
blocks: the campaigns get what the other parts leave, and a last line says how many
more there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.access import REQUIRED_ROLE, rank
from bot.dialer.api import RUNNING_STATES, canonical_state
from bot.period import ActivePeriod
from handlers.blocks import (
    DAY_NAMES,
    Block,
    actions,
    button,
    context,
    divider,
    esc,
    header,
    section,
)
from handlers.control.views import PAUSE_ALL_OPEN as PAUSE_ALL_ACTION  # the emergency stop
from handlers.history.views import entry_line, slack_time
from handlers.subscriptions.views import BUTTON_STYLE, allowed, hhmm, period_text, ref, state_text

HOME_BLOCKS_MAX = 100
APPROVALS_SHOWN = 10
NEW_CAMPAIGN_ACTION = "home:new_campaign"
UPLOAD_ACTION = "home:upload"


@dataclass(frozen=True)
class HomeData:
    user_id: str
    role: str | None
    watching: bool  # DIALER_WATCH_INTERVAL > 0
    status: Any  # store.WatchState: the watcher's lease row (views import no store)
    campaigns: list[dict[str, Any]] | None  # snapshot records (bot/watch.py record())
    approvals: list[Any]  # store.Approval rows this user may decide
    commands: list[Any]  # store.AuditEntry rows of this user
    admins: frozenset[str] = frozenset()
    now: datetime | None = None  # aware, in BOT_TIMEZONE: the active periods are read in it


def may(role: str | None, action: str) -> bool:
    needed = REQUIRED_ROLE.get(action, "admin")
    return needed is None or rank(role) >= rank(needed)


def status_block(d: HomeData) -> Block:
    s = d.status
    last = f" · last successful poll {slack_time(s.polled_at)}" if s.polled_at else ""
    if not d.watching:
        text = "⚪ The campaign watcher is off (`DIALER_WATCH_INTERVAL=0`)" + last
    elif s.down_announced:
        text = (
            f"🔴 The dialer is *unreachable* since {hhmm(s.failing_since or '')}: "
            f"{esc(s.last_error or '')}{last}"
        )
    elif s.failures:
        text = f"🟠 The last {s.failures} poll(s) failed: {esc(s.last_error or '')}{last}"
    elif s.polled_at:
        text = f"🟢 The dialer is *reachable*{last}"
    else:
        text = "⏳ The watcher has not polled the dialer yet"
    return section(text)


def shortcuts(d: HomeData) -> list[Block]:
    if not may(d.role, "new"):
        return []
    buttons = [
        button("New campaign", NEW_CAMPAIGN_ACTION, "new", style="primary"),
        button("Upload call list", UPLOAD_ACTION, "upload"),
        # The emergency stop: handlers/control/emergency.py opens its confirmation.
        button("Pause all", PAUSE_ALL_ACTION, "all", style="danger"),
    ]
    return [actions(*buttons, block_id="home:shortcuts")]


def approval_blocks(d: HomeData) -> list[Block]:
    if not d.approvals:
        return []
    blocks: list[Block] = [section("*Approval requests waiting for you*")]
    for a in d.approvals[:APPROVALS_SHOWN]:
        target = ref(a.campaign_name, a.campaign_id)
        blocks.append(
            section(
                f"<@{a.requested_by}> asks to {esc(a.command)} {target}"
                f" · expires {slack_time(a.expires_at)}"
            )
        )
        blocks.append(
            actions(
                button("Approve", "approval:approve", str(a.id), style="primary"),
                button("Reject", "approval:reject", str(a.id), style="danger"),
                block_id=f"approval:{a.id}",
            )
        )
    if len(d.approvals) > APPROVALS_SHOWN:
        blocks.append(context(f"{len(d.approvals) - APPROVALS_SHOWN} more in their channels"))
    return blocks


def command_blocks(d: HomeData) -> list[Block]:
    lines = [entry_line(e) for e in d.commands]
    return [section("*Your last commands*\n" + ("\n".join(lines) or "_none yet_"))]


def window_text(record: dict[str, Any], now: datetime | None) -> str:
    """For a campaign that runs: whether the clock is inside its active period now (read in
    BOT_TIMEZONE), else when the next window opens. Said only when it is known."""
    canon = canonical_state(record.get("state"))
    if canon not in ("running", "wrong_time"):
        return ""
    start, end, days = record.get("period") or [None, None, []]
    active = ActivePeriod.read(start, end, days)
    if now is None or active is None:
        return " · outside its active period now" if canon == "wrong_time" else ""
    if active.contains(now):
        return " · inside its active period now"
    opening = active.next_opening(now)
    if opening is None:
        return " · outside its active period (it has no week days)"
    return (
        " · outside its active period; next window opens "
        f"{DAY_NAMES[opening.isoweekday() - 1]} {opening:%H:%M}"
    )


def ordered(campaigns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Running ones first, then by id."""
    return sorted(
        campaigns,
        key=lambda c: (canonical_state(c.get("state")) not in RUNNING_STATES, int(c["id"])),
    )


def campaign_blocks(d: HomeData, budget: int) -> list[Block]:
    if d.campaigns is None:
        return [section("_Loading campaigns…_")]
    if not d.campaigns:
        return [section("No campaigns yet.")]
    blocks: list[Block] = []
    shown = 0
    campaigns = ordered(d.campaigns)
    for i, c in enumerate(campaigns):
        cid = int(c["id"])
        buttons = [button("Details", "campaign:show", str(cid))] if may(d.role, "campaign") else []
        buttons += [
            button(cmd.capitalize(), f"control:{cmd}", str(cid), style=BUTTON_STYLE.get(cmd))
            for cmd in allowed(c.get("state"))
            if may(d.role, cmd)
        ]
        need = 1 + (1 if buttons else 0)
        left = len(campaigns) - i
        if len(blocks) + need + (1 if left > 1 else 0) > budget:
            break
        lists = len(c.get("call_lists") or [])
        blocks.append(
            section(
                f"{ref(c.get('name'), cid)} — {state_text(c.get('state'))}\n"
                f"{period_text(c)}{window_text(c, d.now)}"
                f" · {lists} call list{'s' if lists != 1 else ''}"
            )
        )
        if buttons:
            blocks.append(actions(*buttons, block_id=f"campaign:{cid}"))
        shown += 1
    rest = len(campaigns) - shown
    if rest:
        blocks.append(context(f"{rest} more — `/dialer campaigns`"))
    return blocks


def home_view(d: HomeData) -> dict[str, Any]:
    """The whole Home tab for one user; never more than HOME_BLOCKS_MAX blocks."""
    top: list[Block] = [header("Dialer"), status_block(d)]
    if d.role is None:
        who = ", ".join(f"<@{a}>" for a in sorted(d.admins)) or "an admin of this bot"
        top.append(section(f":no_entry: You have no role in dialer-bot yet. Ask {who}."))
        return {"type": "home", "blocks": top}
    top += shortcuts(d)
    top += approval_blocks(d)
    tail = [divider(), *command_blocks(d)]
    head = [*top, divider(), section(f"*Campaigns ({len(d.campaigns or [])})*")]
    budget = HOME_BLOCKS_MAX - len(head) - len(tail)
    blocks = [*head, *campaign_blocks(d, budget), *tail]
    return {"type": "home", "blocks": blocks[:HOME_BLOCKS_MAX]}
