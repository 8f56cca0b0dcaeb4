"""Block Kit for control: the confirmation, the result replacing it, the notification."""

from __future__ import annotations

import time
from typing import Any

from bot.access import allowed_for_role
from bot.control import Outcome, Prepared
from bot.dialer.api import RUNNING_STATES, canonical_state
from handlers.blocks import (
    actions,
    button,
    context,
    esc,
    header,
    message,
    section,
    slack_time,
    state_label,
)
from handlers.campaigns.views import campaign_period
from handlers.errors import dialer_error_text

PAST = {
    "start": "started",
    "pause": "paused",
    "unpause": "unpaused",
    "reload": "reloaded",
    "remove": "removed",
}
NEXT_COMMAND = {"start": "pause", "unpause": "pause", "reload": "pause", "pause": "unpause"}


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


def not_allowed(exc: Exception) -> dict[str, Any]:
    return message(f":information_source: Nothing sent: {esc(exc)}.")


def result(outcome: Outcome, user_id: str) -> dict[str, Any]:
    """The message that replaces the confirmation (or answers a pause)."""
    ref = campaign_ref(outcome.campaign_name, outcome.campaign_id)
    cmd = outcome.command
    if outcome.result == "ok":
        now = f" Now {state_label(outcome.new_state)}." if outcome.new_state else ""
        said = f" The dialer said: {esc(outcome.detail)}." if outcome.detail else ""
        text = f":white_check_mark: <@{user_id}> {PAST.get(cmd, cmd)} campaign {ref}.{now}{said}"
        if outcome.reason:
            text += f" Reason: “{esc(outcome.reason)}”."
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


def notification(outcome: Outcome, user_id: str, origin_channel: str | None) -> dict[str, Any]:
    ref = campaign_ref(outcome.campaign_name, outcome.campaign_id)
    was = f", was {esc(outcome.previous_state)}" if outcome.previous_state else ""
    if outcome.result == "ok":
        text = f"<@{user_id}> {PAST.get(outcome.command, outcome.command)} campaign {ref}{was}"
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
