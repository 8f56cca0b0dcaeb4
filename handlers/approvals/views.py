"""Block Kit for two-person approvals: the channel request, its final state, the short answers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import InputBlock, PlainTextInputElement, PlainTextObject

from bot.access import REQUIRED_ROLE
from bot.approvals import Approval
from bot.control import OutsideCallingHours
from bot.dialer.api import RUNNING_STATES, canonical_state
from bot.find import positive_int
from handlers.blocks import actions, button, clip, context, esc, message, section, slack_time
from handlers.control.views import DOING, campaign_ref, hours_text
from handlers.grammar import REASON_MAX
from handlers.payload import read_metadata

APPROVAL_ACTIONS = ("approve", "reject", "cancel")
DECIDE_CALLBACK = "approval:decide"
REASON_BLOCK = "reason"


def _asks(approval: Approval, *, past: bool = False) -> str:
    ref = campaign_ref(approval.campaign_name, approval.campaign_id)
    verb = "asked" if past else "asks"
    return f"<@{approval.requested_by}> {verb} to {esc(approval.command)} campaign {ref}"


def _running_warning(approval: Approval) -> str:
    """In red where Slack has red: removing a running campaign stops its calls."""
    if approval.command == "remove" and canonical_state(approval.previous_state) in RUNNING_STATES:
        return "\n:red_circle: *This campaign is running*: removing it stops its calls now."
    return ""


def request_message(
    approval: Approval, *, group: str | None = None, copy: bool = False
) -> dict[str, Any]:
    """Posted in the channel of origin, and (``copy``) where approvers watch.

    Approve carries no confirm dialog: the role and requester checks come first, then
    a dialog for commands that cannot be undone (listeners.DIALOG_APPROVALS).
    """
    needed = REQUIRED_ROLE.get(approval.command) or "admin"
    value = str(approval.id)
    was = f" (it is {esc(approval.previous_state)})" if approval.previous_state else ""
    text = f"{_asks(approval)}{was}"
    mention = f"<!subteam^{group}> " if group else ""
    where = f" · asked in <#{approval.channel_id}>" if copy and approval.channel_id else ""
    return message(
        text,
        [
            section(f":raised_hand: {mention}{text}.{_running_warning(approval)}"),
            actions(
                button("Approve", "approval:approve", value, style="primary"),
                button("Reject", "approval:reject", value, style="danger"),
                button("Cancel request", "approval:cancel", value),
                block_id=f"approval:{approval.id}",
            ),
            context(
                f"Needs a second person with the *{needed}* role · the requester cannot approve · "
                f"expires {slack_time(approval.expires_at)} · runs once · request #{approval.id}"
                f"{where}"
            ),
        ],
    )


@dataclass(frozen=True)
class DecideMeta:
    """What the Approve / Reject dialog carries back: which request, which verb. No
    channel: roles are checked where the request was made, as the stored request says,
    so a forged dialog cannot name a channel where its sender has a role."""

    approval_id: int
    verb: str  # approve | reject

    def dump(self) -> str:
        return json.dumps({"id": self.approval_id, "verb": self.verb})

    @classmethod
    def load(cls, raw: Any) -> DecideMeta | None:
        data = read_metadata(raw)
        if data is None or data.get("verb") not in ("approve", "reject"):
            return None
        approval_id = positive_int(data.get("id", ""))
        if approval_id is None:
            return None
        return cls(approval_id, str(data["verb"]))


def decide_modal(approval: Approval, verb: str) -> dict[str, Any]:
    """Reject: an optional reason. Approve (of a command that cannot be undone): confirm."""
    blocks: list[dict[str, Any]] = [
        section(
            f"{_asks(approval)}.{_running_warning(approval)}"
            + ("\nIt runs as soon as you approve." if verb == "approve" else "")
        )
    ]
    if verb == "reject":
        blocks.append(
            InputBlock(
                block_id=REASON_BLOCK,
                label=PlainTextObject(text="Reason"),
                optional=True,
                element=PlainTextInputElement(
                    action_id=REASON_BLOCK,
                    max_length=REASON_MAX,
                    placeholder=PlainTextObject(text="Shown to the requester and in the log"),
                ),
            ).to_dict()
        )
    title = f"{verb.capitalize()} request #{approval.id}"
    return {
        "type": "modal",
        "callback_id": DECIDE_CALLBACK,
        "private_metadata": DecideMeta(approval.id, verb).dump(),
        "title": {"type": "plain_text", "text": clip(title, 24)},
        "submit": {"type": "plain_text", "text": "Approve" if verb == "approve" else "Reject"},
        "close": {"type": "plain_text", "text": "Not yet"},
        "blocks": blocks,
    }


def reason_from(view: dict[str, Any]) -> str | None:
    """The reason typed in the Reject dialog, trimmed; None when left empty."""
    values = ((view.get("state") or {}).get("values") or {}).get(REASON_BLOCK) or {}
    raw = (values.get(REASON_BLOCK) or {}).get("value")
    text = " ".join(str(raw or "").split())[:REASON_MAX]
    return text or None


def dialog_failed(approval: Approval, verb: str) -> dict[str, Any]:
    return message(
        f":warning: Could not open the {verb} dialog for request #{approval.id} (Slack refused "
        "it, maybe because the click is too old). Nothing changed; click the button again."
    )


def decided_message(
    approval: Approval, outcome_text: str | None = None, *, reason: str | None = None
) -> dict[str, Any]:
    """Replaces the request once it is approved, rejected, cancelled or expired: no buttons."""
    by = f"<@{approval.decided_by}>" if approval.decided_by else "nobody"
    asked = f"<@{approval.requested_by}>"
    because = f" Reason: “{esc(reason)}”." if reason else ""
    status = {
        "approved": f":white_check_mark: Requested by {asked}, approved by {by}.",
        "rejected": f":no_entry_sign: Requested by {asked}, rejected by {by}.{because} "
        "Nothing was sent to the dialer.",
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


def outside_hours(exc: OutsideCallingHours, approval: Approval) -> str:
    """Shown after "approved by": the calling hours, checked again at approval, refused the
    command. Both people see it where the request was posted."""
    c, cmd = exc.campaign, exc.command
    return (
        f":no_entry: *Not run*: calling hours are enforced, and {DOING.get(cmd, cmd)} "
        f"{campaign_ref(c.name, c.id)} would now call people outside the permitted hours "
        "(checked again at approval). Nothing was sent.\n"
        f"{hours_text(exc.report)}\n"
        f"<@{approval.requested_by}> may ask again once the campaign is inside the hours "
        f"(`/dialer {esc(cmd)} {c.id}`), or ask an admin to request it with a reason: "
        f"`/dialer {esc(cmd)} {c.id} because <reason>`."
    )


def _gerund(command: str) -> str:
    """ "remove" → "Removing": the command as the subject of a sentence."""
    stem = command[:-1] if command.endswith("e") and not command.endswith("ee") else command
    return f"{stem}ing".capitalize()


def waiting(approval: Approval, copy_in: str | None = None) -> dict[str, Any]:
    """Replaces the requester's confirmation: where the request went, and that it waits."""
    ref = campaign_ref(approval.campaign_name, approval.campaign_id)
    where = f"<#{approval.channel_id}>" if approval.channel_id else "the channel"
    if copy_in:
        where += f" and in <#{copy_in}>, where approvers watch"
    return message(
        f":hourglass_flowing_sand: {esc(_gerund(approval.command))} campaign {ref} needs a second "
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
