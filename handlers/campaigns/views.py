"""Block Kit for campaigns and IVR apps: pure functions from dialer models to blocks."""

from __future__ import annotations

from typing import Any

from bot.dialer import CallList, Campaign, IvrApp
from bot.find import Filter, state_counts
from handlers.blocks import (
    Block,
    actions,
    button,
    context,
    esc,
    header,
    message,
    period,
    plural,
    seconds_hint,
    section,
    state_label,
)

PAGE_SIZE = 15  # header + context + 2 blocks a campaign + navigation stays under 50 blocks

BUTTON_STYLE = {"start": "primary", "unpause": "primary", "remove": "danger"}


def control_buttons(campaign: Campaign, allowed: frozenset[str] | None = None) -> list[Any]:
    """One button per command the campaign's state allows (and, given ``allowed``, the
    person's role); the value is the campaign id."""
    return [
        button(cmd.capitalize(), f"control:{cmd}", str(campaign.id), style=BUTTON_STYLE.get(cmd))
        for cmd in campaign.allowed_commands
        if allowed is None or cmd in allowed
    ]


# The detail view's other buttons: (label, action_id, the REQUIRED_ROLE action).
DETAIL_BUTTONS: tuple[tuple[str, str, str], ...] = (
    ("Edit", "campaign:edit", "edit"),
    ("Clone", "campaign:clone", "clone"),
    ("History", "campaign:history", "history"),
    # handlers/schedules/form.py opens it; the role of the command chosen is checked on submit
    ("Schedule…", "schedule:open", "schedule"),
)


def campaign_period(c: Campaign) -> str:
    return period(c.start_time or "?", c.end_time or "?", c.week_days)


def campaign_line(c: Campaign) -> str:
    return (
        f"*{esc(c.name)}* (#{c.id}) — {state_label(c.state)}\n"
        f"{campaign_period(c)}"
        f" · {len(c.call_lists)} call list{'s' if len(c.call_lists) != 1 else ''}"
    )


def page_count(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


def past_the_end(page: int, pages: int) -> dict[str, Any]:
    return message(
        f":information_source: There is no page {page}: the campaigns fill "
        f"{pages} page{'s' if pages != 1 else ''}. `/dialer campaigns {pages}` shows the last."
    )


def counts_line(all_campaigns: list[Campaign]) -> str:
    """ "All campaigns: 5 · 🟢 2 running · ⏹️ 3 stopped" (states as the dialer gave them)."""
    counts = state_counts(all_campaigns)
    parts = [f"{state_label(state)} {n}" for state, n in counts.items()]
    return f"All campaigns: {len(all_campaigns)}" + "".join(f" · {p}" for p in parts)


def campaigns_page(
    all_campaigns: list[Campaign],
    page: int,
    wanted: Filter | None = None,
    allowed: frozenset[str] | None = None,
) -> dict[str, Any]:
    wanted = wanted or Filter()
    matching = wanted.campaigns(all_campaigns)
    total = len(matching)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    shown = sorted(matching, key=lambda c: c.id)[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    title = f"Campaigns: {wanted} ({total})" if wanted else f"Campaigns ({total})"
    blocks: list[Block] = [header(title), context(counts_line(all_campaigns))]
    if not shown and wanted:
        blocks.append(
            section(f"No campaign matches `{esc(wanted)}`. `/dialer campaigns` shows them all.")
        )
    elif not shown:
        blocks.append(section("No campaigns yet. Create one with `/dialer new`."))
    for c in shown:
        buttons = [button("Details", "campaign:show", str(c.id)), *control_buttons(c, allowed)]
        blocks.append(section(campaign_line(c)))
        blocks.append(actions(*buttons, block_id=f"campaign:{c.id}"))
    if pages > 1:
        blocks.append(context(f"Page {page} of {pages}"))
        nav = []
        # The value carries the filter, so that paging keeps it: "<page> <filter words>".
        if page > 1:
            nav.append(button("◀ Previous", "campaigns:page", wanted.page_value(page - 1)))
        if page < pages:
            nav.append(button("Next ▶", "campaigns:page", wanted.page_value(page + 1)))
        blocks.append(actions(*nav, block_id="campaigns:nav"))
    return message(f"{esc(title)}, page {page} of {pages}", blocks)


def endpoint_text(c: Campaign) -> str:
    ep = c.endpoint
    if ep.type == "queue":
        return (
            f"queue *{esc(ep.queue or '?')}*, boost factor {ep.boost_factor:g}, "
            f"max waiting calls {ep.max_waiting_calls}"
        )
    return esc(ep.type)


# A field the bot models but the dialer's answer lacks: shown as missing, not hidden or guessed.
MISSING = "—"


def _or_dash(text: str) -> str:
    return text if text.strip() else MISSING


def _lacks(c: Campaign, key: str) -> bool:
    """The dialer's answer had no ``key`` (a Campaign built by the bot has no answer)."""
    return bool(c.raw) and key not in c.raw


def _has_period(c: Campaign) -> bool:
    return bool(c.start_time or c.end_time or c.week_days)


def campaign_detail(
    c: Campaign,
    call_lists: dict[int, CallList],
    ivr_apps: dict[str, IvrApp],
    recent: list[str],
    allowed: frozenset[str] | None = None,
) -> dict[str, Any]:
    """``allowed``: the actions the reader's role allows; None shows every button."""
    lists = [
        f"{esc(call_lists[i].name)} (#{i}, {plural(call_lists[i].numbers_count or 0, 'number')})"
        if i in call_lists
        else f"#{i} (not found)"
        for i in c.call_lists
    ]
    ivr = ivr_apps.get(c.ivr or "")
    rules = [
        f"{esc(r.status)}: retry after {r.retry_after} s (= {seconds_hint(r.retry_after)}), "
        f"at most {r.max_attempts}×"
        for r in c.reschedule_rules
    ]
    ivr_text = f"{esc(ivr.name)} ({esc(ivr.id)})" if ivr else esc(c.ivr or "")
    fields = [
        f"*State*\n{state_label(c.state)}",
        f"*Caller ID*\n{_or_dash(esc(c.caller_id))}",
        f"*Active period*\n{campaign_period(c) if _has_period(c) else MISSING}",
        f"*IVR application*\n{_or_dash(ivr_text)}",
        f"*Endpoint*\n{MISSING if _lacks(c, 'endpoint') else endpoint_text(c)}",
        "*Call lists*\n" + ("\n".join(lists) or (MISSING if _lacks(c, "callLists") else "none")),
        "*Reschedule rules*\n"
        + ("\n".join(rules) or (MISSING if _lacks(c, "rescheduleRules") else "none")),
    ]
    blocks: list[Block] = [
        header(f"Campaign #{c.id}: {c.name}"),
        section(f"*{esc(c.name)}* (#{c.id})", fields=fields),
    ]
    buttons = control_buttons(c, allowed)
    buttons += [
        button(label, action_id, str(c.id))
        for label, action_id, action in DETAIL_BUTTONS
        if allowed is None or action in allowed
    ]
    if buttons:
        blocks.append(actions(*buttons, block_id=f"campaign:{c.id}"))
    blocks.append(section("*Last audit entries*\n" + ("\n".join(recent) or "_none yet_")))
    blocks.append(
        context(
            f"More: `/dialer history #{c.id}` · refused clicks: `/dialer history #{c.id} denied`"
        )
    )
    return message(f"Campaign {esc(c.name)} (#{c.id}) is {esc(c.state)}", blocks)


def ivr_message(apps: list[IvrApp]) -> dict[str, Any]:
    lines = [
        f"*{esc(a.name)}* `{esc(a.id)}`" + (f" — {esc(a.description)}" if a.description else "")
        for a in apps
    ]
    return listing(f"IVR applications ({len(apps)})", lines, "No IVR applications.")


def listing(title: str, lines: list[str], empty: str) -> dict[str, Any]:
    """Chunk long listings into several sections so no text block passes 3,000 characters."""
    blocks: list[Block] = [header(title)]
    chunk: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > 2900 and chunk:
            blocks.append(section("\n".join(chunk)))
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    blocks.append(section("\n".join(chunk) if chunk else empty))
    if len(blocks) > 49:
        blocks = blocks[:48] + [context("List cut short: too long for one message.")]
    return message(title, blocks)
