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
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from store.audit import Anchors, AuditEntry, AuditLog, VerifyResult
from store.claims import Approval, Approvals, Claim, ClaimResult, Claims
from store.db import (
    Health,
    StorageError,
    file_identity,
    open_db,
    open_reader,
    storage_error,
    utc_now,
    write_durably,
)
from store.dnc import Change, DoNotCall, Listed
from store.outbox import Delivery, Outbox, OutboxItem
from store.schedules import Schedule, Schedules
from store.seen import SeenRequests
from store.watch import LostLease, Snapshot, WatchLease, WatchState
from store.workflow_runs import RunClaim, WorkflowRun, WorkflowRuns
from store.workspace import Grant, Grants, HomeViews, ListZones, Subscriptions

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
    "ListZones",
    "Listed",
    "LostLease",
    "Outbox",
    "OutboxItem",
    "RunClaim",
    "Schedule",
    "Schedules",
    "SeenRequests",
    "Snapshot",
    "StorageError",
    "Store",
    "Subscriptions",
    "VerifyResult",
    "WatchLease",
    "WatchState",
    "WorkflowRun",
    "WorkflowRuns",
    "open_db",
]

T = TypeVar("T")


class Store:
    """Everything the bot keeps, behind one connection and one worker thread."""

    def __init__(
        self,
        path: str | Path,
        *,
        clock: Callable[[], datetime] = utc_now,
        request_id_source: Callable[[], str | None] | None = None,
    ) -> None:
        """``request_id_source``: the id of the Slack request being handled (the bot passes
        bot.logs.current_request_id), added to each audit row it writes, so a log line and
        an audit row can be joined."""
        self.path = str(path)
        self.db = open_db(path)
        # The file as opened: a write-ahead row must land in this file, not one that
        # replaced it or an unlinked one (see write_ahead).
        self.opened = file_identity(path)
        self._lock = threading.RLock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self._closed = False
        # Reads that must not wait behind a write (see read()): their own connection, lock
        # and thread. In memory there is only the one connection to read.
        on_disk = self.opened is not None
        self._reader_db = open_reader(path) if on_disk else self.db
        self._reader_lock = threading.RLock() if on_disk else self._lock
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-read")
        self.audit = AuditLog(self.db, self._lock, clock, request_id_source=request_id_source)
        self.claims = Claims(self.db, self._lock, clock)
        self.subscriptions = Subscriptions(self.db, self._lock, clock)
        self.grants = Grants(self.db, self._lock, clock)
        self.outbox = Outbox(self.db, self._lock, clock)
        self.approvals = Approvals(self.db, self._lock, clock)
        self.schedules = Schedules(self.db, self._lock, clock)
        self.health = Health(self.db, self._lock, clock, path=self.path, opened=self.opened)
        self.anchors = Anchors(self.db, self._lock, clock)
        self.lease = WatchLease(self.db, self._lock, clock)
        self.snapshot = Snapshot(self.db, self._lock, clock)
        self.home = HomeViews(self.db, self._lock, clock)
        self.workflow_runs = WorkflowRuns(self.db, self._lock, clock)
        self.list_zones = ListZones(self.db, self._lock, clock)
        # The one write an ack waits for (store/seen.py) has its own connection and thread:
        # it never queues behind the work listeners started after earlier acks.
        self._ack_db = self.db if self.path == ":memory:" else open_db(path)
        if self._ack_db is not self.db:  # one statement per ack: no PRAGMA around each
            self._ack_db.conn.execute("PRAGMA busy_timeout = 200")  # seen.BUSY_MS
        self._ack_lock = self._lock if self._ack_db is self.db else threading.RLock()
        self._ack_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-ack")
        self.seen = SeenRequests(self._ack_db, self._ack_lock, clock)
        # The grants as an access check reads them, through read(): a role lookup never
        # waits for another process's write lock, nor for a write queued on the store.
        self.access_grants = Grants(self._reader_db, self._reader_lock, clock)
        self.dnc = DoNotCall(self.db, self._lock, clock)

    def write_ahead(self, write: Callable[[], T]) -> T:
        """Run ``write`` (e.g. the pending audit row) and return only once it is committed
        to the file this store opened; StorageError otherwise. For the row the bot must
        have before it acts: nothing is sent unless this returns."""
        with self._lock:
            return write_durably(self.path, self.opened, self.db.conn, write)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a sync store call on the store thread and await its result.

        The caller's context goes along, so the audit writer sees the request id (bot/logs).
        SQLite's word that the storage is failing or locked arrives as StorageError, so
        the Slack side can say so without knowing SQLite."""
        return await self._call(self._executor, fn, *args, **kwargs)

    async def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Like run(), for a read on the second connection (e.g. ``access_grants``): it
        waits neither for the store's thread nor, in WAL mode, for any writer."""
        return await self._call(self._reader, fn, *args, **kwargs)

    async def _call(
        self, executor: ThreadPoolExecutor, fn: Callable[..., T], *args: Any, **kwargs: Any
    ) -> T:
        loop = asyncio.get_running_loop()
        call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        try:
            return await loop.run_in_executor(executor, call)
        except sqlite3.Error as exc:  # the storage failing, or a bug: see storage_error
            failure = storage_error(exc)
            if failure is None:
                raise
            raise failure from exc

    async def run_for_ack(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """As run(), on the thread and connection kept for what an ack waits for."""
        loop = asyncio.get_running_loop()
        call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        return await loop.run_in_executor(self._ack_executor, call)

    def close(self) -> None:
        """Finish queued work, then close the connections. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._ack_executor.shutdown(wait=True)
        self._executor.shutdown(wait=True)
        self._reader.shutdown(wait=True)
        with self._lock:
            self.db.close()
        if self._ack_db is not self.db:
            with self._ack_lock:
                self._ack_db.close()
        if self._reader_db is not self.db:
            with self._reader_lock:
                self._reader_db.close()

    async def aclose(self) -> None:
        """close() without blocking the event loop while queued work finishes."""
        await asyncio.to_thread(self.close)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
