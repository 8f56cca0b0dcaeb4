"""Block Kit for the emergency stop: the one confirmation and the one summary."""

from __future__ import annotations

from typing import Any

from bot.control import ClaimResult
from bot.find import Found
from bot.pause_all import Summary, Survey, Target
from handlers.blocks import actions, button, context, esc, header, message, section, state_label
from handlers.control.views import campaign_ref
from handlers.errors import dialer_error_text

CONFIRM = "pause_all:confirm"  # pauses the running ones
CONFIRM_UNKNOWN = "pause_all:confirm_unknown"  # also those in a state the bot does not know
CANCEL = "pause_all:cancel"
OPEN = "pause_all:open"  # the App Home button: opens the same confirmation as the shortcut
SHORTCUT = "pause_all"  # callback_id of the global shortcut in manifest.yml

LIST_MAX = 40  # names shown per group; the count is always exact


def _names(targets: list[Target], *, with_state: bool = False) -> str:
    shown = [
        campaign_ref(t.name, t.id) + (f" — {state_label(t.state)}" if with_state else "")
        for t in targets[:LIST_MAX]
    ]
    more = len(targets) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def confirmation(survey: Survey, token: str, user_id: str, ttl_min: int) -> dict[str, Any]:
    """One confirmation for the whole batch; unknown states are a separate, explicit choice."""
    n, k = len(survey.running), len(survey.unknown)
    title = f"Pause {_plural(n, 'running campaign')}?"
    blocks = [header(title)]
    if n:
        blocks.append(section(f"*{title}* {_names(survey.running)}"))
    else:
        blocks.append(section("No campaign is running."))
    if k:
        blocks.append(
            section(
                ":grey_question: *State unknown, pause it too?* "
                + _names(survey.unknown, with_state=True)
            )
        )
    buttons = []
    if n:
        buttons.append(button(f"Pause {_plural(n, 'campaign')}", CONFIRM, token, style="danger"))
    if k:
        label = f"Pause all {n + k}, unknown too" if n else f"Pause {_plural(k, 'campaign')}"
        buttons.append(button(label, CONFIRM_UNKNOWN, token, style=None if n else "danger"))
    buttons.append(button("Cancel", CANCEL, token))
    blocks.append(actions(*buttons, block_id="pause_all:confirm"))
    not_running = (
        f" · {_plural(survey.other, 'other campaign')} not running" if survey.other else ""
    )
    blocks.append(
        context(
            f"Asked by <@{user_id}> · valid for {ttl_min} min · runs once · "
            f"no second person needed to stop{not_running}"
        )
    )
    return message(title, blocks)


def claim_refused(claim: ClaimResult) -> dict[str, Any]:
    """A second click, an expired or a foreign token: nothing is sent (again)."""
    if claim.state == "used":
        text = (
            f":information_source: Already done: <@{claim.by_user}> used this confirmation "
            f"({esc(claim.at or '')}). Nothing was sent again."
        )
    elif claim.state == "cancelled":
        text = f":no_entry_sign: Pause all was cancelled by <@{claim.by_user}>. Nothing was sent."
    elif claim.state == "expired":
        text = (
            ":hourglass: This confirmation expired: the list it showed is old. "
            "Run `/dialer pause all` again to read the running campaigns now."
        )
    else:
        text = ":warning: This confirmation is not valid. Nothing was sent."
    return message(text)


def nothing_running(survey: Survey) -> dict[str, Any]:
    return message(
        f":information_source: No campaign is running ({survey.other} campaigns, none running). "
        "Nothing to pause."
    )


def list_unreadable(error_text: str) -> dict[str, Any]:
    return message(
        f"{error_text}\nThe list of running campaigns could not be read, so nothing was paused. "
        "Pause them by id instead: `/dialer pause <id> <id> …`, e.g. `/dialer pause 3 5 9`."
    )


def summary_text(summary: Summary, user_id: str, *, by: str = "") -> str:
    """The one summary: paused N, already paused or not running K, failed M with messages."""
    lines = [
        f":double_vertical_bar: <@{user_id}> paused {_plural(len(summary.paused), 'campaign')}"
        f"{by}: paused {len(summary.paused)}, already paused or not running "
        f"{len(summary.skipped)}, failed {len(summary.failed) + len(summary.missing)}."
    ]
    if summary.paused:
        lines.append(
            "*Paused:* "
            + ", ".join(campaign_ref(o.campaign_name, o.campaign_id) for o in summary.paused)
        )
    if summary.skipped:
        lines.append(f"*Already paused or not running:* {_names(summary.skipped)}")
    for o in summary.failed:
        ref = campaign_ref(o.campaign_name, o.campaign_id)
        if o.result == "unknown":
            lines.append(
                f"*Not known whether paused:* {ref} — the dialer did not answer in time "
                f"({esc(o.detail or '')}); check `/dialer campaign {o.campaign_id}`"
            )
        elif o.error is not None:
            lines.append(
                "*Failed:* " + dialer_error_text(o.error, f"pause {ref}").removeprefix(":warning: ")
            )
        else:
            lines.append(f"*Failed:* {ref}: {esc(o.detail or 'no answer')}")
    for cid in summary.missing:
        lines.append(f"*Failed:* campaign #{cid} does not exist (any more)")
    return "\n".join(lines)


def summary_message(summary: Summary, user_id: str, *, by: str = "") -> dict[str, Any]:
    text = summary_text(summary, user_id, by=by)
    chunks: list[str] = []
    for line in text.split("\n"):  # a section holds 3,000 characters: one line each, clipped
        if chunks and len(chunks[-1]) + len(line) < 2900:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line)
    blocks = [section(c) for c in chunks[:45]]
    blocks.append(context(f"batch `{summary.batch_id}` · one audit entry per campaign"))
    return message(text.split("\n")[0], blocks)


def names_unclear(found: list[Found[Any]], ids: list[int]) -> dict[str, Any]:
    """`pause 3 promo xyz`: a name that is not exactly one campaign word for word. Nothing
    was paused; each such name is listed with what it matched, and the ids to type."""
    lines, chosen = [], [str(i) for i in ids]
    for f in found:
        name = f"“{esc(f.query)}”"
        if f.match is not None:
            chosen.append(str(f.match.id))
            continue
        shown = f.candidates or f.nearest
        what = ", ".join(f"*{esc(c.name)}* (#{c.id})" for c in shown)
        if len(f.candidates) == 1:
            lines.append(f"• {name} matches {what} only in part, not word for word")
        elif f.candidates:
            lines.append(f"• {name} matches {len(f.candidates)} campaigns: {what}")
        else:
            lines.append(
                f"• {name} matches no campaign word for word"
                + (f"; nearest: {what}" if what else "")
            )
    text = (
        ":mag: Nothing was paused: with several campaigns, `pause` runs at once, so each name "
        "must match exactly one campaign word for word.\n" + "\n".join(lines)
    )[:2900]  # one section's limit, even for 100 unclear names
    hint = f"Use ids: `/dialer pause {' '.join([*chosen, '<id>'])}` (ids: `/dialer campaigns`)."
    return message(text, [section(text), context(hint)])
