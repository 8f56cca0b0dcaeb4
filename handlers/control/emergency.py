"""The emergency stop from Slack: one confirmation, then every pause in parallel, one summary.

`/dialer pause all`, the global shortcut and the App Home button all open the same
confirmation; `/dialer pause 3 5 9` pauses at once (the safe direction, like `pause 3`).
The confirmation is a single-use claim (store/claims.py), so a double click pauses once.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.dialer import DialerError
from bot.find import match
from bot.pause_all import PauseAll, Summary, Target, survey
from handlers.blocks import dialer_error_text, message
from handlers.control import views
from handlers.guard import authorize
from handlers.request import Request, listener

log = logging.getLogger(__name__)

CONFIRM_TTL_S = 5 * 60  # an emergency confirmation goes stale fast: the list was read now
CLAIM_ACTION = "pause all"


def _pauser(req: Request) -> PauseAll:
    settings = req.services.settings
    return PauseAll(req.services.dialer, req.services.controller, settings.pause_all_concurrency)


def _targets(rows: Any) -> list[Target]:
    return [Target(int(r[0]), r[1], r[2]) for r in rows or []]


async def open_confirmation(req: Request) -> None:
    """Read the campaigns fresh and show the one confirmation (the caller checked the role)."""
    try:
        found = await survey(req.services.dialer)
    except DialerError as exc:
        await req.reply(views.list_unreadable(dialer_error_text(exc, "read the campaigns")))
        return
    if not found.running and not found.unknown:
        await req.reply(views.nothing_running(found))
        return
    store = req.services.store
    token = await store.run(
        store.claims.issue,
        action=CLAIM_ACTION,
        campaign_id=None,
        user_id=req.actor.user_id,
        channel_id=req.actor.channel_id,
        payload={
            "running": [[t.id, t.name, t.state] for t in found.running],
            "unknown": [[t.id, t.name, t.state] for t in found.unknown],
        },
        ttl_s=CONFIRM_TTL_S,
    )
    await req.reply(
        views.pause_all_confirmation(found, token, req.actor.user_id, CONFIRM_TTL_S // 60)
    )


async def pause_many(req: Request, ids: list[int], names: list[str] | None = None) -> None:
    """`/dialer pause 3 5 9`: no confirmation (pausing is the safe direction); one summary.

    Names among the ids run at once too, so each must match exactly one campaign word for
    word (bot/find.py); otherwise nothing is paused and the answer says which to fix."""
    if names:
        campaigns = await req.services.dialer.list_campaigns()
        found = [match(campaigns, name, word_for_word=True) for name in names]
        if any(f.match is None for f in found):
            await req.reply(views.names_unclear(found, ids))
            return
        ids = list(dict.fromkeys([*ids, *(f.match.id for f in found if f.match)]))
    summary = await _pauser(req).pause_ids(req.actor, ids)
    await _finish(req, summary, replace=False)


async def _finish(req: Request, summary: Summary, *, replace: bool) -> None:
    msg = views.summary_message(summary, req.actor.user_id)
    await req.reply(msg, replace=replace)
    if summary.went_out:
        origin = f" · from <#{req.actor.channel_id}>" if req.actor.channel_id else ""
        note = views.summary_message(summary, req.actor.user_id, by=origin)
        try:
            await req.services.notifier.publish(**note)
        except Exception:
            log.exception("could not queue the summary of batch %s", summary.batch_id)


async def _is_pause_all(req: Request, token: str) -> bool:
    """Look before claiming: a token of another kind is never used up by these buttons."""
    known = await req.services.store.run(req.services.store.claims.get, token)
    if known is None or known.action != CLAIM_ACTION:
        await req.reply(message(":warning: This confirmation is not valid. Nothing was sent."))
        return False
    return True


@listener("open the pause-all confirmation")
async def on_open(req: Request, body: dict[str, Any]) -> None:
    """The global shortcut and the App Home button: no channel, so the answer goes to the
    user's Messages tab (Request.reply without a response_url)."""
    if await authorize(req, "pause"):
        await open_confirmation(req)


@listener("pause the running campaigns")
async def on_confirm(req: Request, body: dict[str, Any]) -> None:
    action = body["actions"][0]
    include_unknown = action.get("action_id") == views.PAUSE_ALL_CONFIRM_UNKNOWN
    token = str(action.get("value", ""))[:64]
    if not await authorize(req, "pause"):
        return
    store = req.services.store
    if not await _is_pause_all(req, token):
        return
    claim = await store.run(store.claims.claim, token, user_id=req.actor.user_id)
    if not claim.ok:
        await req.reply(views.claim_refused(claim))
        return
    payload = claim.payload or {}
    targets = _targets(payload.get("running"))
    if include_unknown:
        targets += _targets(payload.get("unknown"))
    summary = await _pauser(req).pause_targets(req.actor, targets)
    await _finish(req, summary, replace=True)


@listener("cancel pause all")
async def on_cancel(req: Request, body: dict[str, Any]) -> None:
    token = str(body["actions"][0].get("value", ""))[:64]
    store = req.services.store
    if not await _is_pause_all(req, token):
        return
    claim = await store.run(
        store.claims.claim, token, user_id=req.actor.user_id, final_state="cancelled"
    )
    if claim.ok:
        await req.reply(
            message(":no_entry_sign: Pause all cancelled. Nothing was sent."), replace=True
        )
    else:
        await req.reply(views.claim_refused(claim))
