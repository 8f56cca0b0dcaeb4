"""The small tables about the bot's workspace: who holds which role (grants), which channels
get campaign notifications (subscriptions), who opened the App Home lately, and which
Events API deliveries were already handled, and how many numbers of each call list are in
which time zone.

Each is a handful of one-statement reads and writes; the rules that use them live in
bot/ (bot/access.py for roles, the notifier for subscriptions, the Home publisher).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from store.audit import AuditEntry
from store.db import Component, all_as, each, first_as, iso

ROLES = ("viewer", "operator", "admin")
# How a channel gets campaign notifications: one thread per campaign per day, or one
# top-level message each (the behaviour before threads). The first is the default.
MODES = ("threaded", "flat")


@dataclass(frozen=True)
class Grant:
    """One role for one user; ``channel_id`` None means in every channel."""

    id: int
    user_id: str
    role: str
    channel_id: str | None
    granted_by: str | None
    granted_at: str


class Grants(Component):
    """Store and look up role grants (the rules that use them live in bot/access.py)."""

    def grant(
        self,
        user_id: str,
        role: str,
        channel_ids: list[str] | None,
        granted_by: str | None,
    ) -> list[Grant]:
        """Give ``role`` in each channel (None = everywhere); returns the grants newly added.

        Granting what a user already has is a no-op, so repeating a command is safe.
        """
        if role not in ROLES:
            raise ValueError(f"role: expected one of {ROLES}, got {role!r}")
        targets: list[str | None] = [None] if channel_ids is None else list(channel_ids)
        if not targets:
            raise ValueError("channel_ids: give at least one channel, or None for everywhere")
        now = self._now()
        added: list[int] = []
        with self._write() as db:
            for channel_id in targets:
                cursor = db.execute(
                    "INSERT OR IGNORE INTO grants (user_id, role, channel_id, granted_by,"
                    " granted_at) VALUES (?, ?, ?, ?, ?)",
                    [user_id, role, channel_id, granted_by, now],
                )
                if cursor.rowcount == 1:
                    added.append(int(cursor.lastrowid or 0))
            return each(self._get, added)

    def revoke(
        self, user_id: str, role: str | None = None, channel_ids: list[str] | None = None
    ) -> int:
        """Remove the user's grants (of one role, or all; in the channels named, or
        wherever they apply); returns how many went."""
        sql = "DELETE FROM grants WHERE user_id = ?"
        params: list[Any] = [user_id]
        if role is not None:
            if role not in ROLES:
                raise ValueError(f"role: expected one of {ROLES}, got {role!r}")
            sql += " AND role = ?"
            params.append(role)
        if channel_ids is None:
            with self._write() as db:
                return db.execute(sql, params).rowcount
        sql += " AND channel_id = ?"
        removed = 0
        with self._write() as db:
            for channel_id in dict.fromkeys(channel_ids):
                removed += db.execute(sql, [*params, channel_id]).rowcount
        return removed

    def for_user(self, user_id: str) -> list[Grant]:
        """Every grant of one user, oldest first."""
        with self._read() as db:
            return all_as(
                Grant, db.query("SELECT * FROM grants WHERE user_id = ? ORDER BY id", [user_id])
            )

    def all(self) -> list[Grant]:
        """Every grant, by user then age (for ``/dialer access`` listings)."""
        with self._read() as db:
            return all_as(Grant, db.query("SELECT * FROM grants ORDER BY user_id, id"))

    def _get(self, grant_id: int) -> Grant | None:
        with self._read() as db:
            return first_as(Grant, db.query("SELECT * FROM grants WHERE id = ?", [grant_id]))


# --- subscriptions ---------------------------------------------------------------


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


# --- the App Home and event deliveries ---------------------------------------------


class HomeViews(Component):
    """Who opened the App Home lately, and which Events API deliveries were already handled."""

    def opened(self, user_id: str) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO home_views (user_id, opened_at) VALUES (?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET opened_at = excluded.opened_at",
                [user_id, self._now()],
            )

    def recent(self, within_s: float = 24 * 3600) -> list[str]:
        """Users who opened the Home within ``within_s``: their Home is kept up to date."""
        since = iso(self._clock() - timedelta(seconds=within_s))
        with self._read() as db:
            rows = db.conn.execute(
                "SELECT user_id FROM home_views WHERE opened_at >= ? ORDER BY opened_at DESC",
                [since],
            ).fetchall()
        return [r[0] for r in rows]

    def first_delivery(self, event_id: str, keep_s: float = 3600) -> bool:
        """True once per event_id: Slack retries a delivery (X-Slack-Retry-Num) it thinks
        was lost, and a retry must not run the work twice, even in another process."""
        now = self._clock()
        with self._write() as db:
            db.execute(
                "DELETE FROM seen_events WHERE seen_at < ?", [iso(now - timedelta(seconds=keep_s))]
            )
            cursor = db.execute(
                "INSERT OR IGNORE INTO seen_events (event_id, seen_at) VALUES (?, ?)",
                [event_id, iso(now)],
            )
            return cursor.rowcount == 1

    def recent_commands(self, user_id: str, limit: int = 5) -> list[AuditEntry]:
        """This user's latest requests with their outcomes, newest first (the Home's list)."""
        with self._read() as db:
            return all_as(
                AuditEntry,
                db.query(
                    "SELECT * FROM audit_requests WHERE user_id = ? ORDER BY id DESC LIMIT ?",
                    [user_id, int(limit)],
                ),
            )


class ListZones(Component):
    """Numbers per time zone of each call list, as a JSON object {zone: numbers}: counts
    only, never the numbers. Kept at upload for the lists the bot sends (source
    ``upload``), and for other lists once read from the dialer (source ``dialer``), so the
    calling-hours check (bot/calling_hours.py) does not read a list twice."""

    def put(self, list_id: int, counts: dict[str, int], *, source: str = "upload") -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO list_zones (list_id, counts, source, counted_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(list_id) DO UPDATE SET "
                "counts = excluded.counts, source = excluded.source, "
                "counted_at = excluded.counted_at",
                [list_id, json.dumps(counts, sort_keys=True), source, self._now()],
            )

    def get(self, list_id: int) -> dict[str, int] | None:
        with self._read() as db:
            row = db.execute(
                "SELECT counts FROM list_zones WHERE list_id = ?", [list_id]
            ).fetchone()
        if row is None:
            return None
        return {str(k): int(v) for k, v in json.loads(row[0]).items()}
