"""What an operator's metrics and readiness probe need from SQLite: counts, ages, and whether
the file takes writes right now. Counts and labels only: no campaign names, no payloads."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime

from store.db import BUSY_TIMEOUT_MS
from store.rows import Component

# Control commands whose outcomes are counted (the audit log's actions for bot/control.py).
CONTROL_ACTIONS = ("start", "pause", "unpause", "reload", "remove")
READY_WRITE_TIMEOUT_MS = 1000
# The probe's PRAGMAs are literal SQL (tests/test_hardening.py); they must match these.
assert BUSY_TIMEOUT_MS == 5000 and len(CONTROL_ACTIONS) == 5  # noqa: S101


@dataclass(frozen=True)
class Snapshot:
    outbox_depth: int
    outbox_oldest_created_at: str | None
    pending_approvals: int
    pending_schedules: int | None
    audit_entries: int
    control_outcomes: dict[tuple[str, str], int] = field(default_factory=dict)


class Health(Component):
    """Read-only gauges, plus the one write probe /readyz uses."""

    def snapshot(self) -> Snapshot:
        with self._read() as db:
            conn = db.conn
            depth, oldest = conn.execute(
                "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE state = 'pending'"
            ).fetchone()
            (approvals,) = conn.execute(
                "SELECT COUNT(*) FROM approvals WHERE state = 'open'"
            ).fetchone()
            (entries,) = conn.execute("SELECT COUNT(*) FROM audit_log").fetchone()
            outcomes = {
                (action, outcome): n
                for action, outcome, n in conn.execute(
                    "SELECT action, outcome, COUNT(*) FROM audit_log"
                    " WHERE action IN (?, ?, ?, ?, ?) AND outcome != 'pending'"
                    " GROUP BY action, outcome",
                    CONTROL_ACTIONS,
                )
            }
            # Hook for issue 14: pending schedules will live in a `schedules` table that does
            # not exist yet; until it does (or if its columns differ) the gauge is left out.
            pending_schedules_sql = "SELECT COUNT(*) FROM schedules WHERE state = 'pending'"
            try:
                (schedules,) = conn.execute(pending_schedules_sql).fetchone()
            except sqlite3.OperationalError:
                schedules = None
        return Snapshot(depth, oldest, approvals, schedules, entries, outcomes)

    def writable(self) -> str | None:
        """None when the write lock can be taken within a second; else SQLite's reason."""
        with self._lock:
            conn = self.db.conn
            conn.execute("PRAGMA busy_timeout = 1000")  # READY_WRITE_TIMEOUT_MS
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                return str(exc)
            finally:
                conn.execute("PRAGMA busy_timeout = 5000")  # back to store.db.BUSY_TIMEOUT_MS
        return None


def age_seconds(iso_ts: str | None, now: datetime) -> float | None:
    if iso_ts is None:
        return None
    then = datetime.fromisoformat(iso_ts.replace("Z", "+00:00"))
    return max(0.0, (now - then).total_seconds())
