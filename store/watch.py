"""The campaign watcher's shared state: the lease, the outage bookkeeping and the campaign
list as last seen. One ``watch_state`` row, shared by every bot process.

Only the holder of the lease polls the dialer. Taking it is one conditional UPDATE
(free, expired, or already ours), so of two processes exactly one watches; a holder
that dies simply stops renewing and the other takes over once the lease runs out.
The outage counters live here too, so a restart neither forgets an outage nor
announces it again.

A poll's outcome is committed in one transaction: the new snapshot rows, the events'
notifications (into the outbox) and the lease bookkeeping. It only commits while its
process holds the lease *and* the snapshot is still the version it diffed against
(one conditional UPDATE), so an event is queued exactly once however many processes
poll, crash or restart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from store.db import Component, dump_json, first_as, iso, iso_after, load_json
from store.outbox import Delivery, insert_deliveries

DOWN_AFTER_FAILURES = 3
# How the campaign form's audit row names the campaign it created
# (handlers/campaign_form/listeners.py).
CREATED_ID = re.compile(r"#(\d+):")


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


# --- the snapshot ------------------------------------------------------------------


class LostLease(Exception):
    """Another process took the lease or committed first: this poll's diff is void."""


class Snapshot(Component):
    """Read the stored campaign list; commit a poll."""

    def load(self) -> tuple[int, dict[int, dict[str, Any]]]:
        """The snapshot's version and its campaigns by id."""
        with self._read() as db:
            version = db.conn.execute("SELECT version FROM watch_state WHERE id = 1").fetchone()
            rows = db.conn.execute("SELECT campaign_id, data FROM campaign_snapshot").fetchall()
        return int(version[0]), {int(r[0]): load_json(r[1]) for r in rows}

    def version(self) -> int:
        with self._read() as db:
            return int(
                db.conn.execute("SELECT version FROM watch_state WHERE id = 1").fetchone()[0]
            )

    def commit(
        self,
        holder: str,
        version: int,
        *,
        lease_s: float,
        etag: str | None,
        upserts: dict[int, dict[str, Any]],
        removed: list[int],
        deliveries: list[Delivery],
        recovery: list[Delivery] | None = None,
        polled_at: datetime | None = None,
    ) -> int:
        """Store one successful poll; returns the new version or raises LostLease.

        ``recovery`` is the "reachable again" message, queued only by the commit that
        ends an announced outage.
        """
        now = self._clock()
        stamp = iso(now)
        polled = iso(polled_at or now)
        with self._write() as db:
            cursor = db.execute(
                "UPDATE watch_state SET version = version + 1, etag = ?, polled_at = ?,"
                " baseline_at = COALESCE(baseline_at, ?), failures = 0, failing_since = NULL,"
                " last_error = NULL, lease_until = ?"
                " WHERE id = 1 AND holder = ? AND lease_until >= ? AND version = ?",
                [etag, polled, stamp, iso_after(now, lease_s), holder, stamp, version],
            )
            if cursor.rowcount != 1:
                raise LostLease()
            for campaign_id, data in upserts.items():
                db.execute(
                    "INSERT INTO campaign_snapshot (campaign_id, data) VALUES (?, ?)"
                    " ON CONFLICT (campaign_id) DO UPDATE SET data = excluded.data",
                    [int(campaign_id), dump_json(data)],
                )
            for campaign_id in removed:
                db.execute("DELETE FROM campaign_snapshot WHERE campaign_id = ?", [campaign_id])
            if recovery is not None:
                ended = db.execute(
                    "UPDATE watch_state SET down_announced = 0 WHERE id = 1 AND down_announced = 1"
                )
                if ended.rowcount == 1:
                    insert_deliveries(db, stamp, recovery)
            else:
                db.execute("UPDATE watch_state SET down_announced = 0 WHERE id = 1")
            insert_deliveries(db, stamp, deliveries)
            return version + 1

    def learn(self, campaign_id: int, state: str | None) -> bool:
        """What Slack last showed about a campaign after one of the bot's own commands:
        ``state`` becomes its state in the snapshot (None: it is gone). The version moves
        on and the ETag is forgotten, so a poll that diffed the older snapshot commits
        nothing and the next one compares the dialer with what Slack showed: a change
        made outside Slack right after the bot's command is announced. True when it changed."""
        with self._write() as db:
            row = db.conn.execute(
                "SELECT data FROM campaign_snapshot WHERE campaign_id = ?", [int(campaign_id)]
            ).fetchone()
            if row is None:
                return False  # never seen by the watcher: its next poll shows it as it is
            if state is None:
                db.execute("DELETE FROM campaign_snapshot WHERE campaign_id = ?", [campaign_id])
            else:
                data = load_json(row[0])
                if data.get("state") == state:
                    return False
                data["state"] = state
                db.execute(
                    "UPDATE campaign_snapshot SET data = ? WHERE campaign_id = ?",
                    [dump_json(data), int(campaign_id)],
                )
            db.execute("UPDATE watch_state SET version = version + 1, etag = NULL WHERE id = 1")
            return True

    def own_changes(self, since: str) -> set[tuple[int, str]]:
        """(campaign id, action) of the bot's own successful requests completed since then.

        What the watcher must not announce a second time: the bot already did.
        """
        with self._read() as db:
            rows = db.conn.execute(
                "SELECT campaign_id, action, detail FROM audit_requests WHERE outcome = 'ok'"
                " AND (campaign_id IS NOT NULL OR action = 'create_campaign')"
                " AND COALESCE(completed_ts, ts) >= ?",
                [since],
            ).fetchall()
        found = set()
        for campaign_id, action, detail in rows:
            if campaign_id is None:  # a create: the new id is in its detail, "#<id>: …"
                match = CREATED_ID.match(detail or "")
                if match is None:
                    continue
                campaign_id = match.group(1)
            found.add((int(campaign_id), str(action)))
        return found

    def in_flight(self, since: datetime) -> set[int]:
        """Campaigns with a control command sent since then whose answer is not recorded yet."""
        with self._read() as db:
            rows = db.conn.execute(
                "SELECT DISTINCT campaign_id FROM audit_requests WHERE outcome = 'pending'"
                " AND campaign_id IS NOT NULL AND ts >= ?",
                [iso(since)],
            ).fetchall()
        return {int(r[0]) for r in rows}
