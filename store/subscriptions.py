"""Channels that receive notifications about campaign changes."""

from __future__ import annotations

from store.db import Component

# How a channel gets campaign notifications: one thread per campaign per day, or one
# top-level message each (the behaviour before threads). The first is the default.
MODES = ("threaded", "flat")


class Subscriptions(Component):
    """Add, remove and list subscribed channels."""

    def add(self, channel_id: str, user_id: str | None, mode: str | None = None) -> bool:
        """Subscribe a channel; False when it already was (the first adder is kept).

        ``mode`` (threaded or flat) is set either way; None keeps the current one.
        """
        if mode is not None and mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        with self._write() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO subscriptions (channel_id, added_by, added_at, mode)"
                " VALUES (?, ?, ?, ?)",
                [channel_id, user_id, self._now(), mode or MODES[0]],
            )
            added = cursor.rowcount == 1
            if mode is not None and not added:
                db.execute(
                    "UPDATE subscriptions SET mode = ? WHERE channel_id = ?", [mode, channel_id]
                )
            return added

    def modes(self) -> dict[str, str]:
        """Each subscribed channel's mode (threaded or flat)."""
        with self._read() as db:
            rows = db.conn.execute("SELECT channel_id, mode FROM subscriptions").fetchall()
        return {row[0]: row[1] for row in rows}

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
