"""Who opened the App Home lately, and which Events API deliveries were already handled."""

from __future__ import annotations

from datetime import timedelta

from store.audit import AuditEntry
from store.db import Component, all_as, iso


class HomeViews(Component):
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
