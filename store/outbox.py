"""Notifications waiting to be posted, so a Slack outage or a restart loses none.

Two bot processes may share the file, so a sender first *claims* an item: one
conditional UPDATE stamps ``sent_at`` on a pending item that is the oldest
undelivered one of its channel and not claimed by someone else in the last
``lease_s`` seconds. For a pending item ``sent_at`` is therefore "a sender took it
at"; on delivery it becomes the delivery time. A sender that dies mid-post leaves
a stale stamp that the next claim after the lease (any process, e.g. after a
restart) takes over, so nothing is lost and, while the lease holds, nothing is
posted twice.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from store.audit import dump_json
from store.db import iso, transaction, utc_now


@dataclass(frozen=True)
class OutboxItem:
    """One queued message; ``payload`` is the chat.postMessage arguments."""

    id: int
    channel_id: str
    payload: Any
    created_at: str
    state: str
    attempts: int
    last_error: str | None
    sent_at: str | None
    ts_slack: str | None


def _item(row: dict[str, Any]) -> OutboxItem:
    return OutboxItem(
        id=row["id"],
        channel_id=row["channel_id"],
        payload=json.loads(row["payload"]),
        created_at=row["created_at"],
        state=row["state"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        sent_at=row["sent_at"],
        ts_slack=row["ts_slack"],
    )


class Outbox:
    """A durable FIFO of messages per channel."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        lock: threading.RLock | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.db = db
        self._lock = lock or threading.RLock()
        self._clock = clock

    def enqueue(self, channel_id: str, payload: Any) -> int:
        """Queue a message; returns its id (ids give the sending order)."""
        with self._lock, transaction(self.db):
            cursor = self.db.execute(
                "INSERT INTO outbox (channel_id, payload, created_at) VALUES (?, ?, ?)",
                [channel_id, dump_json(payload), iso(self._clock())],
            )
            return int(cursor.lastrowid or 0)

    def get(self, item_id: int) -> OutboxItem | None:
        """One item by id, whatever its state."""
        with self._lock:
            rows = list(self.db.query("SELECT * FROM outbox WHERE id = ?", [item_id]))
        return _item(rows[0]) if rows else None

    def pending(self, limit: int = 100) -> list[OutboxItem]:
        """Unsent messages, oldest first."""
        with self._lock:
            rows = list(
                self.db.query(
                    "SELECT * FROM outbox WHERE state = 'pending' ORDER BY id LIMIT ?",
                    [int(limit)],
                )
            )
        return [_item(row) for row in rows]

    def claim(self, item_id: int, *, lease_s: float = 60.0) -> bool:
        """Take the item for one send attempt; True for exactly one sender.

        Only the head of its channel's queue can be claimed, so two processes never
        post a channel's messages out of order.
        """
        now = self._clock()
        with self._lock, transaction(self.db):
            cursor = self.db.execute(
                "UPDATE outbox SET sent_at = ? WHERE id = ? AND state = 'pending'"
                " AND (sent_at IS NULL OR sent_at < ?)"
                " AND NOT EXISTS (SELECT 1 FROM outbox AS o WHERE o.channel_id = outbox.channel_id"
                " AND o.state = 'pending' AND o.id < outbox.id)",
                [
                    iso(now),
                    item_id,
                    iso(now - timedelta(seconds=lease_s)),
                ],
            )
            return cursor.rowcount == 1

    def mark_failed(self, item_id: int, error: str) -> None:
        """Give up on an item Slack will never accept (e.g. channel_not_found)."""
        with self._lock, transaction(self.db):
            self.db.execute(
                "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?,"
                " sent_at = NULL WHERE id = ? AND state = 'pending'",
                [error, item_id],
            )

    def mark_sent(self, item_id: int, ts: str | None) -> None:
        """Record delivery and Slack's message ts (to edit or thread on it later)."""
        with self._lock, transaction(self.db):
            self.db.execute(
                "UPDATE outbox SET state = 'sent', sent_at = ?, ts_slack = ? WHERE id = ?",
                [iso(self._clock()), ts, item_id],
            )

    def mark_attempt(self, item_id: int, error: str, *, max_attempts: int | None = None) -> None:
        """Count a failed try and release the claim; after ``max_attempts`` tries: failed."""
        with self._lock, transaction(self.db):
            self.db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, sent_at = NULL,"
                " state = CASE WHEN ? IS NOT NULL AND attempts + 1 >= ? THEN 'failed'"
                " ELSE state END WHERE id = ? AND state = 'pending'",
                [error, max_attempts, max_attempts, item_id],
            )
