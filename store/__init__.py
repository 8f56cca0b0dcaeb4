"""The bot's SQLite store: audit log, claims and approvals, grants and subscriptions,
outbox, schedules, the watcher's state, the do-not-call list.

:class:`Store` owns one connection and one worker thread. Async code calls
``await store.run(fn, ...)`` so SQLite work never holds the event loop; tests
and the CLI may call the sync API directly. A lock shared by every component
keeps direct and worker-thread use from interleaving on the connection.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from store.audit import Anchors, AuditEntry, AuditLog, VerifyResult
from store.claims import Approval, Approvals, Claim, ClaimResult, Claims
from store.db import Health, open_db, utc_now
from store.dnc import Change, DoNotCall, Listed
from store.outbox import Delivery, Outbox, OutboxItem
from store.schedules import Schedule, Schedules
from store.watch import LostLease, Snapshot, WatchLease, WatchState
from store.workspace import Grant, Grants, HomeViews, Subscriptions

__all__ = [
    "Anchors",
    "Approval",
    "Approvals",
    "AuditEntry",
    "AuditLog",
    "Claim",
    "ClaimResult",
    "Claims",
    "Change",
    "Delivery",
    "DoNotCall",
    "Grant",
    "Grants",
    "Health",
    "HomeViews",
    "Listed",
    "LostLease",
    "Outbox",
    "OutboxItem",
    "Schedule",
    "Schedules",
    "Snapshot",
    "Store",
    "Subscriptions",
    "VerifyResult",
    "WatchLease",
    "WatchState",
    "open_db",
]

T = TypeVar("T")


class Store:
    """Everything the bot keeps, behind one connection and one worker thread."""

    def __init__(self, path: str | Path, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.path = str(path)
        self.db = open_db(path)
        self._lock = threading.RLock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self._closed = False
        self.audit = AuditLog(self.db, self._lock, clock)
        self.claims = Claims(self.db, self._lock, clock)
        self.subscriptions = Subscriptions(self.db, self._lock, clock)
        self.grants = Grants(self.db, self._lock, clock)
        self.outbox = Outbox(self.db, self._lock, clock)
        self.approvals = Approvals(self.db, self._lock, clock)
        self.schedules = Schedules(self.db, self._lock, clock)
        self.health = Health(self.db, self._lock, clock)
        self.anchors = Anchors(self.db, self._lock, clock)
        self.lease = WatchLease(self.db, self._lock, clock)
        self.snapshot = Snapshot(self.db, self._lock, clock)
        self.home = HomeViews(self.db, self._lock, clock)
        self.dnc = DoNotCall(self.db, self._lock, clock)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a sync store call on the store thread and await its result.

        The caller's context goes along, so the audit writer sees the request id (bot/logs)."""
        loop = asyncio.get_running_loop()
        call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        return await loop.run_in_executor(self._executor, call)

    def close(self) -> None:
        """Finish queued work, then close the connection. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._executor.shutdown(wait=True)
        with self._lock:
            self.db.close()

    async def aclose(self) -> None:
        """close() without blocking the event loop while queued work finishes."""
        await asyncio.to_thread(self.close)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
