"""Two-person approvals in Slack: post the request, take Approve / Reject / Cancel clicks.

bot/approvals.py decides and audits; this module checks roles, posts and updates
the channel message, and answers the person who clicked.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.access import approval_action
from bot.approvals import ApprovalResult
from bot.find import positive_int
from bot.services import Services
from handlers.approvals import views
from handlers.blocks import message
from handlers.control.views import result as result_view
from handlers.guard import authorize
from handlers.payload import as_dict
from handlers.request import Request, listener
from handlers.subscriptions.listeners import notify
from store.claims import Approval

log = logging.getLogger(__name__)

APPROVAL_ACTION = re.compile(r"^approval:(approve|reject|cancel)$")
# Approving these opens a dialog first (after the role checks): they cannot be undone.
DIALOG_APPROVALS = frozenset({"remove"})
# Results that changed the request, so the channel message must show it.
CHANGED = frozenset({"approved", "outside_hours", "rejected", "cancelled", "expired"})


async def request_approval(req: Request, token: str) -> None:
    """On Confirm of a command in APPROVAL_REQUIRED: ask the channel instead of running it."""
    services = req.services
    res = await services.approvals.request(req.actor, token)
    if res.approval is None:
        assert res.outcome is not None
        await req.reply(
            result_view(res.outcome, req.actor.user_id), replace=res.outcome.result != "already"
        )
        return
    approval = res.approval
    settings = services.settings
    try:
        resp = await services.client.chat_postMessage(
            channel=approval.channel_id or "",
            unfurl_links=False,
            unfurl_media=False,
            **views.request_message(approval),
        )
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "Slack refused the message")
        log.warning("approval request %s could not be posted: %s", approval.id, error)
        # Nobody could see it, so nobody could approve it: withdraw it at once.
        await services.approvals.cancel(req.actor, approval.id)
        await req.reply(views.post_failed(approval, error), replace=True)
        return
    await services.approvals.set_message(approval, str(resp["channel"]), str(resp["ts"]))
    copy_in = await _post_copy(services, approval, settings.approvals_to)
    await req.reply(views.waiting(approval, copy_in), replace=True)


async def _post_copy(services: Services, approval: Approval, channel: str | None) -> str | None:
    """The same request where approvers watch (APPROVAL_CHANNEL, mentioning APPROVER_GROUP).

    Returns the channel it went to; a failure here is logged, the original still works.
    """
    if not channel or channel == approval.channel_id:
        return None
    try:
        resp = await services.client.chat_postMessage(
            channel=channel,
            unfurl_links=False,
            unfurl_media=False,
            **views.request_message(approval, group=services.settings.approver_group, copy=True),
        )
    except SlackApiError as exc:
        log.warning(
            "approval request %s: no copy in %s: %s",
            approval.id,
            channel,
            exc.response.get("error"),
        )
        return None
    await services.approvals.set_copy(approval, str(resp["channel"]), str(resp["ts"]))
    return str(resp["channel"])


def where_asked(req: Request, approval: Approval) -> Request:
    """The request as if made in the channel the approval was asked in, from the stored
    approval: an approver's role counts there, wherever the button was clicked (the copy
    in APPROVAL_CHANNEL) and whatever a dialog's private_metadata says. Audit rows of
    the decision name that channel too."""
    actor = dataclasses.replace(req.actor, channel_id=approval.channel_id)
    return dataclasses.replace(req, actor=actor)


def _clicked(body: dict[str, Any]) -> tuple[str, int] | None:
    """(verb, approval id) of an approval button, or None for a button not ours."""
    action = body["actions"][0]
    match = APPROVAL_ACTION.match(action.get("action_id", ""))
    approval_id = positive_int(action.get("value", ""))
    return (match.group(1), approval_id) if match and approval_id is not None else None


def _doing_click(body: dict[str, Any]) -> str:
    clicked = _clicked(body)
    return f"{clicked[0]} request #{clicked[1]}" if clicked else "answer the request"


@listener(_doing_click)
async def on_approval_button(req: Request, body: dict[str, Any]) -> None:
    """Approve, Reject or Cancel on a request in the channel."""
    clicked = _clicked(body)
    if clicked is None:
        await req.reply(message(":warning: That button is not valid. Nothing was sent."))
        return
    verb, approval_id = clicked
    approvals = req.services.approvals
    approval = await approvals.get(approval_id)
    if approval is None:
        await req.reply(views.answer("missing", None))
        return
    req = where_asked(req, approval)
    action_name = approval_action(verb, approval.command)
    if not await authorize(req, action_name, campaign_id=approval.campaign_id):
        return
    refused = await approvals.refusal(req.actor, approval, verb)
    if refused is not None:  # before any dialog: the requester never sees "Approve?"
        await req.reply(views.answer(refused, approval))
        return
    if approval.state == "open" and await _ask_in_dialog(req, approval, verb):
        return
    if verb == "approve":
        res = await approvals.approve(req.actor, approval_id)
    elif verb == "reject":
        res = await approvals.reject(req.actor, approval_id)
    else:
        res = await approvals.cancel(req.actor, approval_id)
    await show(req, res)


async def _ask_in_dialog(req: Request, approval: Approval, verb: str) -> bool:
    """Reject asks for an optional reason; approving a dangerous command asks to confirm.

    The dialog opens only after the role and requester checks passed. False when no
    dialog is needed; a dialog that cannot open decides nothing (the user is told).
    """
    is_reject = verb == "reject" and req.actor.user_id != approval.requested_by
    if not (is_reject or (verb == "approve" and approval.command in DIALOG_APPROVALS)):
        return False
    view = views.decide_modal(approval, verb)
    try:
        if not req.trigger_id:
            raise SlackApiError("no trigger_id", {"error": "no trigger_id in the click"})
        await req.services.client.views_open(trigger_id=req.trigger_id, view=view)
    except SlackApiError as exc:
        log.warning("approval dialog not opened: %s", exc.response.get("error"))
        await req.reply(views.dialog_failed(approval, verb))
    return True


def _decide_meta(body: dict[str, Any]) -> views.DecideMeta | None:
    return views.DecideMeta.load(as_dict(body.get("view")).get("private_metadata"))


def _doing_decide(body: dict[str, Any]) -> str:
    meta = _decide_meta(body)
    return f"{meta.verb} request #{meta.approval_id}" if meta else "answer the request"


@listener(_doing_decide)
async def on_decide_submit(req: Request, body: dict[str, Any]) -> None:
    """The Approve / Reject dialog was submitted: decide, with the reason if one was given."""
    meta = _decide_meta(body)
    if meta is None:
        await req.reply(message(":warning: That dialog is not valid. Nothing was sent."))
        return
    reason = views.reason_from(body.get("view") or {})
    approvals = req.services.approvals
    approval = await approvals.get(meta.approval_id)
    if approval is None:
        await req.reply(views.answer("missing", None))
        return
    req = where_asked(req, approval)  # a dialog has no channel; its metadata is not trusted
    action_name = approval_action(meta.verb, approval.command)
    if not await authorize(req, action_name, campaign_id=approval.campaign_id):
        return
    if meta.verb == "approve":
        res = await approvals.approve(req.actor, meta.approval_id)
    else:
        res = await approvals.reject(req.actor, meta.approval_id, reason)
    await show(req, res)


async def show(req: Request, res: ApprovalResult) -> None:
    """A decision updates the channel message for everyone; anything else answers the clicker."""
    approval = res.approval
    if approval is None or res.result not in CHANGED:
        await req.reply(views.answer(res.result, approval))
        return
    outcome_text = None
    if res.outcome is not None:
        outcome_text = result_view(res.outcome, req.actor.user_id)["text"]
    elif res.outside is not None:
        outcome_text = views.outside_hours(res.outside, approval)
    msg = views.decided_message(approval, outcome_text, reason=res.reason)
    if not await _update(req.services.client, approval, msg):
        await req.reply(msg, replace=True)  # from a dialog (no response_url): to the DM
    if res.result == "approved" and res.outcome is not None:
        await notify(req, res.outcome)
    elif res.result == "expired":
        await req.reply(views.answer("expired", approval))


async def update_expired(client: AsyncWebClient, expired: list[Approval]) -> None:
    """For the sweeper: show every request it expired as expired."""
    for approval in expired:
        await _update(client, approval, views.decided_message(approval))


async def _update(client: AsyncWebClient, approval: Approval, msg: dict[str, Any]) -> bool:
    """Update the request where it was posted, and its copy in the approvers' channel."""
    updated = False
    for channel, ts in (
        (approval.channel_id, approval.message_ts),
        (approval.copy_channel_id, approval.copy_message_ts),
    ):
        if not (channel and ts):
            continue
        try:
            await client.chat_update(channel=channel, ts=ts, **msg)
        except SlackApiError as exc:
            log.warning(
                "approval request %s: message in %s not updated: %s",
                approval.id,
                channel,
                exc.response.get("error"),
            )
            continue
        updated = True
    return updated
