"""What a workflow step says: its error sentences (plain text, shown in Workflow Builder's
activity, not mrkdwn) and the "via workflow …" words of audit rows and notifications."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from bot.access import Decision
from bot.control import Outcome, OutsideCallingHours
from bot.dialer import DialerError
from bot.find import Found
from bot.pause_all import StorageFailed
from handlers.blocks import dialer_error_text
from handlers.control.views import dialer_said, settled

# Callback ids, as manifest.yml declares them under `functions`.
PAUSE = "pause_campaign"
UNPAUSE = "unpause_campaign"
START = "start_campaign"
PAUSE_ALL = "pause_all_campaigns"
STATUS = "campaign_status"

VERB = {"pause": "Pausing", "unpause": "Unpausing", "start": "Starting"}

NO_USER = (
    "The step needs the person running the workflow (its `user` input); "
    "nothing was sent to the dialer."
)
BOT_FAILED = (
    "Something failed on the bot's side; the error is logged for its maintainers. "
    "Check the campaign before running the workflow again."
)


def via(workflow_execution_id: str | None, step: str, execution_id: str) -> str:
    """What the audit row and the notification say acted for the person."""
    workflow = f"workflow {workflow_execution_id}" if workflow_execution_id else "a workflow"
    return f"{workflow} (step {step}, run {execution_id})"


def plain(text: str) -> str:
    """A mrkdwn sentence made for chat, as plain text for Workflow Builder."""
    return html.unescape(text.removeprefix(":warning: ")).replace("`", "")


def denied(decision: Decision, user_id: str, channel_id: str | None) -> str:
    has = decision.has or "no role"
    if channel_id:
        where = f"has {has} in channel {channel_id}"
    else:
        where = f"has {has} (the step was given no channel: only roles held everywhere count)"
    return (
        f"{decision.action} needs the {decision.needed} role; the person running the "
        f"workflow ({user_id}) {where}. Nothing was sent to the dialer. "
        "A dialer-bot admin can grant it with /dialer access grant."
    )


def bad_campaign_input(problem: str) -> str:
    return f"The campaign input {problem}. Nothing was sent to the dialer."


def unclear(found: Found[Any], *, word_for_word: bool) -> str:
    """A workflow cannot be asked to choose: the name's matches, or the nearest names."""

    def names(items: Any) -> str:
        return ", ".join(f"{c.name} (#{c.id})" for c in items)

    query = found.query
    if found.candidates:
        if len(found.candidates) == 1 and word_for_word:
            return (
                f"“{query}” matches {names(found.candidates)} only in part; a step that "
                "controls a campaign acts on a name only when it matches one campaign word "
                "for word. Use the id or the whole name. Nothing was sent to the dialer."
            )
        more = " (and more)" if found.more else ""
        return (
            f"“{query}” matches several campaigns: {names(found.candidates)}{more}. "
            "Use the campaign's id or its whole name. Nothing was sent to the dialer."
        )
    nearest = f" The nearest names: {names(found.nearest)}." if found.nearest else ""
    return f"No campaign is called “{query}”.{nearest} Nothing was sent to the dialer."


def needs_approval(command: str, campaign_id: int) -> str:
    return (
        f"{VERB.get(command, command)} campaign #{campaign_id} needs a second person's "
        "approval (APPROVAL_REQUIRED), and a workflow step does not ask for one. Run "
        f"/dialer {command} {campaign_id} in Slack to request it. Nothing was sent to the dialer."
    )


NEEDS_APPROVAL_DETAIL = "needs a second person's approval; a workflow step does not ask for one"


def outside_hours(exc: OutsideCallingHours) -> str:
    """A step has no confirmation to carry an admin's reason, so it only says where to go."""
    c, cmd = exc.campaign, exc.command
    return (
        f"{VERB.get(cmd, cmd)} campaign {c.name} (#{c.id}) would call "
        f"{exc.report.numbers_outside:,} numbers outside the permitted calling hours "
        f"({exc.report.permitted} local time), and calling hours are enforced "
        "(CALLING_HOURS_ENFORCE). Nothing was sent to the dialer. A workflow step cannot "
        f"override them; an admin can, in Slack: /dialer {cmd} {c.id} because <reason>."
    )


def not_allowed(exc: Exception) -> str:
    return f"Nothing sent: {exc}."


def failed(outcome: Outcome) -> str:
    """The dialer refused, or its answer was lost (then the result is unknown)."""
    ref = (
        f"{outcome.campaign_name} (#{outcome.campaign_id})"
        if outcome.campaign_name
        else (f"#{outcome.campaign_id}")
    )
    if outcome.result == "unknown" and outcome.answer:  # settled by re-reading the campaign
        return plain(
            f"{outcome.command.capitalize()} campaign {ref}: {settled(outcome)} The result "
            "is unknown in the audit log; check the campaign before running the step again."
        )
    if outcome.result == "unknown":
        return (
            f"The dialer did not answer in time to {outcome.command} campaign {ref}, so the "
            f"result is unknown ({outcome.detail or 'no answer'}). Check the campaign's state."
        )
    why = outcome.detail or "no reason given"
    return f"The dialer refused to {outcome.command} campaign {ref}: {why}."


def dialer_failed(exc: DialerError, doing: str, paths: Mapping[str, str]) -> str:
    return plain(dialer_error_text(exc, doing, paths))


def not_sent(failure: StorageFailed) -> str:
    """A campaign in pause-all's failed_campaigns whose audit row could not be written."""
    name = failure.target.name or f"#{failure.target.id}"
    return f"{name} (not sent: the bot's storage failed, {failure.reason})"


def unrecorded(failure: StorageFailed) -> str:
    """One whose pause went out before the bot's storage failed: what the dialer answered."""
    name = failure.target.name or f"#{failure.target.id}"
    said = plain(dialer_said(failure.sent))
    return f"{name} (sent, but the bot's storage failed recording it, {failure.reason}: {said})"
