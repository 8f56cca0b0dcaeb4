"""The control flow, one place for slash commands and buttons alike.

claim (exactly once) → audit pending → dialer → audit completed → settle an unknown
outcome by re-reading the campaign → tell the watcher what Slack now shows. Rendering and
notifications belong to the handlers; this module only decides and records.

Three outcomes: ``ok`` (the dialer accepted it, and no state it reports says otherwise),
``failed`` (the dialer refused it: a 4xx, in its own words) and ``unknown`` (a gateway
5xx, an answer lost after sending, a 2xx that is not the dialer's, or a state that
contradicts the command). An unknown outcome is re-read for up to RESOLVE_S seconds:
the state that shows the command took effect (bot/dialer/api.py EFFECT_STATES) makes it
``ok``; otherwise it stays ``unknown`` with what the dialer now says. The resolution is
its own audit row; the first answer's row is never changed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, replace
from typing import Any, NoReturn

from bot.audit import Actor, outcome_of, record, record_resolution, recorded
from bot.calling_hours import CallingHours, Report
from bot.dialer import Campaign, DialerClient, DialerError
from bot.dialer.api import EFFECT_STATES, GATEWAY_STATUSES, canonical_state, took_effect
from store import StorageError, Store
from store.claims import ClaimResult

log = logging.getLogger(__name__)

CONFIRM_TTL_S = 30 * 60
# How long an unknown outcome is re-read before it is left unknown (DIALER_RESOLVE_SECONDS),
# and the first pause between re-reads (doubling, at most RESOLVE_MAX_PAUSE_S).
RESOLVE_S = 30.0
RESOLVE_FIRST_PAUSE_S = 0.5
RESOLVE_MAX_PAUSE_S = 8.0


@dataclass(frozen=True)
class Prepared:
    """A confirmation waiting for its single-use Confirm."""

    token: str
    command: str
    campaign: Campaign
    hours: Report = Report()  # calling hours at the called people's local time
    override: str | None = None  # an admin's reason to call people outside enforced hours


@dataclass(frozen=True)
class Outcome:
    command: str
    campaign_id: int
    campaign_name: str | None
    previous_state: str | None
    new_state: str | None
    # ok | failed | unknown (sent, answer lost) | already (claimed before)
    # | cancelled | expired | missing
    result: str
    detail: str | None = None
    error: DialerError | None = None
    audit_id: int | None = None
    claimed_by: str | None = None
    claimed_at: str | None = None
    reason: str | None = None  # why, as the person gave it (`pause 12 because …`)
    requested_by: str | None = None  # a second person's approval: who asked
    # When the first answer did not settle it: that answer in plain words ("the dialer's
    # gateway timed out (HTTP 504)"), and what the re-read found: confirmed (the state
    # shows the command took effect), contradicted (it shows it did not), unread (the
    # campaign could not be read: ``detail`` says why) or unsettled (no state can tell).
    answer: str | None = None
    settled: str | None = None
    gone: bool = False  # the re-read found the campaign no longer exists

    @classmethod
    def from_claim(cls, claim: ClaimResult, result: str | None = None) -> Outcome:
        """A confirmation that ran nothing; ``result`` defaults to why it was not usable."""
        payload = claim.payload or {}
        return cls(
            command=claim.action or "?",
            campaign_id=claim.campaign_id or 0,
            campaign_name=payload.get("name"),
            previous_state=payload.get("state"),
            new_state=None,
            result=result or ("already" if claim.state == "used" else claim.state),
            claimed_by=claim.by_user,
            claimed_at=claim.at,
        )


class Unrecorded(StorageError):
    """The command went out, but the bot's storage failed afterwards (recording the
    dialer's answer, a re-read's resolution or the state learnt). ``outcome`` is what the
    bot saw before that: the dialer's answer, so nobody is told "nothing was sent"."""

    def __init__(self, failure: StorageError, outcome: Outcome) -> None:
        super().__init__(str(failure), busy=failure.busy)
        self.outcome = outcome


# The state a command leads to: asking for it again is "already", not an error.
LEADS_TO = {"start": "running", "unpause": "running", "pause": "paused"}


class CommandNotAllowed(Exception):
    """The campaign's state does not allow the command: said before anything is sent."""

    def __init__(self, campaign: Campaign, command: str) -> None:
        self.campaign = campaign
        self.command = command
        allowed = ", ".join(campaign.allowed_commands) or "nothing"
        state = canonical_state(campaign.state)
        if state is not None and LEADS_TO.get(command) == state:
            why = f"is already {campaign.state}"
        else:
            why = f"is {campaign.state}: {command} is not possible now"
        super().__init__(f"campaign {campaign.name} (#{campaign.id}) {why} (possible: {allowed})")


class OutsideCallingHours(Exception):
    """CALLING_HOURS_ENFORCE: the command (a start or an unpause) would call people outside
    the permitted hours at their local time; refused before anything is sent. An admin may
    run it with a reason."""

    def __init__(self, campaign: Campaign, report: Report, *, admin: bool, command: str) -> None:
        self.campaign = campaign
        self.report = report
        self.admin = admin
        self.command = command
        super().__init__(
            f"campaign {campaign.name} (#{campaign.id}) would call "
            f"{report.numbers_outside:,} numbers outside the permitted calling hours "
            f"({report.permitted} local time)"
        )


# Commands that make the dialer call people: the calling-hours check applies to them,
# wherever they come from (slash command, button, schedule, workflow step).
CALLS_PEOPLE = frozenset({"start", "unpause"})


# What a confirmation's payload carries of an admin's calling-hours override (prepare):
# the reason, the count of numbers outside the hours and their zones.
OVERRIDE_KEYS = ("override", "outside", "zones")


def override_of(payload: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The override part of a confirmation's payload, for a request that runs later (an
    approval) to keep; None when there was no override."""
    kept = {k: v for k, v in (payload or {}).items() if k in OVERRIDE_KEYS}
    return kept if kept.get("override") else None


def override_context(
    payload: Mapping[str, Any] | None,
) -> tuple[dict[str, object] | None, str | None]:
    """(audit context, reason) of an override for execute(), the same wherever the command
    runs: the Confirm click, or a second person's approval of it."""
    override = (payload or {}).get("override")
    if not override:
        return None, None
    assert payload is not None
    context: dict[str, object] = {
        "calling_hours_override": True,
        "numbers_outside": payload.get("outside"),
        "zones": payload.get("zones"),
    }
    return context, str(override)


def refuses(campaign: Campaign, command: str) -> bool:
    """The bot says "nothing sent" only for a state it knows; an unknown one goes to the dialer.

    The same rule for every command, both directions (start on a running campaign,
    pause on a paused one), so no known-pointless command reaches the dialer.
    """
    return canonical_state(campaign.state) is not None and command not in campaign.allowed_commands


def first_answer(exc: DialerError | None, state: str | None = None) -> str:
    """The answer that left the outcome open, in plain words."""
    if exc is None:
        return f"the dialer accepted it but reported the campaign {state}"
    if exc.status in GATEWAY_STATUSES:
        what = {502: "failed", 503: "was unavailable", 504: "timed out"}[exc.status]
        return f"the dialer's gateway {what} (HTTP {exc.status})"
    if exc.kind == "foreign":
        return f"something other than the dialer answered: {exc.message.split(' came back')[0]}"
    if exc.kind == "timeout":
        return "the dialer's answer did not arrive in time"
    return "the connection broke before the dialer's answer arrived"


class Controller:
    def __init__(
        self,
        dialer: DialerClient,
        store: Store,
        calling_hours: CallingHours | None = None,
        *,
        resolve_s: float = RESOLVE_S,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """``resolve_s``: how long an unknown outcome is re-read (tests make it short)."""
        self._dialer = dialer
        self._store = store
        self.calling_hours = calling_hours
        self._resolve_s = resolve_s
        self._sleep = sleep

    async def hours_report(self, campaign: Campaign, command: str = "start") -> Report:
        """The calling-hours report for a command that makes the dialer call people."""
        if self.calling_hours is None or command not in CALLS_PEOPLE:
            return Report()
        return await self.calling_hours.check(campaign)

    async def prepare(
        self,
        actor: Actor,
        campaign_id: int,
        command: str,
        *,
        override: str | None = None,
        admin: bool = False,
    ) -> Prepared:
        """Read the campaign and issue the single-use token its Confirm button carries.

        A command in CALLS_PEOPLE outside the enforced calling hours is refused
        (OutsideCallingHours), unless an admin gives ``override``, a reason, which the
        confirmation carries and the audit row keeps."""
        campaign = await self._dialer.get_campaign(campaign_id)
        if refuses(campaign, command):
            raise CommandNotAllowed(campaign, command)
        hours = await self.hours_report(campaign, command)
        if hours.refuses and not (admin and override):
            await self._refuse_outside(actor, campaign, command, hours, admin=admin)
        override = override if hours.refuses else None
        payload: dict[str, object] = {"name": campaign.name, "state": campaign.state}
        if override:
            payload["override"] = override
            payload["outside"] = hours.numbers_outside
            payload["zones"] = [v.zone for v in hours.violations]
        token = await self._store.run(
            self._store.claims.issue,
            action=command,
            campaign_id=campaign.id,
            user_id=actor.user_id,
            channel_id=actor.channel_id,
            payload=payload,
            ttl_s=CONFIRM_TTL_S,
        )
        return Prepared(token, command, campaign, hours, override)

    async def check_hours_again(
        self,
        actor: Actor,
        campaign_id: int,
        command: str,
        *,
        request: dict[str, object] | None = None,
    ) -> None:
        """For a confirmed command that runs later (a second person's approval): the
        campaign is read and the calling hours checked again, as a schedule is when due,
        since its lists or period may have changed. Raises OutsideCallingHours (audited
        as denied, with ``request``) when they now refuse it; a campaign that cannot be
        read is left to the dialer, as for a schedule."""
        if self.calling_hours is None or command not in CALLS_PEOPLE:
            return
        try:
            campaign = await self._dialer.get_campaign(campaign_id)
        except DialerError:
            return
        hours = await self.hours_report(campaign, command)
        if hours.refuses:
            await self._refuse_outside(
                actor, campaign, command, hours, admin=False, request=request
            )

    async def _refuse_outside(
        self,
        actor: Actor,
        campaign: Campaign,
        command: str,
        hours: Report,
        *,
        admin: bool,
        request: dict[str, object] | None = None,
    ) -> NoReturn:
        """Audit the refusal as denied, then raise it: nothing is sent."""
        refused = OutsideCallingHours(campaign, hours, admin=admin, command=command)
        await record(
            self._store,
            actor,
            command,
            "denied",
            campaign_id=campaign.id,
            request=request,
            detail=str(refused),
        )
        raise refused

    async def confirm(self, actor: Actor, token: str) -> Outcome:
        """Claim the token atomically; only the one winner calls the dialer."""
        claim = await self._store.run(self._store.claims.claim, token, user_id=actor.user_id)
        if not claim.ok:
            return Outcome.from_claim(claim)
        payload = claim.payload or {}
        context, reason = override_context(payload)
        return await self.execute(
            actor,
            int(claim.campaign_id),
            str(claim.action),
            campaign_name=payload.get("name"),
            previous_state=payload.get("state"),
            context=context,
            reason=reason,
        )

    async def cancel(self, actor: Actor, token: str) -> Outcome:
        claim = await self._store.run(
            self._store.claims.claim, token, user_id=actor.user_id, final_state="cancelled"
        )
        return Outcome.from_claim(claim, "cancelled" if claim.ok else None)

    async def run_now(
        self, actor: Actor, campaign_id: int, command: str, *, reason: str | None = None
    ) -> Outcome:
        """For the safe direction (pause): no confirmation, but read the state for the record.

        A state that rules the command out is said before anything is sent, as for
        confirmations; a dialer that cannot be read still gets the pause. A command in
        CALLS_PEOPLE run this way (a workflow step) outside the enforced calling hours is
        refused (OutsideCallingHours): there is no confirmation to carry an override.
        """
        try:
            campaign = await self._dialer.get_campaign(campaign_id)
        except DialerError as exc:
            if exc.status == 404:
                raise
            name, state = None, None
        else:
            if refuses(campaign, command):
                raise CommandNotAllowed(campaign, command)
            hours = await self.hours_report(campaign, command)
            if hours.refuses:
                await self._refuse_outside(actor, campaign, command, hours, admin=False)
            name, state = campaign.name, campaign.state
        return await self.execute(
            actor, campaign_id, command, campaign_name=name, previous_state=state, reason=reason
        )

    async def execute(
        self,
        actor: Actor,
        campaign_id: int,
        command: str,
        *,
        campaign_name: str | None = None,
        previous_state: str | None = None,
        context: dict[str, object] | None = None,
        reason: str | None = None,
        requested_by: str | None = None,
    ) -> Outcome:
        """Write-ahead audit around the one dialer call; never retried.

        ``context`` joins the audited request, e.g. who requested and who approved;
        ``reason`` too, and it is also shown in the notification. The storage failing
        raises StorageError (held back: nothing was sent) before the dialer is called,
        Unrecorded (with the dialer's answer) after.
        """
        asked = Outcome(
            command,
            campaign_id,
            campaign_name,
            previous_state,
            None,
            "pending",
            reason=reason,
            requested_by=requested_by,
        )
        context = {**(context or {}), **({"reason": reason} if reason else {})}
        sent: Outcome | None = None  # what the dialer answered, once the command went out
        first: str = ""  # that answer in plain words, when it left the outcome open
        try:
            # A DialerError is the dialer's answer: recorded, kept in ``sent``, settled below.
            with suppress(DialerError):
                async with recorded(
                    self._store,
                    actor,
                    command,
                    campaign_id=campaign_id,
                    request={"command": command, **context},
                ) as rec:
                    try:
                        result = await self._dialer.control(campaign_id, command)
                    except DialerError as exc:
                        sent = replace(
                            asked,
                            result=outcome_of(exc),
                            detail=exc.message,
                            error=exc,
                            audit_id=rec.pending_id,
                        )
                        first = first_answer(exc)
                        raise
                    sent = replace(
                        asked,
                        new_state=result.state,
                        result="ok",
                        detail=result.message,
                        audit_id=rec.pending_id,
                    )
                    if result.state is not None and took_effect(command, result.state) is False:
                        # a 2xx alone never makes "started" while the dialer says stopped
                        sent = replace(sent, result="unknown")
                        first = first_answer(None, result.state)
                        rec.unknown(
                            f"{result.message or 'accepted'}; but the campaign is {result.state}"
                        )
                    else:
                        rec.ok(result.message)
            assert sent is not None  # the block ran: the dialer answered, or its answer was lost
            outcome = sent
            if outcome.result == "unknown":
                outcome = sent = await self._resolve(actor, outcome, first)
            await self._learn(outcome)
            return outcome
        except StorageError as exc:
            if sent is None:  # the pending row was not written (held back): nothing was sent
                raise
            raise Unrecorded(exc, sent) from exc

    async def _resolve(self, actor: Actor, outcome: Outcome, answer: str) -> Outcome:
        """Re-read the campaign until its state shows the command took effect, for at most
        ``resolve_s`` seconds; the command itself is never sent again. Records the
        resolution as its own audit row, linked to the command's."""
        command, cid = outcome.command, outcome.campaign_id
        deadline = time.monotonic() + self._resolve_s
        pause = RESOLVE_FIRST_PAUSE_S
        state: str | None = None
        gone = False
        unread: str | None = None
        while True:
            try:
                state, gone, unread = (await self._dialer.get_campaign(cid)).state, False, None
            except DialerError as exc:
                if exc.status == 404:
                    state, gone, unread = None, True, None
                else:
                    unread = exc.message
            effect = None if unread else took_effect(command, state, gone=gone)
            done = effect is True or (gone and command != "remove")
            if done or EFFECT_STATES.get(command) is None and not unread:
                break
            if time.monotonic() + pause > deadline:
                break
            await self._sleep(pause)
            pause = min(pause * 2, RESOLVE_MAX_PAUSE_S)
        if unread:
            settled, detail = "unread", unread
        elif effect is True:
            settled, detail = "confirmed", None
        elif effect is False:
            settled, detail = "contradicted", None
        else:
            settled, detail = "unsettled", None
        result = "ok" if settled == "confirmed" else "unknown"
        now = f"{answer}; the campaign is now {'gone' if gone else state}"
        words = {
            "confirmed": f"{now}, so the {command} went through",
            "contradicted": f"{now}, so the {command} did not take effect",
            "unread": f"{answer}; the campaign could not be read again ({unread})",
            "unsettled": f"{now}; whether the {command} took effect does not show",
        }[settled]
        log.info("campaign %s: %s resolved %s: %s", cid, command, result, words)
        if outcome.audit_id is not None:
            await record_resolution(
                self._store,
                actor,
                outcome.audit_id,
                command,
                result,
                campaign_id=cid,
                detail=words,
            )
        return replace(
            outcome,
            result=result,
            new_state=None if gone else state,
            answer=answer,
            settled=settled,
            gone=gone,
            detail=detail if detail is not None else outcome.detail,
        )

    async def _learn(self, outcome: Outcome) -> None:
        """What Slack now shows about the campaign becomes the watcher's last known state,
        so the next poll announces any difference from it, whoever caused it."""
        if outcome.gone or (outcome.result == "ok" and outcome.command == "remove"):
            state: str | None = None
        elif outcome.new_state is not None:
            state = outcome.new_state
        else:
            return
        await self._store.run(self._store.snapshot.learn, outcome.campaign_id, state)
