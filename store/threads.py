"""Thread parents: one message per subject (a campaign) per channel per day.

Only used inside the outbox's transactions (store/outbox.py), so the parent's row
and its first reply are queued together or not at all.
"""

from __future__ import annotations

import sqlite_utils


def live_parent(db: sqlite_utils.Database, channel_id: str, subject: str, day: str) -> int | None:
    """The outbox id of today's parent for this subject, unless its post failed for good."""
    rows = db.conn.execute(
        "SELECT t.parent_id FROM threads AS t JOIN outbox AS o ON o.id = t.parent_id"
        " WHERE t.channel_id = ? AND t.subject = ? AND t.day = ? AND o.state != 'failed'",
        [channel_id, subject, day],
    ).fetchall()
    return int(rows[0][0]) if rows else None


def set_parent(
    db: sqlite_utils.Database, channel_id: str, subject: str, day: str, parent_id: int
) -> None:
    db.execute(
        "INSERT INTO threads (channel_id, subject, day, parent_id) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (channel_id, subject, day) DO UPDATE SET parent_id = excluded.parent_id",
        [channel_id, subject, day, parent_id],
    )
