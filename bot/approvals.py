"""Two-person rule: a command in APPROVAL_REQUIRED runs only after a second person approves.

The request is opened from a used confirmation token, so it exists once; every
decision is one atomic UPDATE in store/claims.py, so a second click changes
nothing. Every step is audited with who took it. Role checks and Slack messages
belong to handlers/approvals/listeners.py; this module decides and records.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.access import approval_action
from bot.audit import Actor, record
from bot.control import (
    Controller,
    Outcome,
    OutsideCallingHours,
    override_context,
    override_of,
)
from store import Store
from store.claims import Approval

log = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 60.0
SELF_APPROVAL = "the requester cannot approve their own request"
NOT_REQUESTER = "only the requester can cancel a request"

OnExpired = Callable[[list[Approval]], Awaitable[None]]


@dataclass(frozen=True)
class ApprovalResult:
    """What a request or decision came to.

    ``result`` is one of: requested, approved, rejected, cancelled, expired
    (this call found it past its time and expired it), already (decided or
    expired before; ``approval.state`` says which), self (the requester tried
    to approve), not_requester (someone else tried to cancel), missing,
    unconfirmed (the confirmation was not usable; ``outcome`` says why),
    outside_hours (approved, but the calling hours checked again refused the
    command: nothing was sent; ``outside`` says why).
    ``outcome`` of an approval is the command's result.
    """

    result: str
    approval: Approval | None
    outcome: Outcome | None = None
    reason: str | None = None  # a rejection's, as the approver gave it
    outside: OutsideCallingHours | None = None


class ApprovalService:
    def __init__(
        self, store: Store, controller: Controller, ttl_s: int, *, on_expired: OnExpired
    ) -> None:
        """``on_expired`` shows the requests the sweeper expired (handlers, via bot.app)."""
        self._store = store
        self._controller = controller
        self.ttl_s = ttl_s
        self._on_expired = on_expired
        self._sweeper: asyncio.Task[None] | None = None

    async def request(self, actor: Actor, token: str) -> ApprovalResult:
        """Use the confirmation token and open a request instead of running the command."""
        store = self._store
        claim = await store.run(store.claims.claim, token, user_id=actor.user_id)
        if not claim.ok:
            return ApprovalResult("unconfirmed", None, Outcome.from_claim(claim))
        payload = claim.payload or {}
        approval = await store.run(
            lambda: store.approvals.open(
                command=str(claim.action),
                campaign_id=int(claim.campaign_id or 0),
                requested_by=actor.user_id,
                ttl_s=self.ttl_s,
                campaign_name=payload.get("name"),
                previous_state=payload.get("state"),
                requested_by_name=actor.user_name,
                team_id=actor.team_id,
                channel_id=actor.channel_id,
                hours_override=override_of(payload),
            )
        )
        await self._audit(
            "request",
            approval,
            actor,
            "ok",
            detail=f"waits for a second person until {approval.expires_at}",
        )
        return ApprovalResult("requested", approval)

    async def set_message(self, approval: Approval, channel_id: str, ts: str) -> None:
        await self._store.run(self._store.approvals.set_message, approval.id, channel_id, ts)

    async def set_copy(self, approval: Approval, channel_id: str, ts: str) -> None:
        await self._store.run(self._store.approvals.set_copy, approval.id, channel_id, ts)

    async def get(self, approval_id: int) -> Approval | None:
        return await self._store.run(self._store.approvals.get, approval_id)

    async def approve(self, actor: Actor, approval_id: int) -> ApprovalResult:
        """The caller has checked the role; the requester is refused here, then run once.

        The decision is taken first, so a second click finds it decided. A command that
        calls people is then checked against the calling hours again (the request may
        have waited): refused, it stays approved but is not run (nothing sent, audited
        as denied) unless the request carried an admin's override, which the run's audit
        row records as a Confirm's would.
        """
        approval = await self.get(approval_id)
        if approval is None:
            return ApprovalResult("missing", None)
        if actor.user_id == approval.requested_by:
            await self._audit("approve", approval, actor, "denied", detail=SELF_APPROVAL)
            return ApprovalResult("self", approval)
        decided = await self._decide(actor, approval_id, "approved")
        if decided.result != "approved":
            return decided
        assert decided.approval is not None
        approval = decided.approval
        context: dict[str, object] = {
            "approval_id": approval.id,
            "requested_by": approval.requested_by,
            "approved_by": actor.user_id,
        }
        overridden, reason = override_context(approval.hours_override)
        if overridden is None:
            try:
                await self._controller.check_hours_again(
                    actor, approval.campaign_id, approval.command, request=context
                )
            except OutsideCallingHours as exc:
                return ApprovalResult("outside_hours", approval, outside=exc)
        outcome = await self._controller.execute(
            actor,
            approval.campaign_id,
            approval.command,
            campaign_name=approval.campaign_name,
            previous_state=approval.previous_state,
            context={**context, **(overridden or {})},
            reason=reason,
            requested_by=approval.requested_by,
        )
        return ApprovalResult("approved", approval, outcome)

    async def refusal(self, actor: Actor, approval: Approval, verb: str) -> str | None:
        """Who may not take this step, said (and audited) before any dialog opens:
        ``self`` for a requester's approve, ``not_requester`` for someone else's cancel."""
        if verb == "approve" and actor.user_id == approval.requested_by:
            await self._audit("approve", approval, actor, "denied", detail=SELF_APPROVAL)
            return "self"
        if verb == "cancel" and actor.user_id != approval.requested_by:
            await self._audit("cancel", approval, actor, "denied", detail=NOT_REQUESTER)
            return "not_requester"
        return None

    async def reject(
        self, actor: Actor, approval_id: int, reason: str | None = None
    ) -> ApprovalResult:
        """The caller has checked the role. A requester's reject is a cancel.

        ``reason`` goes into the audit row (request and detail) and the channel message.
        """
        approval = await self.get(approval_id)
        if approval is None:
            return ApprovalResult("missing", None)
        if actor.user_id == approval.requested_by:
            return await self.cancel(actor, approval_id)
        return await self._decide(actor, approval_id, "rejected", reason=reason)

    async def cancel(self, actor: Actor, approval_id: int) -> ApprovalResult:
        approval = await self.get(approval_id)
        if approval is None:
            return ApprovalResult("missing", None)
        if actor.user_id != approval.requested_by:
            await self._audit("cancel", approval, actor, "denied", detail=NOT_REQUESTER)
            return ApprovalResult("not_requester", approval)
        return await self._decide(actor, approval_id, "cancelled")

    async def _decide(
        self, actor: Actor, approval_id: int, state: str, reason: str | None = None
    ) -> ApprovalResult:
        store = self._store
        decision = await store.run(
            lambda: store.approvals.decide(approval_id, user_id=actor.user_id, state=state)
        )
        approval = decision.approval
        if approval is None:
            return ApprovalResult("missing", None)
        if decision.expired_now:
            await self._audit_expired(approval)
            return ApprovalResult("expired", approval)
        if not decision.ok:
            return ApprovalResult("already", approval)
        verb = {"approved": "approve", "rejected": "reject", "cancelled": "cancel"}[state]
        await self._audit(
            verb,
            approval,
            actor,
            "ok",
            detail=f"reason: {reason}" if reason else None,
            reason=reason,
        )
        return ApprovalResult(state, approval, reason=reason)

    async def expire_due(self) -> list[Approval]:
        """Expire every request past its time; each is audited once."""
        expired = await self._store.run(self._store.approvals.expire_due)
        for approval in expired:
            await self._audit_expired(approval)
        return expired

    async def _audit_expired(self, approval: Approval) -> None:
        # Nobody acted: the row names the requester whose request lapsed.
        requester = Actor(
            user_id=approval.requested_by,
            channel_id=approval.channel_id,
            team_id=approval.team_id,
            user_name=approval.requested_by_name,
        )
        minutes = self.ttl_s // 60
        await self._audit(
            "expire", approval, requester, "ok", detail=f"no decision within {minutes} min"
        )

    async def _audit(
        self,
        verb: str,
        approval: Approval,
        actor: Actor,
        outcome: str,
        detail: str | None = None,
        reason: str | None = None,
    ) -> None:
        request: dict[str, object] = {
            "approval_id": approval.id,
            "command": approval.command,
            "requested_by": approval.requested_by,
        }
        if reason:
            request["reason"] = reason
        await record(
            self._store,
            actor,
            approval_action(verb, approval.command),
            outcome,
            campaign_id=approval.campaign_id,
            request=request,
            detail=detail,
        )

    # --- the sweeper ------------------------------------------------------

    def start_sweeper(self, interval_s: float = SWEEP_INTERVAL_S) -> None:
        """Expire stale requests every ``interval_s`` even when nobody clicks."""
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.get_running_loop().create_task(
                self._sweep_forever(interval_s), name="approval sweeper"
            )

    async def sweep(self) -> None:
        expired = await self.expire_due()
        if expired:
            await self._on_expired(expired)

    async def _sweep_forever(self, interval_s: float) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("expiring stale approval requests failed; trying again later")
            await asyncio.sleep(interval_s)  # a period, not a wait for something awaitable

    async def aclose(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
