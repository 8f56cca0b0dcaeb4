"""Scheduled commands: each row runs at most once, whatever restarts or processes do.

Claiming is one conditional UPDATE … RETURNING: every pending row that is due (and
not older than the grace period) flips to ``running`` in a single statement under
SQLite's write lock, so of any number of processes exactly one gets each row. Rows
older than the grace period flip to ``missed`` the same way and are never run late.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from store.db import Component, all_as, first_as, iso

OPEN_STATES = ("awaiting", "pending")
FINAL_STATES = ("done", "failed", "cancelled", "missed", "revoked", "removed")


@dataclass(frozen=True)
class Schedule:
    """One scheduled command, as stored. Times are ISO 8601 UTC; ``tz`` is how it was read."""

    id: int
    command: str
    campaign_id: int
    campaign_name: str | None
    due_at: str
    tz: str
    created_by: str
    created_by_name: str | None
    team_id: str | None
    channel_id: str | None
    created_at: str
    approved_by: str | None
    state: str
    claimed_at: str | None
    finished_at: str | None
    finished_by: str | None
    detail: str | None
    audit_id: int | None


class Schedules(Component):
    """Add, approve, cancel, claim and finish scheduled commands."""

    def add(
        self,
        *,
        command: str,
        campaign_id: int,
        due_at: datetime,
        tz: str,
        created_by: str,
        campaign_name: str | None = None,
        created_by_name: str | None = None,
        team_id: str | None = None,
        channel_id: str | None = None,
        awaiting_approval: bool = False,
    ) -> Schedule:
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO schedules (command, campaign_id, campaign_name, due_at, tz,"
                " created_by, created_by_name, team_id, channel_id, created_at, state)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    command,
                    int(campaign_id),
                    campaign_name,
                    iso(due_at),
                    tz,
                    str(created_by),
                    created_by_name,
                    team_id,
                    channel_id,
                    self._now(),
                    "awaiting" if awaiting_approval else "pending",
                ],
            )
            row = self.get(int(cursor.lastrowid or 0))
        assert row is not None
        return row

    def get(self, schedule_id: int) -> Schedule | None:
        with self._read() as db:
            return first_as(
                Schedule, db.query("SELECT * FROM schedules WHERE id = ?", [int(schedule_id)])
            )

    def open(self) -> list[Schedule]:
        """Every schedule still to run (or awaiting approval), soonest first."""
        with self._read() as db:
            return all_as(
                Schedule,
                db.query(
                    "SELECT * FROM schedules WHERE state IN ('awaiting', 'pending')"
                    " ORDER BY due_at, id"
                ),
            )

    def next_due(self) -> str | None:
        """The earliest due time of a pending schedule, for the runner's sleep."""
        with self._read() as db:
            rows = list(
                db.query("SELECT MIN(due_at) AS due FROM schedules WHERE state = 'pending'")
            )
        return rows[0]["due"] if rows else None

    def approve(self, schedule_id: int, *, user_id: str) -> bool:
        """awaiting → pending, never by the requester; True for the one caller that decided."""
        with self._write() as db:
            return (
                db.execute(
                    "UPDATE schedules SET state = 'pending', approved_by = ?"
                    " WHERE id = ? AND state = 'awaiting' AND created_by != ?",
                    [str(user_id), int(schedule_id), str(user_id)],
                ).rowcount
                == 1
            )

    def cancel(self, schedule_id: int, *, user_id: str, any_owner: bool) -> bool:
        """Cancel an open schedule: one's own, or any when ``any_owner`` (an admin)."""
        sql = (
            "UPDATE schedules SET state = 'cancelled', finished_at = ?, finished_by = ?"
            " WHERE id = ? AND state IN ('awaiting', 'pending')"
        )
        params: list[Any] = [self._now(), str(user_id), int(schedule_id)]
        if not any_owner:
            sql += " AND created_by = ?"
            params.append(str(user_id))
        with self._write() as db:
            return db.execute(sql, params).rowcount == 1

    def claim_due(self, grace_s: float) -> tuple[list[Schedule], list[Schedule]]:
        """(to run now, missed): each pending, due row goes to exactly one caller, once.

        Missed: pending longer ago than the grace period, or still awaiting approval at its
        time (an approval after the time would run it late).

        Both are single conditional UPDATEs inside one transaction; a row is in at most
        one list of at most one caller, ever.
        """
        now = self._clock()
        cutoff = iso(now - timedelta(seconds=grace_s))
        stamp = iso(now)
        with self._write() as db:
            missed = _rows(
                db.conn.execute(
                    "UPDATE schedules SET state = 'missed', finished_at = ?,"
                    " detail = CASE state WHEN 'awaiting'"
                    " THEN 'nobody approved it before its time'"
                    " ELSE 'the bot was not running at the due time' END"
                    " WHERE (state = 'pending' AND due_at < ?)"
                    " OR (state = 'awaiting' AND due_at <= ?) RETURNING *",
                    [stamp, cutoff, stamp],
                )
            )
            due = _rows(
                db.conn.execute(
                    "UPDATE schedules SET state = 'running', claimed_at = ?"
                    " WHERE state = 'pending' AND due_at <= ? RETURNING *",
                    [stamp, stamp],
                )
            )
        key = lambda s: (s.due_at, s.id)  # noqa: E731
        return sorted(all_as(Schedule, due), key=key), sorted(all_as(Schedule, missed), key=key)

    def interrupted(self, older_than_s: float) -> list[Schedule]:
        """Rows left ``running`` by a process that stopped mid-command: marked failed, never
        run again (the command may have reached the dialer; the audit log says ``unknown``)."""
        cutoff = iso(self._clock() - timedelta(seconds=older_than_s))
        with self._write() as db:
            rows = _rows(
                db.conn.execute(
                    "UPDATE schedules SET state = 'failed', finished_at = ?,"
                    " detail = 'the bot stopped while running it; not run again'"
                    " WHERE state = 'running' AND claimed_at < ? RETURNING *",
                    [self._now(), cutoff],
                )
            )
        return all_as(Schedule, rows)

    def finish(
        self, schedule_id: int, *, state: str, detail: str | None, audit_id: int | None = None
    ) -> None:
        """running → a final state, with what happened."""
        if state not in FINAL_STATES:
            raise ValueError(f"state: expected one of {FINAL_STATES}, got {state!r}")
        with self._write() as db:
            db.execute(
                "UPDATE schedules SET state = ?, detail = ?, audit_id = ?, finished_at = ?"
                " WHERE id = ? AND state = 'running'",
                [state, detail, audit_id, self._now(), int(schedule_id)],
            )


def _rows(cursor: Any) -> list[dict[str, Any]]:
    """Rows an UPDATE … RETURNING changed, read before the transaction commits."""
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
