"""Block Kit for scheduled commands: the confirmation, the list, the announcements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.calling_hours import Report
from bot.dialer import Campaign
from bot.schedules import Ran, Schedule
from handlers.blocks import actions, button, context, esc, header, message, section, state_label
from handlers.campaigns.views import campaign_period
from handlers.control.views import NEXT_COMMAND, PAST, campaign_ref, hours_text
from handlers.control.views import result as result_view

CONFIRM = "schedule:confirm"
DISMISS = "schedule:dismiss"
CANCEL = "schedule:cancel"
APPROVE = "schedule:approve"
REJECT = "schedule:reject"
LIST_MAX = 20  # two blocks each: within a message's 50


def when_text(due: datetime, zone: ZoneInfo) -> str:
    """`Wed 2026-12-02 08:00 Europe/Prague (07:00 UTC)`: the user's zone, then UTC."""
    local = due.astimezone(zone)
    utc = due.astimezone(UTC)
    if zone.key == "UTC":
        return f"{local:%a %Y-%m-%d %H:%M:%S} UTC"
    same_day = local.date() == utc.date()
    return (
        f"{local:%a %Y-%m-%d %H:%M:%S} {zone.key} "
        f"({utc:%H:%M:%S}{'' if same_day else f' on {utc:%Y-%m-%d}'} UTC)"
    )


def in_active_period(c: Campaign, due: datetime, zone: ZoneInfo) -> bool | None:
    """Whether `due` falls in the campaign's active period (read in BOT_TIMEZONE), None if
    the campaign gives none. An end before the start is an overnight window."""
    if not (c.start_time and c.end_time):
        return None
    try:
        start = datetime.strptime(c.start_time[:5], "%H:%M").time()
        end = datetime.strptime(c.end_time[:5], "%H:%M").time()
    except ValueError:
        return None
    local = due.astimezone(zone)
    days = set(c.week_days) or set(range(1, 8))
    if start <= end:
        return local.isoweekday() in days and start <= local.time() < end
    if local.time() >= start:
        return local.isoweekday() in days
    if local.time() < end:  # after midnight: the window began the day before
        return (local - timedelta(days=1)).isoweekday() in days
    return False


def confirmation(
    c: Campaign,
    command: str,
    due: datetime,
    user_zone: ZoneInfo,
    bot_zone: ZoneInfo,
    token: str,
    user_id: str,
    *,
    needs_approval: bool,
    zone_known: bool,
    hours: Report | None = None,
) -> dict[str, Any]:
    """``hours``: the calling-hours report; under enforcement a start or unpause is checked
    again when due and not run if it still calls people outside the permitted hours."""
    inside = in_active_period(c, due, bot_zone)
    period = campaign_period(c)
    if inside is None:
        where = "The campaign has no active period."
    elif inside:
        where = f":white_check_mark: Inside the campaign's active period ({period})."
    else:
        where = (
            f":warning: Outside the campaign's active period ({period}, {bot_zone.key}): "
            "the dialer may not call until the period begins."
        )
    zone_note = (
        f"Read in your Slack time zone ({user_zone.key})."
        if zone_known
        else f"Your Slack time zone is not known: read in {user_zone.key} (BOT_TIMEZONE)."
    )
    title = f"Schedule {command} of campaign #{c.id}?"
    return message(
        title,
        [
            header(title),
            section(
                f"*{command.capitalize()}* {campaign_ref(c.name, c.id)} at "
                f"*{when_text(due, user_zone)}*.\n{where}\n{zone_note}",
                fields=[
                    f"*Name*\n{esc(c.name)}",
                    f"*State now*\n{state_label(c.state)}",
                ],
            ),
            *_hours_blocks(hours),
            actions(
                button(
                    f"Ask approval to schedule {command}"
                    if needs_approval
                    else f"Schedule {command}",
                    CONFIRM,
                    token,
                    style="primary",
                ),
                button("Cancel", DISMISS, token),
                block_id="schedule:confirm",
            ),
            context(
                f"Asked by <@{user_id}> · runs once at that time, as you, if you still hold "
                "the role then"
                + (" · a second person must approve it in this channel" if needs_approval else "")
            ),
        ],
    )


def _due(s: Schedule) -> datetime:
    return datetime.fromisoformat(s.due_at)


def _zone(s: Schedule) -> ZoneInfo:
    try:
        return ZoneInfo(s.tz)
    except Exception:  # a zone this host does not know (any more): UTC is still true
        return ZoneInfo("UTC")


def _what(s: Schedule) -> str:
    approved = f" · approved by <@{s.approved_by}>" if s.approved_by else ""
    return (
        f"{s.command} {campaign_ref(s.campaign_name, s.campaign_id)} at "
        f"{when_text(_due(s), _zone(s))} · by <@{s.created_by}>{approved}"
    )


def schedule_line(s: Schedule) -> str:
    wait = " · *waits for approval*" if s.state == "awaiting" else ""
    return f"*#{s.id}* {_what(s)}{wait}"


def scheduled(s: Schedule) -> dict[str, Any]:
    if s.state == "awaiting":
        text = (
            f":hourglass_flowing_sand: Schedule #{s.id} asked: {_what(s)}. "
            "A second person must approve it in this channel before it runs."
        )
    else:
        text = (
            f":stopwatch: Scheduled #{s.id}: {_what(s)}. "
            f"`/dialer schedules` lists it; `/dialer schedule cancel {s.id}` cancels it."
        )
    return message(text)


def listing(rows: list[tuple[Schedule, bool]]) -> dict[str, Any]:
    """Pending schedules, each with a Cancel button when the viewer may cancel it."""
    if not rows:
        return message(
            ":information_source: No schedules are pending. "
            "Schedule one with e.g. `/dialer start 12 at 08:00` or `/dialer pause 12 in 30m`."
        )
    blocks = [header(f"Pending schedules ({len(rows)})")]
    for s, may_cancel in rows[:LIST_MAX]:
        blocks.append(section(schedule_line(s)))
        if may_cancel:
            blocks.append(
                actions(
                    button(f"Cancel #{s.id}", CANCEL, str(s.id), style="danger"),
                    block_id=f"schedule:{s.id}",
                )
            )
    if len(rows) > LIST_MAX:
        blocks.append(context(f"and {len(rows) - LIST_MAX} more, later"))
    blocks.append(context("`/dialer schedule cancel <n>` cancels one by its number"))
    return message(f"Pending schedules ({len(rows)})", blocks)


def approval_request(s: Schedule) -> dict[str, Any]:
    text = f"<@{s.created_by}> asks to schedule: {schedule_line(s)}"
    return message(
        text,
        [
            section(text),
            actions(
                button("Approve", APPROVE, str(s.id), style="primary"),
                button("Reject", REJECT, str(s.id), style="danger"),
                block_id=f"schedule:{s.id}",
            ),
        ],
    )


def approval_decided(s: Schedule, verb: str, user_id: str) -> dict[str, Any]:
    return message(f"{schedule_line(s)} — {verb} by <@{user_id}>")


def cancelled(s: Schedule, user_id: str) -> dict[str, Any]:
    return message(
        f":no_entry_sign: <@{user_id}> cancelled schedule #{s.id} ({s.command} "
        f"{campaign_ref(s.campaign_name, s.campaign_id)}). Nothing will be sent."
    )


def refused(text: str) -> dict[str, Any]:
    return message(f":information_source: {text}")


def _hours_blocks(hours: Report | None) -> list[dict[str, Any]]:
    text = hours_text(hours) if hours is not None else ""
    if not text:
        return []
    if hours is not None and hours.refuses:
        text += (
            "\n:no_entry: Calling hours are enforced: when due, it is checked again and not "
            "run if it still calls people outside the permitted hours."
        )
    return [section(text[:3000])]


def announcement(ran: Ran) -> dict[str, Any]:
    """What happened to a due schedule, for the channel of origin and the subscribers."""
    s = ran.schedule
    ref = campaign_ref(s.campaign_name, s.campaign_id)
    by = f" (scheduled by <@{s.created_by}>" + (
        f", approved by <@{s.approved_by}>)" if s.approved_by else ")"
    )
    if ran.result == "ran" and ran.outcome is not None:
        o = ran.outcome
        if o.result == "ok":
            was = f", was {esc(o.previous_state)}" if o.previous_state else ""
            now = f", now {state_label(o.new_state)}" if o.new_state else ""
            text = (
                f":stopwatch: Schedule #{s.id} {PAST.get(s.command, s.command)} campaign {ref}"
                f"{was}{now}{by}."
            )
        else:
            reason = result_view(o, s.created_by)["text"]
            text = f":stopwatch: Schedule #{s.id} ({s.command} {ref}){by}: {reason}"
    elif ran.result == "missed":
        text = (
            f":warning: Schedule #{s.id} ({s.command} {ref}, due {esc(s.due_at)}){by} was "
            f"*missed*: {esc(s.detail or 'the bot was not running then')}, and it is too late "
            "to run it now. "
            f"Nothing was sent; run `/dialer {s.command} {s.campaign_id}` if it is still needed."
        )
    elif ran.result == "interrupted":
        text = (
            f":grey_question: Schedule #{s.id} ({s.command} {ref}){by} was interrupted: the bot "
            "stopped while running it, so it may or may not have reached the dialer. It is not "
            f"run again; check `/dialer campaign {s.campaign_id}` and `/dialer history "
            f"#{s.campaign_id}`."
        )
    elif ran.result == "revoked":
        text = (
            f":no_entry: Schedule #{s.id} ({s.command} {ref}) was *not run*: <@{s.created_by}> "
            f"no longer has the role `{s.command}` needs. Nothing was sent."
        )
    elif ran.result == "outside_hours":
        text = (
            f":no_entry: Schedule #{s.id} ({s.command} {ref}){by} was *not run*: calling hours "
            "are enforced and it would call people outside the permitted hours. Nothing was "
            f"sent; an admin may {s.command} it with "
            f"`/dialer {s.command} {s.campaign_id} because <reason>`."
        )
    else:
        text = (
            f":wastebasket: Schedule #{s.id} ({s.command} #{s.campaign_id}){by} was *not run*: "
            f"{esc(ran.detail)}."
        )
    warning = hours_text(ran.hours)
    if warning:
        text += "\n" + warning
    follow = NEXT_COMMAND.get(s.command)
    if ran.outcome is None or ran.outcome.result != "ok" or follow is None:
        return message(text[:3000])
    return message(  # the next sensible command, as on every control notification
        text,
        [
            section(text[:3000]),
            actions(
                button(follow.capitalize(), f"control:{follow}", str(s.campaign_id)),
                block_id=f"campaign:{s.campaign_id}",
            ),
        ],
    )
