"""Block Kit for control: the confirmation, the result replacing it, the notification, the
recovery notice, and the emergency stop's one confirmation and one summary."""

from __future__ import annotations

import time
from typing import Any

from bot.access import allowed_for_role
from bot.calling_hours import Report
from bot.control import ClaimResult, Outcome, OutsideCallingHours, Prepared
from bot.dialer.api import RUNNING_STATES, canonical_state
from bot.find import Found
from bot.pause_all import StorageFailed, Summary, Survey, Target
from handlers.blocks import (
    actions,
    button,
    context,
    dialer_error_text,
    esc,
    header,
    message,
    plural,
    section,
    slack_time,
    state_label,
)
from handlers.campaigns.views import campaign_period

PAST = {
    "start": "started",
    "pause": "paused",
    "unpause": "unpaused",
    "reload": "reloaded",
    "remove": "removed",
}
NEXT_COMMAND = {"start": "pause", "unpause": "pause", "reload": "pause", "pause": "unpause"}
DOING = {"start": "starting", "unpause": "unpausing"}  # the commands that call people


def campaign_ref(name: str | None, campaign_id: int) -> str:
    return f"*{esc(name)}* (#{campaign_id})" if name else f"#{campaign_id}"


def confirmation(
    prepared: Prepared, user_id: str, ttl_min: int, *, needs_approval: bool = False
) -> dict[str, Any]:
    """`needs_approval`: Confirm then asks a second person instead of running the command."""
    c, cmd = prepared.campaign, prepared.command
    danger = cmd == "remove"
    running = danger and canonical_state(c.state) in RUNNING_STATES
    # Slack has red only for danger buttons and :red_circle:; a running campaign gets both.
    warning = "\n:red_circle: *It is running now*: removing it stops its calls." if running else ""
    confirm_button = button(
        f"Ask approval to {cmd}" if needs_approval else f"Confirm {cmd}",
        "control:confirm",
        prepared.token,
        style="danger" if danger else "primary",
        confirm={
            "title": f"Remove campaign #{c.id}?",
            "text": (
                f":red_circle: *{esc(c.name)}* is running: removing it stops its calls, and "
                "it and its set-up are removed for good."
                if running
                else f"*{esc(c.name)}* and its set-up will be removed for good."
            ),
            "confirm": "Remove",
            "deny": "Keep it",
        }
        if danger
        else None,
    )
    return message(
        f"{cmd.capitalize()} campaign {esc(c.name)} (#{c.id})?",
        [
            header(f"{cmd.capitalize()} campaign #{c.id}?"),
            section(
                f"{':warning: ' if danger else ''}You are about to *{cmd}* "
                f"{campaign_ref(c.name, c.id)}.{warning}",
                fields=[
                    f"*Name*\n{esc(c.name)}",
                    f"*State*\n{state_label(c.state)}",
                    f"*Active period*\n{campaign_period(c)}",
                    f"*Call lists*\n{len(c.call_lists)}",
                ],
            ),
            *hours_blocks(prepared.hours, override=prepared.override, command=cmd),
            actions(
                confirm_button,
                button("Cancel", "control:cancel", prepared.token),
                block_id="control:confirm",
            ),
            context(
                f"Asked by <@{user_id}> · valid for {ttl_min} min · runs once"
                + (" · a second person must approve it" if needs_approval else "")
            ),
        ],
    )


def hours_text(report: Report) -> str:
    """The calling-hours warning as mrkdwn, or "" when there is nothing to say."""
    if not report.warns:
        return ""
    lines = report.lines()
    if report.violations:
        head = (
            f":warning: *Outside the permitted calling hours*: "
            f"{report.numbers_outside:,} numbers would be called outside "
            f"{esc(report.permitted)} at their local time."
        )
    else:
        head = ":grey_question: *Calling hours*: not all of it can be checked."
    return head + "\n" + "\n".join(f"• {esc(line)}" for line in lines[:12])


def hours_blocks(
    report: Report, *, override: str | None = None, command: str = "start"
) -> list[dict[str, Any]]:
    """A section with the calling-hours warning (none when there is nothing to say)."""
    text = hours_text(report)
    if not text:
        return []
    if override:
        text += (
            f"\n:large_orange_diamond: Calling hours are enforced; you {command} it anyway "
            f"because “{esc(override)}” (audited)."
        )
    return [section(text[:3000])]


def outside_hours(exc: OutsideCallingHours, *, with_reason: bool = False) -> dict[str, Any]:
    """The refusal of a start or an unpause outside enforced calling hours: nothing was sent."""
    c, cmd = exc.campaign, exc.command
    text = (
        f":no_entry: Nothing sent: calling hours are enforced, and {DOING.get(cmd, cmd)} "
        f"{campaign_ref(c.name, c.id)} would call people outside the permitted hours.\n"
        + hours_text(exc.report)
    )
    if exc.admin:
        text += (
            f"\nAs an admin you may {cmd} it anyway, giving the reason (it is audited): "
            f"`/dialer {cmd} {c.id} because <reason>`"
        )
    elif with_reason:
        text += f"\nOnly an admin may {cmd} it outside the permitted hours, with a reason."
    else:
        text += f"\nAsk an admin: only an admin may {cmd} it outside the permitted hours."
    return message(
        f"Nothing sent: {esc(c.name)} (#{c.id}) is outside the calling hours.",
        [section(text[:3000])],
    )


def not_allowed(exc: Exception) -> dict[str, Any]:
    return message(f":information_source: Nothing sent: {esc(exc)}.")


def settled(outcome: Outcome) -> str:
    """How an outcome the first answer left open was settled by re-reading the campaign, in
    plain words: "the dialer's gateway timed out (HTTP 504); the campaign is now running,
    so the start went through." A 2xx alone never reads as done while the dialer says not."""
    cmd = outcome.command
    now = "gone" if outcome.gone else state_label(outcome.new_state)
    first = esc(outcome.answer or "")
    if outcome.settled == "confirmed":
        return f"{first}; the campaign is now {now}, so the {cmd} went through."
    if outcome.settled == "contradicted":
        return f"{first}; the campaign is now {now}, so the {cmd} did not take effect."
    if outcome.settled == "unread":
        return (
            f"{first}, and the campaign could not be read again ({esc(outcome.detail or '')}); "
            f"it is not known whether the {cmd} went through."
        )
    return f"{first}; the campaign is now {now}; it is not known whether the {cmd} went through."


def result(outcome: Outcome, user_id: str) -> dict[str, Any]:
    """The message that replaces the confirmation (or answers a pause)."""
    ref = campaign_ref(outcome.campaign_name, outcome.campaign_id)
    cmd = outcome.command
    if outcome.result == "ok" and outcome.answer:
        done = PAST.get(cmd, cmd)
        text = f":white_check_mark: <@{user_id}> {done} campaign {ref}: {settled(outcome)}"
        if outcome.reason:
            text += f" Reason: “{esc(outcome.reason)}”."
    elif outcome.result == "ok":
        now = f" Now {state_label(outcome.new_state)}." if outcome.new_state else ""
        said = f" The dialer said: {esc(outcome.detail)}." if outcome.detail else ""
        text = f":white_check_mark: <@{user_id}> {PAST.get(cmd, cmd)} campaign {ref}.{now}{said}"
        if outcome.reason:
            text += f" Reason: “{esc(outcome.reason)}”."
    elif outcome.result == "unknown" and outcome.answer:
        icon = ":warning:" if outcome.settled == "contradicted" else ":grey_question:"
        text = (
            f"{icon} {cmd.capitalize()} campaign {ref}: {settled(outcome)} Nothing was sent "
            f"again; check `/dialer campaign {outcome.campaign_id}` before trying again. "
            "The audit log records this as unknown."
        )
    elif outcome.result == "unknown":
        text = (
            f":grey_question: The dialer did not answer in time, so it is not known whether "
            f"campaign {ref} was {PAST.get(cmd, cmd)} ({esc(outcome.detail or '')}). "
            f"Check `/dialer campaign {outcome.campaign_id}` before trying again; "
            "the audit log records this as unknown."
        )
    elif outcome.result == "failed" and outcome.error is not None:
        text = dialer_error_text(outcome.error, f"{cmd} campaign {ref}")
    elif outcome.result == "already":
        text = (
            f":information_source: Already done: <@{outcome.claimed_by}> used this confirmation "
            f"({esc(outcome.claimed_at or '')}). Nothing was sent again."
        )
    elif outcome.result == "cancelled":
        by = f" by <@{outcome.claimed_by}>" if outcome.claimed_by else ""
        text = (
            f":no_entry_sign: {cmd.capitalize()} of campaign {ref} cancelled{by}. Nothing was sent."
        )
    elif outcome.result == "expired":
        text = (
            f":hourglass: This confirmation expired. Run `/dialer {cmd} {outcome.campaign_id}` "
            "again if it is still needed."
        )
    else:
        text = ":information_source: This confirmation is not valid (anymore). Nothing was sent."
    return message(text)


def notification(
    outcome: Outcome, user_id: str, origin_channel: str | None, via: str | None = None
) -> dict[str, Any]:
    """``via``: what acted for the person (a workflow), said after the origin."""
    ref = campaign_ref(outcome.campaign_name, outcome.campaign_id)
    was = f", was {esc(outcome.previous_state)}" if outcome.previous_state else ""
    if outcome.result == "ok":
        text = f"<@{user_id}> {PAST.get(outcome.command, outcome.command)} campaign {ref}{was}"
        if outcome.answer:
            text += f" · {settled(outcome)}"
    elif outcome.answer:
        text = f":grey_question: <@{user_id}> tried to {outcome.command} campaign {ref}{was}: "
        text += settled(outcome)
    else:
        text = (
            f":grey_question: <@{user_id}> tried to {outcome.command} campaign {ref}{was}; "
            "the dialer did not answer in time, so the result is unknown"
        )
    if outcome.requested_by:
        text += f" · requested by <@{outcome.requested_by}>, approved by <@{user_id}>"
    if outcome.reason:
        text += f" · because “{esc(outcome.reason)}”"
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    where = f" · from <#{origin_channel}>" if origin_channel else ""
    if via:
        where += f" · via {esc(via)}"
    blocks = [section(text), context(f"{slack_time(now)}{where}")]
    follow = NEXT_COMMAND.get(outcome.command) if outcome.result == "ok" else None
    # Many people read a notification: it shows what an operator may press, and a click
    # by anyone with less is refused (and audited) as usual.
    if follow and follow in allowed_for_role("operator", [follow]):
        blocks.append(
            actions(
                button(
                    follow.capitalize(),
                    f"control:{follow}",
                    str(outcome.campaign_id),
                    style="primary" if follow == "unpause" else None,
                ),
                block_id=f"campaign:{outcome.campaign_id}",
            )
        )
    return message(text, blocks)


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


# ---------------------------------------------------------------------------- pause all / many

PAUSE_ALL_CONFIRM = "pause_all:confirm"  # pauses the running ones
PAUSE_ALL_CONFIRM_UNKNOWN = (
    "pause_all:confirm_unknown"  # also those in a state the bot does not know
)
PAUSE_ALL_CANCEL = "pause_all:cancel"
PAUSE_ALL_OPEN = (
    "pause_all:open"  # the App Home button: opens the same confirmation as the shortcut
)
PAUSE_ALL_SHORTCUT = "pause_all"  # callback_id of the global shortcut in manifest.yml

LIST_MAX = 40  # names shown per group; the count is always exact


def _target_names(targets: list[Target], *, with_state: bool = False) -> str:
    shown = [
        campaign_ref(t.name, t.id) + (f" — {state_label(t.state)}" if with_state else "")
        for t in targets[:LIST_MAX]
    ]
    more = len(targets) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def pause_all_confirmation(
    survey: Survey, token: str, user_id: str, ttl_min: int
) -> dict[str, Any]:
    """One confirmation for the whole batch; unknown states are a separate, explicit choice."""
    n, k = len(survey.running), len(survey.unknown)
    title = f"Pause {_plural(n, 'running campaign')}?"
    blocks = [header(title)]
    if n:
        blocks.append(section(f"*{title}* {_target_names(survey.running)}"))
    else:
        blocks.append(section("No campaign is running."))
    if k:
        blocks.append(
            section(
                ":grey_question: *State unknown, pause it too?* "
                + _target_names(survey.unknown, with_state=True)
            )
        )
    buttons = []
    if n:
        buttons.append(
            button(f"Pause {_plural(n, 'campaign')}", PAUSE_ALL_CONFIRM, token, style="danger")
        )
    if k:
        label = f"Pause all {n + k}, unknown too" if n else f"Pause {_plural(k, 'campaign')}"
        buttons.append(
            button(label, PAUSE_ALL_CONFIRM_UNKNOWN, token, style=None if n else "danger")
        )
    buttons.append(button("Cancel", PAUSE_ALL_CANCEL, token))
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


def _storage_reasons(failures: list[StorageFailed]) -> str:
    return "; ".join(esc(r) for r in dict.fromkeys(f.reason for f in failures))


def _not_sent_text(failures: list[StorageFailed]) -> str:
    """Pauses held back because their audit row could not be written: still as they were."""
    targets = [f.target for f in failures]
    retry = (
        "`/dialer pause " + " ".join(str(t.id) for t in targets) + "`"
        if len(targets) <= LIST_MAX
        else "`/dialer pause all`"
    )
    if all(f.busy for f in failures):
        what = (
            f"The bot's storage is busy: run {retry} again in a moment, or pause them in the "
            "dialer's portal; if it lasts, tell the bot's maintainers."
        )
    else:
        what = (
            "The bot's storage is failing: tell the bot's maintainers. Pause these in the "
            f"dialer's portal now, or run {retry} again once the storage works."
        )
    return (
        f"*Not sent: the bot's storage failed* ({_storage_reasons(failures)}): "
        f"{_target_names(targets)}. These were not sent to the dialer, so the bot did not "
        f"pause them. {what}"
    )


def dialer_said(o: Outcome | None) -> str:
    """What the dialer answered a pause the bot could not record, as far as it was seen."""
    if o is None:
        return "whether it reached the dialer is not known"
    if o.answer:  # its first answer left it open; a re-read settled it or not
        return settled(o).removesuffix(".")
    if o.result == "ok":
        return "the dialer paused it"
    if o.result == "failed":
        return f"the dialer refused it ({esc(o.detail or 'no reason given')})"
    lost = esc(o.detail or "no answer")
    return f"the dialer's answer was lost ({lost}): not known whether it paused"


def _unrecorded_text(failures: list[StorageFailed]) -> str:
    """Pauses that went out before a later write failed: the dialer's answer, not the log's."""
    shown = [
        f"{campaign_ref(f.target.name, f.target.id)} — {dialer_said(f.sent)}"
        for f in failures[:LIST_MAX]
    ]
    more = len(failures) - len(shown)
    return (
        f"*Sent, but the bot's storage failed recording it* ({_storage_reasons(failures)}): "
        + "; ".join(shown)
        + (f"; and {more} more" if more > 0 else "")
        + ". The bot's records may not show what happened: tell the bot's maintainers, and "
        "check each campaign with `/dialer campaign <id>`."
    )


def summary_text(summary: Summary, user_id: str, *, by: str = "") -> str:
    """The one summary: paused N, already paused or not running K, failed M with messages,
    and, when the bot's storage failed, which pauses were not sent and which unrecorded."""
    storage = ""
    if summary.not_sent:
        storage += f", not sent (the bot's storage failed) {len(summary.not_sent)}"
    # the dialer paused these too, by its own answer: the lead counts them
    unrecorded = sum(1 for f in summary.unrecorded if f.sent and f.sent.result == "ok")
    if summary.unrecorded:
        storage += (
            f", sent but not recorded {len(summary.unrecorded)} (the dialer paused {unrecorded})"
        )
    paused = len(summary.paused) + unrecorded
    lines = [
        f":double_vertical_bar: <@{user_id}> paused {_plural(paused, 'campaign')}"
        f"{by}: paused {len(summary.paused)}, already paused or not running "
        f"{len(summary.skipped)}, failed {len(summary.failed) + len(summary.missing)}{storage}."
    ]
    if summary.paused:
        lines.append(
            "*Paused:* "
            + ", ".join(campaign_ref(o.campaign_name, o.campaign_id) for o in summary.paused)
        )
    if summary.skipped:
        lines.append(f"*Already paused or not running:* {_target_names(summary.skipped)}")
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
    if summary.not_sent:
        lines.append(_not_sent_text(summary.not_sent))
    if summary.unrecorded:
        lines.append(_unrecorded_text(summary.unrecorded))
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
