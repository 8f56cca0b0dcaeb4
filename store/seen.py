"""Signed requests already seen: a replay inside Slack's 5-minute window is not acted on.

A signature is good for 5 minutes, so whoever copies a request (a log, a proxy, the
network) could send it again; Slack's own retries carry a new timestamp and signature.
The signature is recorded with one conditional INSERT: of any number of copies, in
any number of processes sharing the file, exactly one inserts the row and is acted on.
Rows whose timestamp is outside the window are pruned: such a request is refused by
the signature check anyway.
"""

from __future__ import annotations

import sqlite3

from store.db import Component

WINDOW_S = 300
PRUNE_EVERY_S = 60
# The INSERT runs while Slack waits for the ack (3 s): a write lock held elsewhere is
# waited for at most this long, then the request is refused (503) rather than acted on
# without the record. Literal SQL below repeats it (tests/test_hardening.py).
BUSY_MS = 1000


class SeenRequests(Component):
    _pruned_at = 0.0

    def first_sight(self, signature: str, timestamp: int, now: float) -> bool:
        """True for the first request with this signature; False for every copy.

        Raises sqlite3.Error when the file cannot take the write in time."""
        return self.first_sights([(signature, timestamp)], now)[0]

    def first_sights(self, requests: list[tuple[str, int]], now: float) -> list[bool]:
        """first_sight for (signature, timestamp) pairs arriving together, in one
        transaction: each INSERT still decides on its own (a copy inside the same batch
        inserts nothing), and a burst costs one write, not one each."""
        with self._lock:
            conn = self.db.conn
            conn.execute("PRAGMA busy_timeout = 1000")  # BUSY_MS
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    firsts = [
                        conn.execute(
                            "INSERT OR IGNORE INTO seen_requests (signature, request_ts)"
                            " VALUES (?, ?)",
                            (signature, timestamp),
                        ).rowcount
                        == 1
                        for signature, timestamp in requests
                    ]
                    if now - self._pruned_at > PRUNE_EVERY_S:
                        conn.execute(
                            "DELETE FROM seen_requests WHERE request_ts < ?",
                            (int(now) - WINDOW_S - 1,),
                        )
                        self._pruned_at = now
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except sqlite3.Error:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            finally:
                conn.execute("PRAGMA busy_timeout = 5000")  # back to BUSY_TIMEOUT_MS
        return firsts

    def count(self) -> int:
        with self._read() as db:
            return int(db.conn.execute("SELECT COUNT(*) FROM seen_requests").fetchone()[0])
