"""Block Kit for two-person approvals: the channel request, its final state, the short answers."""

from __future__ import annotations

from typing import Any

from bot.access import REQUIRED_ROLE
from bot.approvals import Approval
from handlers.blocks import actions, button, context, esc, message, section, slack_time
from handlers.control.views import campaign_ref

APPROVAL_ACTIONS = ("approve", "reject", "cancel")


def _asks(approval: Approval, *, past: bool = False) -> str:
    ref = campaign_ref(approval.campaign_name, approval.campaign_id)
    verb = "asked" if past else "asks"
    return f"<@{approval.requested_by}> {verb} to {esc(approval.command)} campaign {ref}"


def request_message(approval: Approval) -> dict[str, Any]:
    """Posted in the channel of origin, so the people who could approve see it."""
    needed = REQUIRED_ROLE.get(approval.command) or "admin"
    value = str(approval.id)
    danger = approval.command == "remove"
    approve = button(
        "Approve",
        "approval:approve",
        value,
        style="primary",
        confirm={
            "title": f"Approve: {approval.command} campaign #{approval.campaign_id}?",
            "text": f"{_asks(approval)}. It runs as soon as you approve.",
            "confirm": "Approve",
            "deny": "Not yet",
        }
        if danger
        else None,
    )
    was = f" (it is {esc(approval.previous_state)})" if approval.previous_state else ""
    text = f"{_asks(approval)}{was}"
    return message(
        text,
        [
            section(f":raised_hand: {text}."),
            actions(
                approve,
                button("Reject", "approval:reject", value, style="danger"),
                button("Cancel request", "approval:cancel", value),
                block_id=f"approval:{approval.id}",
            ),
            context(
                f"Needs a second person with the *{needed}* role · the requester cannot approve · "
                f"expires {slack_time(approval.expires_at)} · runs once · request #{approval.id}"
            ),
        ],
    )


def decided_message(approval: Approval, outcome_text: str | None = None) -> dict[str, Any]:
    """Replaces the request once it is approved, rejected, cancelled or expired: no buttons."""
    by = f"<@{approval.decided_by}>" if approval.decided_by else "nobody"
    status = {
        "approved": f":white_check_mark: Approved by {by}.",
        "rejected": f":no_entry_sign: Rejected by {by}. Nothing was sent to the dialer.",
        "cancelled": f":leftwards_arrow_with_hook: Cancelled by {by}. Nothing was sent.",
        "expired": ":hourglass: Expired: nobody approved in time. Nothing was sent. "
        f"Run `/dialer {esc(approval.command)} {approval.campaign_id}` again if still needed.",
    }.get(approval.state, f"State: {esc(approval.state)}.")
    if outcome_text:
        status = f"{status} {outcome_text}"
    head = f"{_asks(approval, past=True)}."
    when = slack_time(approval.decided_at) if approval.decided_at else ""
    return message(
        f"{head} {status}",
        [section(head), section(status), context(f"Request #{approval.id} · {when}".strip())],
    )


def waiting(approval: Approval) -> dict[str, Any]:
    """Replaces the requester's confirmation: where the request went, and that it waits."""
    ref = campaign_ref(approval.campaign_name, approval.campaign_id)
    where = f"<#{approval.channel_id}>" if approval.channel_id else "the channel"
    return message(
        f":hourglass_flowing_sand: To {esc(approval.command)} campaign {ref} needs a second "
        f"person. Your request is posted in {where}; it runs once someone with the "
        f"*{REQUIRED_ROLE.get(approval.command) or 'admin'}* role approves it "
        f"(until {slack_time(approval.expires_at)}). You can cancel it there."
    )


def post_failed(approval: Approval, error: str) -> dict[str, Any]:
    ref = campaign_ref(approval.campaign_name, approval.campaign_id)
    return message(
        f":warning: Could not post the approval request for campaign {ref} in this channel "
        f"({esc(error)}). Invite the bot to the channel (`/invite @dialer-bot`) and try again. "
        "Nothing was sent to the dialer."
    )


def answer(result: str, approval: Approval | None) -> dict[str, Any]:
    """Ephemeral answers to a click that changed nothing."""
    if approval is None or result == "missing":
        return message(":warning: This approval request is not known. Nothing was sent.")
    ref = campaign_ref(approval.campaign_name, approval.campaign_id)
    if result == "self":
        text = (
            f":no_entry: You cannot approve your own request to {esc(approval.command)} "
            f"campaign {ref}; someone else has to. Use *Cancel request* to withdraw it."
        )
    elif result == "not_requester":
        text = (
            f":no_entry: Only <@{approval.requested_by}> can cancel this request. "
            "Use *Reject* to turn it down."
        )
    elif result == "expired" or approval.state == "expired":
        text = (
            f":hourglass: This request expired. Run `/dialer {esc(approval.command)} "
            f"{approval.campaign_id}` again if it is still needed. Nothing was sent."
        )
    else:
        by = f" by <@{approval.decided_by}>" if approval.decided_by else ""
        at = f" ({slack_time(approval.decided_at)})" if approval.decided_at else ""
        state = esc(approval.state)
        text = f":information_source: Already {state}{by}{at}. Nothing was sent again."
    return message(text)
