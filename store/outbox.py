"""Notifications waiting to be posted, so a Slack outage or a restart loses none."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
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

    def mark_sent(self, item_id: int, ts: str | None) -> None:
        """Record delivery and Slack's message ts (to edit or thread on it later)."""
        with self._lock, transaction(self.db):
            self.db.execute(
                "UPDATE outbox SET state = 'sent', sent_at = ?, ts_slack = ? WHERE id = ?",
                [iso(self._clock()), ts, item_id],
            )

    def mark_attempt(self, item_id: int, error: str, *, max_attempts: int | None = None) -> None:
        """Count a failed try; after ``max_attempts`` tries the item is given up (failed)."""
        with self._lock, transaction(self.db):
            self.db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?,"
                " state = CASE WHEN ? IS NOT NULL AND attempts + 1 >= ? THEN 'failed'"
                " ELSE state END WHERE id = ? AND state = 'pending'",
                [error, max_attempts, max_attempts, item_id],
            )
