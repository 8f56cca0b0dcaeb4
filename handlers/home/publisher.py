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
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.dialer import DialerError
from bot.services import Services
from bot.watch import WatchEvent, record
from handlers.home.views import HomeData, home_view, may

log = logging.getLogger(__name__)

RECENT_S = 24 * 3600


class HomePublisher:
    def __init__(self, services: Services, per_minute: float = 90.0) -> None:
        self.services = services
        self.spacing_s = 60.0 / per_minute
        self._queue: dict[str, None] = {}  # ordered set: each user at most once
        self._worker: asyncio.Task[Any] | None = None
        self._last_publish = 0.0

    # ---- opening the Home -----------------------------------------------------------

    async def opened(self, user_id: str, event_id: str | None) -> None:
        """app_home_opened: publish now from the snapshot, then refresh if it is stale."""
        store = self.services.store
        if event_id and not await store.run(store.home.first_delivery, event_id):
            return  # a retried delivery (X-Slack-Retry-Num): already handled
        await store.run(store.home.opened, user_id)
        records = await self._snapshot()
        await self.publish(user_id, records)
        if self._stale():
            fresh = await self._fetch()
            if fresh is not None and fresh != records:
                await self.publish(user_id, fresh)

    async def publish(self, user_id: str, records: list[dict[str, Any]] | None = None) -> None:
        if records is None:
            records = await self._snapshot()
        data = await self.gather(user_id, records)
        self._last_publish = time.monotonic()
        await self.services.client.views_publish(user_id=user_id, view=home_view(data))

    async def gather(self, user_id: str, records: list[dict[str, Any]] | None) -> HomeData:
        s = self.services
        store = s.store
        role = await s.access.role_everywhere(user_id)
        status = await store.run(store.lease.state)
        approvals = []
        for a in await store.run(store.approvals.open_requests):
            if a.requested_by == user_id:
                continue
            if may(await s.access.role_of(user_id, a.channel_id), f"approve {a.command}"):
                approvals.append(a)
        commands = await store.run(store.home.recent_commands, user_id, 5)
        return HomeData(
            user_id=user_id,
            role=role,
            watching=s.watcher.enabled,
            status=status,
            campaigns=records,
            approvals=approvals,
            commands=commands,
            admins=s.access.admin_ids,
            now=datetime.now(ZoneInfo(s.settings.bot_timezone)),
        )

    async def _snapshot(self) -> list[dict[str, Any]] | None:
        """The campaigns as the watcher last stored them (any process's watcher)."""
        store = self.services.store
        version, known = await store.run(store.snapshot.load)
        if version == 0 and not known:
            return None
        return list(known.values())

    def _stale(self) -> bool:
        w = self.services.watcher
        if not w.enabled:
            return True
        age = w.last_success_age()
        return age is None or age > 2 * w.interval

    async def _fetch(self) -> list[dict[str, Any]] | None:
        try:
            return [record(c) for c in await self.services.dialer.list_campaigns()]
        except DialerError as exc:
            log.info("App Home: campaigns not refreshed: %s", exc)
            return None

    # ---- republishing after changes -------------------------------------------------

    async def on_events(self, events: list[WatchEvent]) -> None:
        """The watcher saw a change: queue every recent viewer's Home (once each)."""
        store = self.services.store
        for user_id in await store.run(store.home.recent, RECENT_S):
            self._queue.setdefault(user_id, None)
        if self._queue and (self._worker is None or self._worker.done()):
            self._worker = self.services.tasks.spawn(self._drain(), name="home republish")

    async def _drain(self) -> None:
        while self._queue and not self.services.tasks.closing:
            wait = self._last_publish + self.spacing_s - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)  # the rate limit's pace, not a test wait
            user_id = next(iter(self._queue))
            del self._queue[user_id]
            try:
                await self.publish(user_id)
            except Exception:
                log.exception("App Home of %s not republished", user_id)
