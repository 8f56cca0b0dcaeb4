"""The audit trail as the bot writes it: who asked (Actor), where, when, and the answer.

store/audit.py keeps the chained rows; this module is the one way the bot writes them. It
spells out the Actor's columns once, times the dialer call, and is the only place that
turns a DialerError into an outcome, so call sites say only what was asked and what the
answer was.

    async with recorded(store, actor, "start", campaign_id=12, request={...}) as rec:
        result = await dialer.control(12, "start")
        rec.ok(result.message)

The pending row is written before the block runs (write-ahead: a crash leaves a pending
entry, never nothing). Leaving the block normally completes it ``ok``; a DialerError
completes it ``failed`` (the dialer answered) or ``unknown`` (the answer was lost) with the
error's sentence, then propagates. Any other exception leaves the row pending; start-up
closes such rows as unknown (close_interrupted).

The bot writes audit rows nowhere else: one-shot rows (record), the anchor row of a head
posted to Slack (record_anchor) and start-up's recovery all go through here.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from bot.dialer import DialerError
from store import AuditEntry, Store
from store.audit import ANCHOR_ACTION, Anchor


@dataclass(frozen=True)
class Actor:
    """Who asked, from where: Slack IDs only; the name is kept for readable audit rows.
    The one identity every service, audit row and handler passes on."""

    user_id: str
    channel_id: str | None = None
    team_id: str | None = None
    user_name: str | None = None
    # Set when the person did not ask in Slack themselves but through something acting
    # for them, e.g. "workflow Wx123 (step pause_campaign, run Fx456)": audit rows and
    # notifications say so.
    via: str | None = None


def outcome_of(err: DialerError) -> str:
    """``unknown`` when the request may have reached the dialer but no answer came back;
    ``ok`` when the dialer accepted it (2xx) and only its answer was short of what the bot
    wanted (a create without an id): the audit row must say what the dialer did."""
    if err.sent is None:
        return "unknown"
    return "ok" if err.status is not None and 200 <= err.status < 300 else "failed"


def _who(actor: Actor) -> dict[str, str | None]:
    return {
        "user_id": actor.user_id,
        "user_name": actor.user_name,
        "channel_id": actor.channel_id,
        "team_id": actor.team_id,
    }


def _with_via(actor: Actor, request: Any) -> Any:
    """The audited request, naming what acted for the person (a workflow) when something did."""
    if actor.via is None:
        return request
    if request is None:
        return {"via": actor.via}
    if isinstance(request, dict):
        return {**request, "via": actor.via}
    return {"request": request, "via": actor.via}


class Recording:
    """One request's pending row; the block fills in what the dialer answered."""

    def __init__(self, pending_id: int) -> None:
        self.pending_id = pending_id
        self.outcome = "pending"  # then ok | failed | unknown, once completed
        self.detail: str | None = None
        self.campaign_id: int | None = None
        self._answered = "ok"

    def ok(self, detail: str | None, *, campaign_id: int | None = None) -> None:
        """What the completion row says the dialer answered, and the campaign it created."""
        self.detail = detail
        self.campaign_id = campaign_id

    def unknown(self, detail: str) -> None:
        """The dialer accepted it, but what it reports says otherwise: left open (unknown)
        until a re-read settles it (bot/control.py)."""
        self.detail = detail
        self._answered = "unknown"


@asynccontextmanager
async def recorded(
    store: Store,
    actor: Actor,
    action: str,
    *,
    campaign_id: int | None = None,
    request: Any = None,
) -> AsyncIterator[Recording]:
    """Pending row before the block, completion row after it (see the module docstring)."""
    audit = store.audit
    # Committed, and to the file the store opened; else store.StorageError and the block
    # never runs: without this row nothing is sent (deleted, replaced, read-only, full, locked).
    pending_id = await store.run(
        store.write_ahead,
        lambda: audit.begin(
            action=action,
            campaign_id=campaign_id,
            request=_with_via(actor, request),
            **_who(actor),
        ),
    )
    rec = Recording(pending_id)
    started = time.monotonic()
    try:
        yield rec
    except DialerError as exc:
        await _complete(store, rec, outcome_of(exc), str(exc), started)
        raise
    await _complete(store, rec, rec._answered, rec.detail, started)


async def _complete(
    store: Store, rec: Recording, outcome: str, detail: str | None, started: float
) -> None:
    duration_ms = int((time.monotonic() - started) * 1000)
    audit = store.audit
    await store.run(
        lambda: audit.complete(
            rec.pending_id,
            outcome=outcome,
            detail=detail,
            duration_ms=duration_ms,
            campaign_id=rec.campaign_id,
        )
    )
    rec.outcome, rec.detail = outcome, detail


async def record(
    store: Store,
    actor: Actor,
    action: str,
    outcome: str,
    *,
    campaign_id: int | None = None,
    request: Any = None,
    detail: str | None = None,
) -> int:
    """One-shot row for a step with no dialer call in it (a refusal, a grant, an approval)."""
    audit = store.audit
    return await store.run(
        lambda: audit.record(
            action=action,
            outcome=outcome,
            campaign_id=campaign_id,
            request=_with_via(actor, request),
            detail=detail,
            **_who(actor),
        )
    )


async def record_anchor(store: Store, channel: str, head: Anchor, message_ts: Any) -> int:
    """The bot's own row for an audit head it posted to Slack (bot/anchor.py): no person
    asked, so no user; the channel and message say where the anchor can be found."""
    audit = store.audit
    return await store.run(
        lambda: audit.record(
            action=ANCHOR_ACTION,
            outcome="ok",
            user_id=None,
            channel_id=channel,
            request={"entry": head.entry, "hash": head.hash, "message_ts": message_ts},
            detail="audit head posted to Slack",
        )
    )


async def close_interrupted(store: Store) -> list[AuditEntry]:
    """At start-up: every pending row left without a completion (the process stopped while
    the dialer was asked) is completed ``unknown``; returns those requests for reporting."""
    return await store.run(store.audit.mark_unknown_pending)


async def record_resolution(
    store: Store,
    actor: Actor,
    command_id: int,
    command: str,
    outcome: str,
    *,
    campaign_id: int,
    detail: str,
) -> int:
    """How a command whose outcome was unknown was settled by re-reading the campaign: a row
    of its own (``resolve``) naming the command's row, which stays as first answered."""
    return await record(
        store,
        actor,
        "resolve",
        outcome,
        campaign_id=campaign_id,
        request={"resolves": command_id, "command": command},
        detail=detail,
    )
