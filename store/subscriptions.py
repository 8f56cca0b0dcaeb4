"""Channels that receive notifications about campaign changes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

import sqlite_utils

from store.db import iso, transaction, utc_now


class Subscriptions:
    """Add, remove and list subscribed channels."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        lock: threading.RLock | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.db = db
        self._lock = lock or threading.RLock()
        self._clock = clock

    def add(self, channel_id: str, user_id: str | None) -> bool:
        """Subscribe a channel; False when it already was (the first adder is kept)."""
        with self._lock, transaction(self.db):
            cursor = self.db.execute(
                "INSERT OR IGNORE INTO subscriptions (channel_id, added_by, added_at)"
                " VALUES (?, ?, ?)",
                [channel_id, user_id, iso(self._clock())],
            )
            return cursor.rowcount == 1

    def remove(self, channel_id: str) -> bool:
        """Unsubscribe a channel; False when it was not subscribed."""
        with self._lock, transaction(self.db):
            cursor = self.db.execute("DELETE FROM subscriptions WHERE channel_id = ?", [channel_id])
            return cursor.rowcount == 1

    def list(self) -> list[str]:
        """Subscribed channel ids, oldest subscription first."""
        with self._lock:
            rows = self.db.conn.execute(
                "SELECT channel_id FROM subscriptions ORDER BY added_at, channel_id"
            ).fetchall()
        return [row[0] for row in rows]
