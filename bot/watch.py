"""The campaign watcher: see what the dialer does, not only what the bot did.

Every DIALER_WATCH_INTERVAL seconds (jittered) the process holding the lease (store/watch.py)
GETs the campaign list through the one dialer client, with If-None-Match when the dialer
sent an ETag, diffs it against the snapshot in SQLite, and commits the new snapshot with
the events' notifications in one transaction that only succeeds while it still holds the
lease and the snapshot is the version it diffed (store/watch.py). So: the first poll
of a fresh database is a silent baseline, a restart announces nothing twice, a change
made while the bot was down is announced once, and two processes announce once.

The snapshot is what Slack last showed: a control command's outcome that carries a state
writes it there (Controller._learn, Snapshot.learn), so a state change is any difference
between the dialer and what Slack last showed, whoever caused it: a supervisor resuming in
the portal right after the bot's pause is announced. A campaign created or edited by the bot
(an ``ok`` audit row since the previous poll) is not announced again; a campaign with a
command still in flight is left for the next poll to decide. After 3 failed polls in a
row one "unreachable" message goes out, and one "reachable again" when it answers.
Rendering belongs to handlers (``views``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bot import metrics
from bot.dialer import Campaign, DialerClient, DialerError
from bot.notify import Notice, Notifier
from store import Delivery, LostLease, Store, WatchState

log = logging.getLogger(__name__)

# Compared between polls, besides the state; the names are what a notification says.
WATCHED_FIELDS = {
    "name": "name",
    "period": "active period",
    "call_lists": "call lists",
}
# What the bot's own ok audit row explains: the kind of event it causes. A state change is
# never explained by an audit row: the snapshot already holds the state the bot's command
# showed, so a state that differs from it was not the bot's doing (or not shown in Slack).
OWN_KINDS = {"create_campaign": "appeared", "update_campaign": "changed"}
# A pending row older than this is not "in flight" but left by a crash.
IN_FLIGHT_S = 120.0


def record(c: Campaign) -> dict[str, Any]:
    """What the snapshot keeps of a campaign: what the watcher compares and announces."""
    return {
        "id": c.id,
        "name": c.name,
        "state": c.state,
        "period": [c.start_time, c.end_time, list(c.week_days)],
        "call_lists": sorted(c.call_lists),
    }


@dataclass(frozen=True)
class WatchEvent:
    """One campaign changed between two polls. ``kind``: state, appeared, disappeared or
    changed (name, active period or call lists, listed in ``changes``)."""

    kind: str
    campaign_id: int
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    changes: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return str((self.new or self.old or {}).get("name") or "")

    @property
    def state(self) -> str | None:
        return (self.new or {}).get("state")

    @property
    def old_state(self) -> str | None:
        return (self.old or {}).get("state")


def diff(old: dict[int, dict[str, Any]], new: dict[int, dict[str, Any]]) -> list[WatchEvent]:
    """The events between two snapshots, by campaign id."""
    events = []
    for cid in sorted(old.keys() | new.keys()):
        before, after = old.get(cid), new.get(cid)
        if before is None:
            events.append(WatchEvent("appeared", cid, None, after))
        elif after is None:
            events.append(WatchEvent("disappeared", cid, before, None))
        else:
            changes = tuple(
                label for key, label in WATCHED_FIELDS.items() if before.get(key) != after.get(key)
            )
            if before.get("state") != after.get("state"):
                events.append(WatchEvent("state", cid, before, after, changes))
            elif changes:
                events.append(WatchEvent("changed", cid, before, after, changes))
    return events


def explained_by_bot(event: WatchEvent, own: set[tuple[int, str]]) -> bool:
    """True when the bot's own successful create or edit accounts for the whole event."""
    actions = {a for cid, a in own if cid == event.campaign_id}
    if not actions or event.kind == "state":
        return False
    return any(OWN_KINDS.get(a) == event.kind for a in actions)


class WatchViews(Protocol):
    """How events become messages (handlers/subscriptions/views.py): no Block Kit in bot/."""

    def event(self, event: WatchEvent) -> Notice: ...

    def unreachable(self, since: str, reason: str) -> Notice: ...

    def reachable(self, since: str, minutes: int) -> Notice: ...


@dataclass
class PollResult:
    """What one poll did, for tests and logs: standby, baseline, unchanged, events, failed, lost."""

    status: str
    events: list[WatchEvent] = field(default_factory=list)
    announced: list[WatchEvent] = field(default_factory=list)


Listener = Callable[[list[WatchEvent]], Awaitable[None]]


class Watcher:
    """Polls while it holds the lease; ``last_success_at`` is for metrics and the Home."""

    def __init__(
        self,
        dialer: DialerClient,
        store: Store,
        notifier: Notifier,
        interval: float,
        *,
        views: WatchViews,
        on_events: Listener | None = None,
        holder: str | None = None,
    ) -> None:
        """``views`` renders what is announced; ``on_events`` hears every change seen
        (the App Home republishes on it). Both come from handlers, through bot.app."""
        self._dialer = dialer
        self._store = store
        self._notifier = notifier
        self.interval = interval
        self.holder = holder or f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._views = views
        self._on_events = on_events
        # The latest list this process fetched (the Home publishes from it).
        self.campaigns: list[Campaign] | None = None
        self.campaigns_at: float | None = None  # time.monotonic() of that fetch
        self.last_success_at: datetime | None = None
        self.last_poll_ms: float | None = None  # loop time of the last poll (bench, README)
        self._version = -1
        self._known: dict[int, dict[str, Any]] = {}
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._succeeded = asyncio.Event()

    @property
    def enabled(self) -> bool:
        return self.interval > 0

    @property
    def lease_s(self) -> float:
        # Renewed every interval; a dead holder's lease runs out within 1.5 intervals and the
        # standby, looking every half interval, takes over within two.
        return 1.5 * self.interval

    def last_success_age(self) -> float | None:
        """Seconds since this process's last successful poll (None: none yet)."""
        if self.last_success_at is None:
            return None
        return (datetime.now(UTC) - self.last_success_at).total_seconds()

    async def wait_success(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """For start-up checks and tests: until this process has polled successfully."""
        async with asyncio.timeout(timeout):
            await self._succeeded.wait()

    def start(self) -> None:
        if self.enabled and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="watcher")

    async def aclose(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        try:
            await self._store.run(self._store.lease.release, self.holder)
        except Exception:  # the store may already be closed: the lease then just runs out
            log.debug("could not release the watcher lease", exc_info=True)

    async def _run(self) -> None:
        while not self._closing:
            try:
                result = await self.poll_once()
            except Exception:
                log.exception("campaign watcher poll failed")
                result = PollResult("failed")
            pause = self.interval / 2 if result.status == "standby" else self.interval
            await asyncio.sleep(pause * random.uniform(0.9, 1.1))  # noqa: S311 - jitter only

    async def poll_once(self) -> PollResult:
        """One poll, if this process holds (or can take) the lease."""
        store = self._store
        state = await store.run(store.lease.claim, self.holder, lease_s=self.lease_s)
        if state is None:
            return PollResult("standby")
        started = datetime.now(UTC)
        etag = state.etag if self.campaigns is not None and state.version == self._version else None
        try:
            async with asyncio.timeout(self.lease_s * 0.8):
                campaigns, new_etag = await self._dialer.poll_campaigns(etag)
        except (DialerError, TimeoutError) as exc:
            reason = str(exc) if isinstance(exc, DialerError) else "no answer in time"
            await self._failed(reason)
            return PollResult("failed")
        cpu = time.perf_counter()
        if campaigns is not None:
            self.campaigns = campaigns
            self.campaigns_at = time.monotonic()
        if state.version != self._version:
            self._version, self._known = await store.run(store.snapshot.load)
        current = self._known if campaigns is None else {c.id: record(c) for c in campaigns}
        baseline = state.baseline_at is None
        events = [] if baseline else diff(self._known, current)
        deferred = await self._in_flight(events) if events else set()
        own = await self._own_changes(state) if events else set()
        announce = [
            e for e in events if e.campaign_id not in deferred and not explained_by_bot(e, own)
        ]
        upserts = {cid: r for cid, r in current.items() if self._known.get(cid) != r}
        removed = [cid for cid in self._known if cid not in current]
        for cid in deferred:  # decided at the next poll, once the command's answer is recorded
            upserts.pop(cid, None)
            if cid in removed:
                removed.remove(cid)
        deliveries = await self._deliveries([self._views.event(e) for e in announce])
        recovery = await self._recovery(state)
        self.last_poll_ms = (time.perf_counter() - cpu) * 1000
        try:
            self._version = await store.run(
                store.snapshot.commit,
                self.holder,
                state.version,
                lease_s=self.lease_s,
                # a deferred campaign must be diffed again: no 304 for the next poll
                etag=None if deferred else new_etag,
                upserts=upserts,
                removed=removed,
                deliveries=deliveries,
                recovery=recovery,
                polled_at=started,
            )
        except LostLease:
            self._version = -1
            return PollResult("lost", events)
        for cid, r in upserts.items():
            self._known[cid] = r
        for cid in removed:
            self._known.pop(cid, None)
        self.last_success_at = started
        metrics.watcher_ok(started.timestamp())  # dialer_bot_watcher_last_success_age_seconds
        self._succeeded.set()
        if deliveries or recovery:
            self._notifier.kick()
        if events and self._on_events is not None:
            try:
                await self._on_events(events)
            except Exception:
                log.exception("a watcher listener failed")
        if baseline:
            return PollResult("baseline")
        return PollResult("events" if events else "unchanged", events, announce)

    async def _deliveries(self, notices: list[Notice]) -> list[Delivery]:
        out: list[Delivery] = []
        for notice in notices:
            out += await self._notifier.deliveries(notice)
        return out

    async def _recovery(self, state: WatchState) -> list[Delivery] | None:
        if not state.down_announced or not state.failing_since:
            return None
        minutes = _minutes_since(state.failing_since)
        return await self._deliveries([self._views.reachable(state.failing_since, minutes)])

    async def _failed(self, reason: str) -> None:
        store = self._store
        log.warning("campaign watcher: the dialer did not answer the poll: %s", reason)
        state = await store.run(store.lease.record_failure, self.holder, reason)
        if state is None or state.down_announced or state.failures < 3:
            return
        notice = self._views.unreachable(state.failing_since or "", reason)
        deliveries = await self._deliveries([notice])
        if await store.run(store.lease.announce_down, self.holder, deliveries):
            self._notifier.kick()

    async def _own_changes(self, state: WatchState) -> set[tuple[int, str]]:
        """The bot's own commands completed since the previous poll's request went out
        (every change they made is in this poll's list, and none before that one's)."""
        since = state.polled_at or "0000"
        return await self._store.run(self._store.snapshot.own_changes, since)

    async def _in_flight(self, events: list[WatchEvent]) -> set[int]:
        since = datetime.now(UTC) - timedelta(seconds=IN_FLIGHT_S)
        pending = await self._store.run(self._store.snapshot.in_flight, since)
        return {e.campaign_id for e in events if e.campaign_id in pending}


def _minutes_since(stamp: str) -> int:
    try:
        then = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return 0
    return max(0, round((datetime.now(UTC) - then).total_seconds() / 60))
