"""The emergency stop: pause many campaigns at once, each through the one control flow.

Reading decides what is running by bot/dialer/api.py (RUNNING_STATES, canonical_state):
a state the bot does not know is set apart, so the person confirming decides about it.
Pausing is the safe direction: never subject to the two-person rule. Each pause is its
own write-ahead audit entry (bot/control.py), all sharing one ``batch_id`` in their
request JSON; the caller renders one summary, never one message per campaign. The bot's
storage failing for one pause does not stop the others: the summary says which were not
sent (their audit row could not be written) and which went out unrecorded.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

from bot.audit import Actor
from bot.control import Controller, Outcome, Unrecorded
from bot.dialer import Campaign, DialerClient, DialerError
from bot.dialer.api import RUNNING_STATES, canonical_state
from store import StorageError

# Pauses in flight at once: enough that 100 campaigns take well under the 5 s goal, few
# enough to leave the client's write connections (a fifth of its pool) for other commands.
CONCURRENCY = 16


@dataclass(frozen=True)
class Target:
    """A campaign to pause, with what was read about it."""

    id: int
    name: str | None
    state: str | None


@dataclass(frozen=True)
class Survey:
    """The campaigns as read just now, sorted into what a pause-all would touch."""

    running: list[Target]
    unknown: list[Target]  # a state the bot does not know: paused only if confirmed
    other: int  # campaigns in a known, not-running state


@dataclass(frozen=True)
class StorageFailed:
    """A pause the bot's storage failed for, with its reason in words for a person.
    ``busy``: another process held the database (it may pass); ``sent``: what the dialer
    answered when the pause went out before a later write failed, None when not known."""

    target: Target
    reason: str
    busy: bool = False
    sent: Outcome | None = None


@dataclass
class Summary:
    """One batch's result: the one message the operator and the channels get."""

    batch_id: str
    paused: list[Outcome] = field(default_factory=list)
    # already paused, or not running: nothing to do (the dialer's 409, or read before)
    skipped: list[Target] = field(default_factory=list)
    failed: list[Outcome] = field(default_factory=list)  # failed or unknown, with the message
    missing: list[int] = field(default_factory=list)  # no such campaign
    # the bot's storage failed: its audit row was not written, so nothing was sent for it
    not_sent: list[StorageFailed] = field(default_factory=list)
    # the bot's storage failed after the pause went out: the audit log lacks the answer
    unrecorded: list[StorageFailed] = field(default_factory=list)

    @property
    def total(self) -> int:
        return (
            len(self.paused)
            + len(self.skipped)
            + len(self.failed)
            + len(self.missing)
            + len(self.not_sent)
            + len(self.unrecorded)
        )

    @property
    def went_out(self) -> bool:
        """Some pause may have changed a campaign: the channels are told."""
        return bool(
            self.paused or self.unrecorded or any(o.result == "unknown" for o in self.failed)
        )


def _target(c: Campaign) -> Target:
    return Target(c.id, c.name, c.state)


def is_running(state: str | None) -> bool | None:
    """True / False for states the bot knows, None for a state it does not."""
    canonical = canonical_state(state)
    if canonical is None:
        return None
    return canonical in RUNNING_STATES


async def survey(dialer: DialerClient) -> Survey:
    """Read every campaign now (raises DialerError when the list cannot be read)."""
    campaigns = await dialer.list_campaigns()
    running, unknown, other = [], [], 0
    for c in sorted(campaigns, key=lambda c: c.id):
        verdict = is_running(c.state)
        if verdict is None:
            unknown.append(_target(c))
        elif verdict:
            running.append(_target(c))
        else:
            other += 1
    return Survey(running, unknown, other)


class PauseAll:
    """Pause a set of campaigns in parallel with bounded concurrency; one Summary back."""

    def __init__(
        self, dialer: DialerClient, controller: Controller, concurrency: int = CONCURRENCY
    ) -> None:
        self._dialer = dialer
        self._controller = controller
        self._concurrency = concurrency

    async def pause_targets(
        self, actor: Actor, targets: list[Target], *, reason: str | None = None
    ) -> Summary:
        """Pause campaigns already read (from a confirmed survey); ``reason`` is audited."""
        summary = Summary(batch_id=uuid.uuid4().hex[:12])
        gate = asyncio.Semaphore(self._concurrency)

        async def one(t: Target) -> None:
            async with gate:
                await self._pause(actor, t, summary, reason)

        await asyncio.gather(*(one(t) for t in targets))
        _sort(summary)
        return summary

    async def pause_ids(self, actor: Actor, ids: list[int]) -> Summary:
        """`pause 3 5 9`: read each campaign, pause those that may be running."""
        summary = Summary(batch_id=uuid.uuid4().hex[:12])
        gate = asyncio.Semaphore(self._concurrency)

        async def one(cid: int) -> None:
            async with gate:
                try:
                    campaign = await self._dialer.get_campaign(cid)
                except DialerError as exc:
                    if exc.status == 404:
                        summary.missing.append(cid)
                        return
                    target = Target(cid, None, None)  # not readable: let the dialer decide
                else:
                    target = _target(campaign)
                    if is_running(campaign.state) is False:
                        summary.skipped.append(target)
                        return
                await self._pause(actor, target, summary)

        await asyncio.gather(*(one(cid) for cid in dict.fromkeys(ids)))
        _sort(summary)
        return summary

    async def _pause(
        self, actor: Actor, t: Target, summary: Summary, reason: str | None = None
    ) -> None:
        try:
            outcome = await self._controller.execute(
                actor,
                t.id,
                "pause",
                campaign_name=t.name,
                previous_state=t.state,
                context={"batch_id": summary.batch_id},
                reason=reason,
            )
        except StorageError as exc:  # this pause only: the others go on
            sent = exc.outcome if isinstance(exc, Unrecorded) else None
            failure = StorageFailed(t, str(exc), exc.busy, sent)
            (summary.not_sent if exc.held_back else summary.unrecorded).append(failure)
            return
        if outcome.result == "ok":
            summary.paused.append(outcome)
        elif outcome.error is not None and outcome.error.status == 409:
            summary.skipped.append(t)  # paused (or stopped) since it was read
        elif outcome.error is not None and outcome.error.status == 404:
            summary.missing.append(t.id)
        else:
            summary.failed.append(outcome)


def _sort(summary: Summary) -> None:
    summary.paused.sort(key=lambda o: o.campaign_id)
    summary.failed.sort(key=lambda o: o.campaign_id)
    summary.skipped.sort(key=lambda t: t.id)
    summary.missing.sort()
    summary.not_sent.sort(key=lambda f: f.target.id)
    summary.unrecorded.sort(key=lambda f: f.target.id)
