"""Block Kit for call lists: the filtered listing and one list's detail. Pure functions."""

from __future__ import annotations

from typing import Any

from bot.dialer import CallList, CallListEntry, Campaign
from bot.find import Filter
from bot.privacy import VISIBLE_DIGITS, mask_number
from handlers.blocks import (
    Block,
    actions,
    button,
    clip,
    context,
    esc,
    header,
    message,
    section,
    slack_time,
    state_label,
)
from handlers.campaigns.views import listing

SHOW_ACTION = "call_list:show"
NUMBERS_ACTION = "call_list:numbers"
PAGE_ACTION = "lists:page"
ENTRIES_SHOWN = 10
PAGE_SIZE = 100  # lines of a listing page; the listing chunks them under the block limits
CAMPAIGNS_SHOWN = 20


def _count(cl: CallList) -> str:
    n = cl.numbers_count
    return "? numbers" if n is None else f"{n} number{'s' if n != 1 else ''}"


def call_lists_message(
    lists: list[CallList], page: int, wanted: Filter, campaigns: list[Campaign]
) -> dict[str, Any]:
    """`/dialer lists [state …] [text] [page]`: a state keeps the lists its campaigns use."""
    matching = sorted(wanted.call_lists(lists, campaigns), key=lambda x: x.id)
    pages = max(1, -(-len(matching) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    shown = matching[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    used_by: dict[int, int] = {}
    for c in campaigns:
        for list_id in set(c.call_lists):
            used_by[list_id] = used_by.get(list_id, 0) + 1
    lines = [
        f"*{esc(cl.name)}* (#{cl.id}) — {_count(cl)}"
        + (f" · used by {used_by[cl.id]} campaign(s)" if used_by.get(cl.id) else "")
        for cl in shown
    ]
    title = (
        f"Call lists: {clip(str(wanted), 60)} ({len(matching)})"
        if wanted
        else f"Call lists ({len(lists)})"
    )
    empty = (
        f"No call list matches `{esc(wanted)}`. `/dialer lists` shows them all."
        if wanted
        else "No call lists yet. Create one with `/dialer upload`."
    )
    msg = listing(title, lines, empty)
    if pages > 1:
        blocks = msg["blocks"][:46]
        blocks.append(context(f"Page {page} of {pages} · `/dialer list <id|name>` for one list"))
        nav = []
        if page > 1:
            nav.append(button("◀ Previous", PAGE_ACTION, wanted.page_value(page - 1)))
        if page < pages:
            nav.append(button("Next ▶", PAGE_ACTION, wanted.page_value(page + 1)))
        blocks.append(actions(*nav, block_id="lists:nav"))
        msg["blocks"] = blocks
    return msg


def entry_line(entry: CallListEntry, *, full: bool) -> str:
    number = entry.number if full else mask_number(entry.number)
    attrs = ", ".join(f"{esc(clip(k, 40))}: {esc(clip(v, 80))}" for k, v in entry.attributes[:8])
    return f"`{esc(number)}`" + (f" — {attrs}" if attrs else "")


def call_list_detail(
    cl: CallList,
    campaigns: list[Campaign],
    allowed: frozenset[str],
    *,
    revealed_by: str | None = None,
) -> dict[str, Any]:
    """Name, count, creation time, the campaigns using it, the first entries (masked unless
    ``revealed_by`` names who asked for them in full, after the audit row was written)."""
    using = [c for c in sorted(campaigns, key=lambda c: c.id) if cl.id in c.call_lists]
    used_lines = [f"*{esc(c.name)}* (#{c.id}) — {state_label(c.state)}" for c in using]
    if len(used_lines) > CAMPAIGNS_SHOWN:
        extra = len(used_lines) - CAMPAIGNS_SHOWN
        used_lines = used_lines[:CAMPAIGNS_SHOWN] + [f"and {extra} more"]
    fields = [
        f"*Numbers*\n{_count(cl)}",
        f"*Created*\n{slack_time(cl.created_at) if cl.created_at else 'not given'}",
    ]
    entries = cl.entries[:ENTRIES_SHOWN]
    full = revealed_by is not None
    blocks: list[Block] = [
        header(f"Call list #{cl.id}: {cl.name}"),
        section(f"*{esc(cl.name)}* (#{cl.id})", fields=fields),
        section("*Used by*\n" + ("\n".join(used_lines) or "no campaign")),
    ]
    if entries:
        total = cl.numbers_count if cl.numbers_count is not None else len(cl.entries)
        title = f"*First {len(entries)} of {total} entries*"
        blocks.append(section(title + "\n" + "\n".join(entry_line(e, full=full) for e in entries)))
        if full:
            blocks.append(
                context(f"Numbers shown in full to <@{revealed_by}>; recorded in the audit log.")
            )
        else:
            blocks.append(
                context(
                    f"Numbers are masked except the last {VISIBLE_DIGITS} digits. "
                    + (
                        "Showing them in full is recorded in the audit log."
                        if "show numbers" in allowed
                        else "Showing them in full needs the operator role."
                    )
                )
            )
            if "show numbers" in allowed:
                blocks.append(
                    actions(
                        button("Show numbers", NUMBERS_ACTION, str(cl.id)),
                        block_id=f"call_list:{cl.id}",
                    )
                )
    else:
        blocks.append(context("The dialer's answer carried no entries for this list."))
    return message(f"Call list {esc(cl.name)} (#{cl.id}): {_count(cl)}", blocks)
