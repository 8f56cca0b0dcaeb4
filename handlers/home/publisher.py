"""Publishing App Homes: fast from the watcher's snapshot, refreshed in the background, and
republished for recent viewers when the watcher sees a change.

``views.publish`` is rate-limited (Tier 4, about 100 a minute per workspace), so
republishing goes through one queue of users, each at most once in it (a burst of
changes costs each user one publish), drained at most ``per_minute`` a minute.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.web.async_client import AsyncWebClient

from bot.access import Access
from bot.dialer import DialerClient, DialerError
from bot.tasks import BackgroundTasks
from bot.watch import WatchEvent, record
from handlers.home.views import HomeData, home_view, may
from store import Store

log = logging.getLogger(__name__)

RECENT_S = 24 * 3600


class HomePublisher:
    """Built by bot.app before the watcher, which tells it of changes (on_events); how
    fresh the snapshot is, it reads from the snapshot's own poll time, whichever process
    polled."""

    def __init__(
        self,
        *,
        store: Store,
        client: AsyncWebClient,
        access: Access,
        dialer: DialerClient,
        tasks: BackgroundTasks,
        watch_interval: float,
        timezone: str = "UTC",
        per_minute: float = 90.0,
    ) -> None:
        self.store = store
        self.client = client
        self.timezone = timezone  # BOT_TIMEZONE: active periods are read in it
        self.access = access
        self.dialer = dialer
        self.tasks = tasks
        self.watch_interval = watch_interval
        self.spacing_s = 60.0 / per_minute
        self._queue: dict[str, None] = {}  # ordered set: each user at most once
        self._worker: asyncio.Task[Any] | None = None
        self._last_publish = 0.0

    # ---- opening the Home -----------------------------------------------------------

    async def opened(self, user_id: str, event_id: str | None) -> None:
        """app_home_opened: publish now from the snapshot, then refresh if it is stale."""
        store = self.store
        if event_id and not await store.run(store.home.first_delivery, event_id):
            return  # a retried delivery (X-Slack-Retry-Num): already handled
        await store.run(store.home.opened, user_id)
        records = await self._snapshot()
        await self.publish(user_id, records)
        if await self._stale():
            fresh = await self._fetch()
            if fresh is not None and fresh != records:
                await self.publish(user_id, fresh)

    async def publish(self, user_id: str, records: list[dict[str, Any]] | None = None) -> None:
        if records is None:
            records = await self._snapshot()
        data = await self.gather(user_id, records)
        self._last_publish = time.monotonic()
        await self.client.views_publish(user_id=user_id, view=home_view(data))

    async def gather(self, user_id: str, records: list[dict[str, Any]] | None) -> HomeData:
        store, access = self.store, self.access
        role = await access.role_everywhere(user_id)
        status = await store.run(store.lease.state)
        approvals = []
        for a in await store.run(store.approvals.open_requests):
            if a.requested_by == user_id:
                continue
            if may(await access.role_of(user_id, a.channel_id), f"approve {a.command}"):
                approvals.append(a)
        commands = await store.run(store.home.recent_commands, user_id, 5)
        return HomeData(
            user_id=user_id,
            role=role,
            watching=self.watch_interval > 0,
            status=status,
            campaigns=records,
            approvals=approvals,
            commands=commands,
            admins=access.admin_ids,
            now=datetime.now(ZoneInfo(self.timezone)),
        )

    async def _snapshot(self) -> list[dict[str, Any]] | None:
        """The campaigns as the watcher last stored them (any process's watcher)."""
        store = self.store
        version, known = await store.run(store.snapshot.load)
        if version == 0 and not known:
            return None
        return list(known.values())

    async def _stale(self) -> bool:
        """Nobody watches, or the last poll is older than two intervals: ask the dialer."""
        if self.watch_interval <= 0:
            return True
        polled_at = (await self.store.run(self.store.lease.state)).polled_at
        if not polled_at:
            return True
        then = datetime.fromisoformat(polled_at.replace("Z", "+00:00"))
        return (datetime.now(UTC) - then).total_seconds() > 2 * self.watch_interval

    async def _fetch(self) -> list[dict[str, Any]] | None:
        try:
            return [record(c) for c in await self.dialer.list_campaigns()]
        except DialerError as exc:
            log.info("App Home: campaigns not refreshed: %s", exc)
            return None

    # ---- republishing after changes -------------------------------------------------

    async def on_events(self, events: list[WatchEvent]) -> None:
        """The watcher saw a change: queue every recent viewer's Home (once each)."""
        store = self.store
        for user_id in await store.run(store.home.recent, RECENT_S):
            self._queue.setdefault(user_id, None)
        if self._queue and (self._worker is None or self._worker.done()):
            self._worker = self.tasks.spawn(self._drain(), name="home republish")

    async def _drain(self) -> None:
        while self._queue and not self.tasks.closing:
            wait = self._last_publish + self.spacing_s - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)  # the rate limit's pace, not a test wait
            user_id = next(iter(self._queue))
            del self._queue[user_id]
            try:
                await self.publish(user_id)
            except Exception:
                log.exception("App Home of %s not republished", user_id)
