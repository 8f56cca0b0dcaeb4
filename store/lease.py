"""The campaign watcher's lease and bookkeeping: one row, shared by every bot process.

Only the holder of the lease polls the dialer. Taking it is one conditional UPDATE
(free, expired, or already ours), so of two processes exactly one watches; a holder
that dies simply stops renewing and the other takes over once the lease runs out.
The outage counters live here too, so a restart neither forgets an outage nor
announces it again.
"""

from __future__ import annotations

from dataclasses import dataclass

from store.db import Component, first_as, iso, iso_after
from store.outbox import Delivery, insert_deliveries

DOWN_AFTER_FAILURES = 3


@dataclass(frozen=True)
class WatchState:
    id: int
    holder: str | None
    lease_until: str | None
    version: int
    baseline_at: str | None
    polled_at: str | None
    etag: str | None
    failures: int
    failing_since: str | None
    last_error: str | None
    down_announced: int


class WatchLease(Component):
    """Claim, renew and release the watcher lease; count failed polls."""

    def state(self) -> WatchState:
        with self._read() as db:
            found = first_as(WatchState, db.query("SELECT * FROM watch_state WHERE id = 1"))
        assert found is not None, "migration _v5 inserts the row"
        return found

    def claim(self, holder: str, *, lease_s: float) -> WatchState | None:
        """Take or renew the lease for ``lease_s``; the state when ``holder`` has it, else None."""
        now = self._clock()
        with self._write() as db:
            cursor = db.execute(
                "UPDATE watch_state SET holder = ?, lease_until = ? WHERE id = 1"
                " AND (holder = ? OR holder IS NULL OR lease_until IS NULL OR lease_until < ?)",
                [holder, iso_after(now, lease_s), holder, iso(now)],
            )
            if cursor.rowcount != 1:
                return None
        return self.state()

    def release(self, holder: str) -> None:
        """On a graceful stop: let another process take over at once."""
        with self._write() as db:
            db.execute(
                "UPDATE watch_state SET lease_until = NULL WHERE id = 1 AND holder = ?", [holder]
            )

    def record_failure(self, holder: str, error: str) -> WatchState | None:
        """Count one failed poll (only while holding the lease); the state after it."""
        now = self._now()
        with self._write() as db:
            cursor = db.execute(
                "UPDATE watch_state SET failures = failures + 1, last_error = ?,"
                " failing_since = COALESCE(failing_since, ?)"
                " WHERE id = 1 AND holder = ? AND lease_until >= ?",
                [error, now, holder, now],
            )
            if cursor.rowcount != 1:
                return None
        return self.state()

    def announce_down(self, holder: str, deliveries: list[Delivery]) -> bool:
        """Queue the one "unreachable" message of an outage; True for exactly one caller."""
        now = self._now()
        with self._write() as db:
            cursor = db.execute(
                "UPDATE watch_state SET down_announced = 1 WHERE id = 1 AND holder = ?"
                " AND lease_until >= ? AND down_announced = 0 AND failures >= ?",
                [holder, now, DOWN_AFTER_FAILURES],
            )
            if cursor.rowcount != 1:
                return False
            insert_deliveries(db, now, deliveries)
            return True
