"""Scheduled commands: stored in SQLite, claimed exactly once, run through bot/control.py.

The runner wakes at the next due time (or when a schedule is added), claims every due
schedule with one conditional UPDATE (store/schedules.py), and for each one re-checks
the requester's role, reads the campaign, and runs the command as that person through
Controller.execute, so the audit row names who scheduled it, who approved it, and that it
ran by schedule. Schedules missed by more than SCHEDULE_GRACE are marked missed, never
run late. What happened goes to a callback (handlers/schedules/listeners.py announce() renders it):
no Block Kit here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.access import REQUIRED_ROLE, Access, rank
from bot.audit import Actor, record
from bot.calling_hours import Report
from bot.control import Controller, Outcome
from bot.dialer import DialerClient, DialerError
from store import Store
from store.schedules import Schedule

__all__ = ["Ran", "Schedule", "Scheduler"]  # Schedule: for views, which import no store

log = logging.getLogger(__name__)

MAX_SLEEP_S = 30.0  # another process may add schedules this one is not told about
# A schedule still `running` this long after its claim belongs to a process that stopped
# mid-command (a live one finishes within the dialer timeout, 30 s by default).
INTERRUPTED_AFTER_S = 300.0


@dataclass(frozen=True)
class Ran:
    """What became of one due schedule.

    ``result``: ran (``outcome`` says how the dialer answered), missed, revoked (the
    requester no longer holds the role), removed (the campaign is gone), interrupted
    (a bot stopped while running it: it may or may not have been sent, and is not rerun),
    outside_hours (CALLING_HOURS_ENFORCE: a start or unpause that would call people outside
    the permitted hours at their local time; nothing sent).
    """

    schedule: Schedule
    result: str
    outcome: Outcome | None = None
    detail: str | None = None
    hours: Report = Report()  # calling hours at the called people's local time, when due


Announce = Callable[[Ran], Awaitable[None]]


def actor_of(s: Schedule) -> Actor:
    return Actor(s.created_by, s.channel_id, s.team_id, s.created_by_name)


class Scheduler:
    def __init__(
        self,
        store: Store,
        dialer: DialerClient,
        controller: Controller,
        access: Access,
        grace_s: float,
        *,
        announce: Announce,
    ) -> None:
        """``announce`` tells Slack what a due schedule did (handlers, via bot.app)."""
        self._store = store
        self._dialer = dialer
        self._controller = controller
        self._access = access
        self.grace_s = grace_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._announce = announce
        self._running: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ requests

    async def add(
        self,
        actor: Actor,
        *,
        command: str,
        campaign_id: int,
        campaign_name: str | None,
        due_at: datetime,
        tz: str,
        awaiting_approval: bool,
    ) -> Schedule:
        """Store and audit (`schedule <cmd>`); the runner is told at once."""
        store = self._store
        sched = await store.run(
            lambda: store.schedules.add(
                command=command,
                campaign_id=campaign_id,
                campaign_name=campaign_name,
                due_at=due_at,
                tz=tz,
                created_by=actor.user_id,
                created_by_name=actor.user_name,
                team_id=actor.team_id,
                channel_id=actor.channel_id,
                awaiting_approval=awaiting_approval,
            )
        )
        await record(
            store,
            actor,
            f"schedule {command}",
            "ok",
            campaign_id=campaign_id,
            request={"schedule_id": sched.id, "command": command, "due_at": sched.due_at, "tz": tz},
            detail=f"schedule #{sched.id} due {sched.due_at}"
            + (", waits for approval" if awaiting_approval else ""),
        )
        self._wake.set()
        return sched

    async def approve(self, actor: Actor, sched: Schedule) -> bool:
        """A second person approves an awaiting schedule (the caller checked the role)."""
        ok = await self._store.run(self._store.schedules.approve, sched.id, user_id=actor.user_id)
        if ok:
            await record(
                self._store,
                actor,
                f"approve {sched.command}",
                "ok",
                campaign_id=sched.campaign_id,
                request={"schedule_id": sched.id, "requested_by": sched.created_by},
                detail=f"schedule #{sched.id} approved, due {sched.due_at}",
            )
            self._wake.set()
        return ok

    async def cancel(self, actor: Actor, sched: Schedule, *, is_admin: bool) -> bool:
        """Own schedules, or any for an admin; audited as `cancel schedule`."""
        ok = await self._store.run(
            self._store.schedules.cancel, sched.id, user_id=actor.user_id, any_owner=is_admin
        )
        if ok:
            await record(
                self._store,
                actor,
                "cancel schedule",
                "ok",
                campaign_id=sched.campaign_id,
                request={"schedule_id": sched.id, "command": sched.command},
                detail=f"schedule #{sched.id} ({sched.command}, due {sched.due_at}) cancelled",
            )
        return ok

    # ------------------------------------------------------------------ the runner

    def start(self) -> None:
        """Run due schedules from now on (at start-up, those missed while the bot was down)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="schedules")

    def wake(self) -> None:
        self._wake.set()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._running:  # a command already sent: let its audit row be completed
            await asyncio.wait(self._running, timeout=10.0)

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.run_due()
                delay = await self._sleep_for()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the schedule runner failed a round; retrying")
                delay = 5.0
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()

    async def _sleep_for(self) -> float:
        due = await self._store.run(self._store.schedules.next_due)
        if due is None:
            return MAX_SLEEP_S
        wait = (datetime.fromisoformat(due) - datetime.now(UTC)).total_seconds()
        return min(MAX_SLEEP_S, max(0.05, wait + 0.01))

    async def run_due(self) -> list[Ran]:
        """Claim what is due (exactly once across processes) and run it; returns what ran."""
        due, missed = await self._store.run(self._store.schedules.claim_due, self.grace_s)
        stuck = await self._store.run(self._store.schedules.interrupted, INTERRUPTED_AFTER_S)
        results = [Ran(s, "interrupted", detail=s.detail) for s in stuck]
        results += [Ran(s, "missed", detail=s.detail) for s in missed]
        for s in missed:
            await record(
                self._store,
                actor_of(s),
                s.command,
                "failed",
                campaign_id=s.campaign_id,
                request={"schedule_id": s.id, "by_schedule": True, "due_at": s.due_at},
                detail=f"schedule #{s.id} missed ({s.detail}, due {s.due_at}); not run",
            )
        tasks = [asyncio.ensure_future(self._run_one(s)) for s in due]
        for t in tasks:
            self._running.add(t)  # type: ignore[arg-type]
            t.add_done_callback(self._running.discard)  # type: ignore[arg-type]
        results += await asyncio.gather(*tasks)
        for ran in results:
            await self._tell(ran)
        return results

    async def _run_one(self, s: Schedule) -> Ran:
        store, actor = self._store, actor_of(s)
        needed = REQUIRED_ROLE.get(s.command, "admin")
        has = await self._access.role_of(s.created_by, s.channel_id)
        if rank(has) < rank(needed):
            detail = (
                f"schedule #{s.id} not run: <@{s.created_by}> no longer has the "
                f"{needed} role (has {has or 'no role'})"
            )
            await self._refuse(s, "revoked", detail)
            return Ran(s, "revoked", detail=detail)
        name, state, hours = s.campaign_name, None, Report()
        try:
            campaign = await self._dialer.get_campaign(s.campaign_id)
            name, state = campaign.name, campaign.state
            # Calling hours are checked again now: the lists or the period may have changed.
            hours = await self._controller.hours_report(campaign, s.command)
        except DialerError as exc:
            if exc.status == 404:
                detail = f"campaign #{s.campaign_id} no longer exists; nothing was sent"
                await store.run(store.schedules.finish, s.id, state="removed", detail=detail)
                return Ran(s, "removed", detail=detail)
            # not readable now: the dialer decides when the command arrives
        if hours.refuses:
            detail = (
                f"schedule #{s.id} not run: it would call {hours.numbers_outside:,} numbers "
                f"outside the permitted calling hours ({hours.permitted} local time)"
            )
            await self._refuse(s, "failed", detail)
            return Ran(s, "outside_hours", detail=detail, hours=hours)
        outcome = await self._controller.execute(
            actor,
            s.campaign_id,
            s.command,
            campaign_name=name,
            previous_state=state,
            context={
                "schedule_id": s.id,
                "by_schedule": True,
                "scheduled_by": s.created_by,
                "approved_by": s.approved_by,
                "due_at": s.due_at,
            },
        )
        await store.run(
            store.schedules.finish,
            s.id,
            state="done" if outcome.result == "ok" else "failed",
            detail=outcome.detail,
            audit_id=outcome.audit_id,
        )
        return Ran(s, "ran", outcome=outcome, detail=outcome.detail, hours=hours)

    async def _refuse(self, s: Schedule, state: str, detail: str) -> None:
        """A due schedule not run: audited as denied for its requester, and closed."""
        await record(
            self._store,
            actor_of(s),
            s.command,
            "denied",
            campaign_id=s.campaign_id,
            request={"schedule_id": s.id, "by_schedule": True},
            detail=detail,
        )
        await self._store.run(self._store.schedules.finish, s.id, state=state, detail=detail)

    async def _tell(self, ran: Ran) -> None:
        try:
            await self._announce(ran)
        except Exception:
            log.exception("could not announce schedule #%s", ran.schedule.id)
