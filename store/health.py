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

# Hook for issue 14: pending schedules live in a `schedules` table that does not exist yet.
# Until it does (or if its columns differ), the gauge is simply left out.
PENDING_SCHEDULES_SQL = "SELECT COUNT(*) FROM schedules WHERE state = 'pending'"


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
            marks = ", ".join("?" for _ in CONTROL_ACTIONS)
            outcomes = {
                (action, outcome): n
                for action, outcome, n in conn.execute(
                    "SELECT action, outcome, COUNT(*) FROM audit_log"  # noqa: S608
                    f" WHERE action IN ({marks}) AND outcome != 'pending'"
                    " GROUP BY action, outcome",
                    CONTROL_ACTIONS,
                )
            }
            try:
                (schedules,) = conn.execute(PENDING_SCHEDULES_SQL).fetchone()
            except sqlite3.OperationalError:
                schedules = None
        return Snapshot(depth, oldest, approvals, schedules, entries, outcomes)

    def writable(self) -> str | None:
        """None when the write lock can be taken within a second; else SQLite's reason."""
        with self._lock:
            conn = self.db.conn
            conn.execute(f"PRAGMA busy_timeout = {READY_WRITE_TIMEOUT_MS}")
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                return str(exc)
            finally:
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return None


def age_seconds(iso_ts: str | None, now: datetime) -> float | None:
    if iso_ts is None:
        return None
    then = datetime.fromisoformat(iso_ts.replace("Z", "+00:00"))
    return max(0.0, (now - then).total_seconds())
