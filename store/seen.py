"""Signed requests already seen: a replay inside Slack's 5-minute window is not acted on.

A signature is good for 5 minutes, so whoever copies a request (a log, a proxy, the
network) could send it again; Slack's own retries carry a new timestamp and signature.
The signature is recorded with one conditional INSERT: of any number of copies, in
any number of processes sharing the file, exactly one inserts the row and is acted on.
Rows whose timestamp is outside the window are pruned: such a request is refused by
the signature check anyway.
"""

from __future__ import annotations

from store.db import Component

WINDOW_S = 300
PRUNE_EVERY_S = 60
# The INSERT runs while Slack waits for the ack: a write lock held elsewhere is waited for
# this long, then the caller relies on its own record (bot/endpoint.py). Set once on the
# connection kept for it (store/__init__.py).
BUSY_MS = 200


class SeenRequests(Component):
    _pruned_at = 0.0

    def first_sight(self, signature: str, timestamp: int, now: float) -> bool:
        """True for the first request with this signature; False for every copy.

        Raises sqlite3.Error when the file cannot take the write in time."""
        with self._lock:
            conn = self.db.conn  # autocommit: the INSERT decides on its own, atomically
            first = (
                conn.execute(
                    "INSERT OR IGNORE INTO seen_requests (signature, request_ts) VALUES (?, ?)",
                    (signature, timestamp),
                ).rowcount
                == 1
            )
            if now - self._pruned_at > PRUNE_EVERY_S:
                conn.execute(
                    "DELETE FROM seen_requests WHERE request_ts < ?", (int(now) - WINDOW_S - 1,)
                )
                self._pruned_at = now
        return first

    def count(self) -> int:
        with self._read() as db:
            return int(db.conn.execute("SELECT COUNT(*) FROM seen_requests").fetchone()[0])
