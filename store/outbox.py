"""Notifications waiting to be posted, so a Slack outage or a restart loses none.

Two bot processes may share the file, so a sender first *claims* an item: one
conditional UPDATE sets ``lease_until`` on a pending item that is the oldest
undelivered one of its channel and whose lease is absent or over. A sender that
dies mid-post leaves a lease that simply runs out; the next claim after that
(any process, e.g. after a restart) takes the item over, so nothing is lost and,
while the lease holds, nothing is posted twice. ``sent_at`` is only ever the
delivery time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from store.db import iso, iso_after
from store.rows import Component, all_as, dump_json, first_as, json_field


@dataclass(frozen=True)
class OutboxItem:
    """One queued message; ``payload`` is the chat.postMessage arguments."""

    id: int
    channel_id: str
    payload: Any = json_field()
    created_at: str
    state: str
    attempts: int
    last_error: str | None
    sent_at: str | None
    ts_slack: str | None
    lease_until: str | None = None


class Outbox(Component):
    """A durable FIFO of messages per channel."""

    def enqueue(self, channel_id: str, payload: Any) -> int:
        """Queue a message; returns its id (ids give the sending order)."""
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO outbox (channel_id, payload, created_at) VALUES (?, ?, ?)",
                [channel_id, dump_json(payload), self._now()],
            )
            return int(cursor.lastrowid or 0)

    def get(self, item_id: int) -> OutboxItem | None:
        """One item by id, whatever its state."""
        with self._read() as db:
            return first_as(OutboxItem, db.query("SELECT * FROM outbox WHERE id = ?", [item_id]))

    def pending(self, limit: int = 100) -> list[OutboxItem]:
        """Unsent messages, oldest first."""
        with self._read() as db:
            return all_as(
                OutboxItem,
                db.query(
                    "SELECT * FROM outbox WHERE state = 'pending' ORDER BY id LIMIT ?",
                    [int(limit)],
                ),
            )

    def claim(self, item_id: int, *, lease_s: float = 60.0) -> bool:
        """Take the item for one send attempt of at most ``lease_s``; True for exactly one sender.

        Only the head of its channel's queue can be claimed, so two processes never
        post a channel's messages out of order.
        """
        now = self._clock()
        with self._write() as db:
            cursor = db.execute(
                "UPDATE outbox SET lease_until = ? WHERE id = ? AND state = 'pending'"
                " AND (lease_until IS NULL OR lease_until < ?)"
                " AND NOT EXISTS (SELECT 1 FROM outbox AS o WHERE o.channel_id = outbox.channel_id"
                " AND o.state = 'pending' AND o.id < outbox.id)",
                [iso_after(now, lease_s), item_id, iso(now)],
            )
            return cursor.rowcount == 1

    def mark_failed(self, item_id: int, error: str) -> None:
        """Give up on an item Slack will never accept (e.g. channel_not_found)."""
        with self._write() as db:
            db.execute(
                "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?,"
                " lease_until = NULL WHERE id = ? AND state = 'pending'",
                [error, item_id],
            )

    def mark_sent(self, item_id: int, ts: str | None) -> None:
        """Record delivery and Slack's message ts (to edit or thread on it later)."""
        with self._write() as db:
            db.execute(
                "UPDATE outbox SET state = 'sent', sent_at = ?, ts_slack = ?, lease_until = NULL"
                " WHERE id = ?",
                [self._now(), ts, item_id],
            )

    def mark_attempt(self, item_id: int, error: str, *, max_attempts: int | None = None) -> None:
        """Count a failed try and release the claim; after ``max_attempts`` tries: failed."""
        with self._write() as db:
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, lease_until = NULL,"
                " state = CASE WHEN ? IS NOT NULL AND attempts + 1 >= ? THEN 'failed'"
                " ELSE state END WHERE id = ? AND state = 'pending'",
                [error, max_attempts, max_attempts, item_id],
            )
