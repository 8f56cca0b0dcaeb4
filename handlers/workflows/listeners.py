"""Workflow Builder custom steps: Slack sends `function_executed`, the step answers with
functions.completeSuccess (outputs) or functions.completeError (a sentence).

Each step acts as the person running the workflow (its `user` input), with that person's
role in the `channel` input, or their role everywhere when no channel is given
(bot/access.py). A campaign given by name resolves as in /dialer (bot/find.py); a workflow
cannot be asked to choose, so an unclear name ends the step with the matches. The control
itself is the one control flow (bot/control.py); the two-person rule is not bypassed: a
command in APPROVAL_REQUIRED ends the step at once, saying approval is needed.

Exactly once: the run's `function_execution_id` is claimed by one INSERT
(store/workflow_runs.py); a repeated delivery gets the stored answer again and runs nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.complete.async_complete import AsyncComplete
from slack_bolt.context.fail.async_fail import AsyncFail
from slack_sdk.errors import SlackApiError

from bot.audit import Actor, record
from bot.control import CommandNotAllowed, OutsideCallingHours
from bot.dialer import DialerError
from bot.find import Ref, find_campaign
from bot.pause_all import PauseAll, survey
from bot.services import Services
from handlers.control import views as control_views
from handlers.guard import audit_denied
from handlers.request import Request
from handlers.subscriptions.listeners import notify
from handlers.workflows import views
from store import StorageError

log = logging.getLogger(__name__)

# Step → the /dialer command it runs (and whose role it needs, bot/access.py).
CONTROL_STEPS = {views.PAUSE: "pause", views.UNPAUSE: "unpause", views.START: "start"}
ACTION = {**CONTROL_STEPS, views.PAUSE_ALL: "pause", views.STATUS: "campaign"}
STEPS = tuple(ACTION)
# Completes "Could not <doing>: …" in a dialer error.
DOING = {
    **{step: f"{command} the campaign" for step, command in CONTROL_STEPS.items()},
    views.PAUSE_ALL: "pause the running campaigns",
    views.STATUS: "read the campaign",
}


class StepError(Exception):
    """The step ends with this sentence (functions.completeError)."""


@dataclass(frozen=True)
class StepRun:
    """One run of a step, as the function_executed event gives it."""

    step: str
    execution_id: str
    workflow_execution_id: str | None
    team_id: str | None
    inputs: dict[str, Any]

    @property
    def user_id(self) -> str | None:
        user = self.inputs.get("user")
        return user if isinstance(user, str) and user else None

    @property
    def channel_id(self) -> str | None:
        channel = self.inputs.get("channel")
        return channel if isinstance(channel, str) and channel else None

    @property
    def reason(self) -> str | None:
        reason = self.inputs.get("reason")
        if not isinstance(reason, str):
            return None
        return reason.strip()[:500] or None


async def on_step(
    event: dict[str, Any], context: AsyncBoltContext, complete: AsyncComplete, fail: AsyncFail
) -> None:
    """Bolt acks the event (auto_acknowledge); the step runs after it, in a tracked task,
    so Slack gets its 200 at once and has no reason to deliver it again."""
    services: Services = context["services"]
    function = event.get("function") if isinstance(event.get("function"), dict) else {}
    inputs = event.get("inputs") if isinstance(event.get("inputs"), dict) else {}
    workflow = event.get("workflow_execution_id")
    run = StepRun(
        step=str(function.get("callback_id") or ""),
        execution_id=str(event.get("function_execution_id") or ""),
        workflow_execution_id=workflow if isinstance(workflow, str) else None,
        team_id=context.team_id,
        inputs=inputs,
    )
    services.tasks.spawn(run_step(services, run, complete, fail), name=f"workflow step {run.step}")


async def run_step(
    services: Services, run: StepRun, complete: AsyncComplete, fail: AsyncFail
) -> None:
    store = services.store
    if not run.execution_id:  # nothing to claim, and nothing Slack could be told
        log.warning("a function_executed event without its function_execution_id: ignored")
        return
    claim = await store.run(
        store.workflow_runs.claim,
        run.execution_id,
        step=run.step,
        user_id=run.user_id,
        workflow_execution_id=run.workflow_execution_id,
    )
    if not claim.ok:
        stored = claim.run
        if stored is not None and stored.state == "done":
            log.info("workflow run %s delivered again: same answer, nothing run", run.execution_id)
            await _answer(complete, fail, stored.outputs, stored.error)
        else:
            log.info("workflow run %s delivered again while running: ignored", run.execution_id)
        return
    outputs: dict[str, Any] | None = None
    error: str | None = None
    try:
        outputs = await _perform(services, run)
    except StepError as exc:
        error = str(exc)
    except DialerError as exc:
        doing = DOING.get(run.step, "run the step")
        error = views.dialer_failed(exc, doing, services.dialer.paths)
    except Exception:
        log.exception("workflow step %s failed", run.step)
        error = views.BOT_FAILED
    try:
        await store.run(store.workflow_runs.finish, run.execution_id, outputs=outputs, error=error)
    except StorageError as exc:  # a delivery again finds it running and is ignored
        log.error("workflow run %s: its answer could not be stored: %s", run.execution_id, exc)
    await _answer(complete, fail, outputs, error)


async def _answer(
    complete: AsyncComplete, fail: AsyncFail, outputs: dict[str, Any] | None, error: str | None
) -> None:
    try:
        if error is not None:
            await fail(error)
        else:
            await complete(outputs or {})
    except SlackApiError as exc:  # the run is recorded; Slack will time the step out
        log.warning("could not complete the workflow step: %s", exc.response.get("error"))


async def _perform(services: Services, run: StepRun) -> dict[str, Any]:
    """The role check, then the step; a StepError or DialerError ends it with a sentence."""
    if run.step not in ACTION:  # only the registered callback ids reach here
        raise StepError(f"This app has no step {run.step!r}.")
    if run.user_id is None:
        raise StepError(views.NO_USER)
    actor = Actor(
        user_id=run.user_id,
        channel_id=run.channel_id,
        team_id=run.team_id,
        via=views.via(run.workflow_execution_id, run.step, run.execution_id),
    )
    action = ACTION[run.step]
    decision = await services.access.check(actor.user_id, actor.channel_id, action)
    if not decision.allowed:
        await audit_denied(
            services.store,
            actor,
            decision,
            campaign_id=_given_id(run.inputs.get("campaign")),
            where="workflow step",
        )
        raise StepError(views.denied(decision, actor.user_id, actor.channel_id))
    if run.step == views.PAUSE_ALL:
        return await _pause_all(services, actor, run.reason)
    if run.step == views.STATUS:
        campaign_id = await _resolve(services, run.inputs.get("campaign"), word_for_word=False)
        campaign = await services.dialer.get_campaign(campaign_id)
        return {"campaign_id": campaign.id, "campaign_name": campaign.name, "state": campaign.state}
    return await _control(services, actor, CONTROL_STEPS[run.step], run)


def _given_id(text: Any) -> int | None:
    """The campaign id typed in the step's input, for a refusal's audit row (no lookup)."""
    try:
        return Ref.parse([str(text or "")]).id
    except ValueError:
        return None


async def _resolve(services: Services, text: Any, *, word_for_word: bool) -> int:
    try:
        ref = Ref.parse([text if isinstance(text, str) else str(text or "")])
    except ValueError as exc:
        raise StepError(views.bad_campaign_input(str(exc))) from None
    if ref.id is not None:
        return ref.id
    assert ref.name is not None
    found = await find_campaign(services.dialer, ref.name, word_for_word=word_for_word)
    if found.match is None:
        raise StepError(views.unclear(found, word_for_word=word_for_word))
    return found.match.id


async def _control(services: Services, actor: Actor, command: str, run: StepRun) -> dict[str, Any]:
    """Pause, unpause or start at once: the workflow's author chose to run it, so no
    confirmation; a command needing a second person ends here (see the module docstring),
    and so does an unpause or start outside enforced calling hours (no step can override
    them: an admin does that in Slack, with a reason).

    Running at once, like `/dialer pause`, a step acts on a name only when exactly one
    campaign has it word for word: nobody sees which campaign a looser match picked."""
    campaign_id = await _resolve(services, run.inputs.get("campaign"), word_for_word=True)
    if command in services.settings.approval_commands:
        await record(
            services.store,
            actor,
            command,
            "denied",
            campaign_id=campaign_id,
            detail=f"workflow step: {views.NEEDS_APPROVAL_DETAIL}",
        )
        raise StepError(views.needs_approval(command, campaign_id))
    try:
        outcome = await services.controller.run_now(actor, campaign_id, command, reason=run.reason)
    except CommandNotAllowed as exc:
        raise StepError(views.not_allowed(exc)) from None
    except OutsideCallingHours as exc:  # audited as denied by the controller
        raise StepError(views.outside_hours(exc)) from None
    if outcome.result in ("ok", "unknown"):
        await notify(Request(services=services, actor=actor, respond=None), outcome)
    if outcome.result != "ok":
        raise StepError(views.failed(outcome))
    state = outcome.new_state
    if not state:  # the dialer's answer named no state: read it
        state = (await services.dialer.get_campaign(campaign_id)).state
    return {
        "campaign_id": outcome.campaign_id,
        "campaign_name": outcome.campaign_name or "",
        "state": state,
    }


async def _pause_all(services: Services, actor: Actor, reason: str | None) -> dict[str, Any]:
    """Every campaign running now; a state the bot does not know is left alone (a workflow
    cannot confirm it, as the second button does). Failures are named in the outputs; one
    the bot's storage failed for says whether it was sent, and if so what the dialer said."""
    found = await survey(services.dialer)
    pauser = PauseAll(services.dialer, services.controller, services.settings.pause_all_concurrency)
    summary = await pauser.pause_targets(actor, found.running, reason=reason)
    if summary.went_out:
        by = f" · via {actor.via}" + (f" · from <#{actor.channel_id}>" if actor.channel_id else "")
        note = control_views.summary_message(summary, actor.user_id, by=by)
        try:
            await services.notifier.publish(**note)
        except Exception:
            log.exception("could not queue the summary of batch %s", summary.batch_id)
    failed = [o.campaign_name or f"#{o.campaign_id}" for o in summary.failed]
    failed += [f"#{cid}" for cid in summary.missing]
    failed += [views.not_sent(f) for f in summary.not_sent]
    failed += [views.unrecorded(f) for f in summary.unrecorded]
    return {"paused_count": len(summary.paused), "failed_campaigns": ", ".join(failed)}
