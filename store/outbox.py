"""Notifications waiting to be posted, so a Slack outage or a restart loses none.

Two bot processes may share the file, so a sender first *claims* an item: one
conditional UPDATE sets ``lease_until`` on a pending item that is the oldest
undelivered one of its channel and whose lease is absent or over. A sender that
dies mid-post leaves a lease that simply runs out; the next claim after that
(any process, e.g. after a restart) takes the item over, so nothing is lost and,
while the lease holds, nothing is posted twice. ``sent_at`` is only ever the
delivery time.

An item is a post, a reply in a thread, or an update of that thread's parent; the
``threads`` table remembers each campaign's parent message of the day per channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlite_utils

from store.db import Component, all_as, dump_json, first_as, iso, iso_after, json_field

KINDS = ("post", "reply", "update")


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
    kind: str = "post"  # post | reply (in the thread of parent_id) | update (of parent_id)
    parent_id: int | None = None


@dataclass(frozen=True)
class Delivery:
    """One notification for one channel, before it is queued.

    ``subject`` (e.g. ``campaign:12``) with ``threaded`` makes it a reply in that
    subject's thread of the day, whose parent message (``parent``) is posted first or
    updated in place; otherwise it is a plain post, as before threads existed.
    """

    channel_id: str
    payload: Any
    subject: str | None = None
    threaded: bool = False
    parent: Any = None
    day: str = ""


# --- thread parents: one message per subject (a campaign) per channel per day -----
# Only used inside the outbox's transactions, so the parent's row and its first reply
# are queued together or not at all.


def _live_parent(db: sqlite_utils.Database, channel_id: str, subject: str, day: str) -> int | None:
    """The outbox id of today's parent for this subject, unless its post failed for good."""
    rows = db.conn.execute(
        "SELECT t.parent_id FROM threads AS t JOIN outbox AS o ON o.id = t.parent_id"
        " WHERE t.channel_id = ? AND t.subject = ? AND t.day = ? AND o.state != 'failed'",
        [channel_id, subject, day],
    ).fetchall()
    return int(rows[0][0]) if rows else None


def _set_parent(
    db: sqlite_utils.Database, channel_id: str, subject: str, day: str, parent_id: int
) -> None:
    db.execute(
        "INSERT INTO threads (channel_id, subject, day, parent_id) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (channel_id, subject, day) DO UPDATE SET parent_id = excluded.parent_id",
        [channel_id, subject, day, parent_id],
    )


def insert_item(
    db: sqlite_utils.Database,
    now: str,
    channel_id: str,
    payload: Any,
    kind: str = "post",
    parent_id: int | None = None,
) -> int:
    """One outbox row, inside the caller's transaction; ids give the sending order."""
    cursor = db.execute(
        "INSERT INTO outbox (channel_id, payload, created_at, kind, parent_id)"
        " VALUES (?, ?, ?, ?, ?)",
        [channel_id, dump_json(payload), now, kind, parent_id],
    )
    return int(cursor.lastrowid or 0)


def insert_deliveries(db: sqlite_utils.Database, now: str, deliveries: list[Delivery]) -> list[int]:
    """Queue every delivery inside the caller's transaction (the watcher commits its
    snapshot in the same one, so an event is queued exactly when it is first seen).

    A threaded delivery whose subject has no live thread today queues the parent post
    first; later ones queue an update of the parent and then the reply. Per channel the
    ids keep that order, and only a channel's oldest pending item may be sent, so a
    reply never overtakes its parent.
    """
    ids = []
    for d in deliveries:
        if not (d.threaded and d.subject and d.parent is not None):
            ids.append(insert_item(db, now, d.channel_id, d.payload))
            continue
        parent_id = _live_parent(db, d.channel_id, d.subject, d.day)
        if parent_id is None:
            parent_id = insert_item(db, now, d.channel_id, d.parent)
            _set_parent(db, d.channel_id, d.subject, d.day, parent_id)
        else:
            insert_item(db, now, d.channel_id, d.parent, "update", parent_id)
        ids.append(insert_item(db, now, d.channel_id, d.payload, "reply", parent_id))
    return ids


class Outbox(Component):
    """A durable FIFO of messages per channel."""

    def enqueue(self, channel_id: str, payload: Any) -> int:
        """Queue a message; returns its id (ids give the sending order)."""
        with self._write() as db:
            return insert_item(db, self._now(), channel_id, payload)

    def enqueue_deliveries(self, deliveries: list[Delivery]) -> list[int]:
        """Queue a notification for all its channels at once (see insert_deliveries)."""
        with self._write() as db:
            return insert_deliveries(db, self._now(), deliveries)

    def parent_ts(self, item_id: int | None) -> tuple[str, str | None] | None:
        """A thread parent's state and Slack ts; None when there is no such item."""
        with self._read() as db:
            rows = db.conn.execute(
                "SELECT state, ts_slack FROM outbox WHERE id = ?", [item_id]
            ).fetchall()
        return (rows[0][0], rows[0][1]) if rows else None

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
