"""Channels that receive notifications about campaign changes."""

from __future__ import annotations

from store.rows import Component


class Subscriptions(Component):
    """Add, remove and list subscribed channels."""

    def add(self, channel_id: str, user_id: str | None) -> bool:
        """Subscribe a channel; False when it already was (the first adder is kept)."""
        with self._write() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO subscriptions (channel_id, added_by, added_at)"
                " VALUES (?, ?, ?)",
                [channel_id, user_id, self._now()],
            )
            return cursor.rowcount == 1

    def remove(self, channel_id: str) -> bool:
        """Unsubscribe a channel; False when it was not subscribed."""
        with self._write() as db:
            cursor = db.execute("DELETE FROM subscriptions WHERE channel_id = ?", [channel_id])
            return cursor.rowcount == 1

    def list(self) -> list[str]:
        """Subscribed channel ids, oldest subscription first."""
        with self._read() as db:
            rows = db.conn.execute(
                "SELECT channel_id FROM subscriptions ORDER BY added_at, channel_id"
            ).fetchall()
        return [row[0] for row in rows]
