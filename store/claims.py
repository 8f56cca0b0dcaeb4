"""Decisions made exactly once: confirmation tokens and two-person approvals.

A decision is a database fact, not a memory flag: one conditional UPDATE moves the
row out of ``open`` (``WHERE state = 'open' AND expires_at > now``), and SQLite's
write lock guarantees that of any number of clicks, threads or processes only one
sees a changed row.

- A *claim* is a single-use action token: a confirmation button runs its command
  exactly once (``open`` → ``used`` or ``cancelled``).
- An *approval* is a dangerous command waiting until someone else decides. The rules
  about *who* may decide live in bot/approvals.py; the SQL repeats the two that must
  never be broken (the requester never approves, only the requester cancels) so a bug
  above cannot bypass them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from store.db import (
    Component,
    all_as,
    check_no_secrets,
    dump_json,
    each,
    first_as,
    iso,
    iso_after,
    json_field,
)

FINAL_STATES = ("used", "cancelled")
APPROVAL_STATES = ("open", "approved", "rejected", "cancelled", "expired")
DECISIONS = ("approved", "rejected", "cancelled")


@dataclass(frozen=True)
class Claim:
    """A token as stored."""

    token: str
    action: str
    campaign_id: int | None
    created_by: str
    channel_id: str | None
    payload: Any = json_field()
    created_at: str
    expires_at: str
    state: str
    used_by: str | None
    used_at: str | None


@dataclass(frozen=True)
class ClaimResult:
    """What a claim attempt found.

    ``ok`` is True for exactly one caller. Otherwise ``state`` says why:
    ``used``/``cancelled`` (with ``by_user`` and ``at``), ``expired`` or
    ``missing`` (no such token).
    """

    ok: bool
    state: str
    action: str | None = None
    campaign_id: int | None = None
    by_user: str | None = None
    at: str | None = None
    payload: Any = None


class Claims(Component):
    """Issue and claim single-use tokens."""

    def issue(
        self,
        *,
        action: str,
        campaign_id: int | None,
        user_id: str,
        channel_id: str | None,
        payload: Any = None,
        ttl_s: float = 1800,
    ) -> str:
        """Store a new open token and return it (unguessable: 128 random bits)."""
        if payload is not None:
            check_no_secrets(payload, "payload")
        now = self._clock()
        token = secrets.token_urlsafe(16)
        with self._write() as db:
            db.execute(
                "INSERT INTO claims (token, action, campaign_id, created_by, channel_id,"
                " payload, created_at, expires_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open')",
                [
                    token,
                    action,
                    None if campaign_id is None else int(campaign_id),
                    str(user_id),
                    channel_id,
                    None if payload is None else dump_json(payload),
                    iso(now),
                    iso_after(now, ttl_s),
                ],
            )
        return token

    def get(self, token: str) -> Claim | None:
        """The token as stored, or None."""
        with self._read() as db:
            return first_as(Claim, db.query("SELECT * FROM claims WHERE token = ?", [token]))

    def claim(self, token: str, *, user_id: str, final_state: str = "used") -> ClaimResult:
        """Flip an open, unexpired token to ``final_state``; ok for exactly one caller."""
        if final_state not in FINAL_STATES:
            raise ValueError(f"final_state: expected one of {FINAL_STATES}, got {final_state!r}")
        now = self._now()
        with self._write() as db:
            cursor = db.execute(
                "UPDATE claims SET state = ?, used_by = ?, used_at = ?"
                " WHERE token = ? AND state = 'open' AND expires_at > ?",
                [final_state, str(user_id), now, token, now],
            )
            won = cursor.rowcount == 1
            if not won:
                # Record expiry so operators see it; no effect on a used token.
                db.execute(
                    "UPDATE claims SET state = 'expired'"
                    " WHERE token = ? AND state = 'open' AND expires_at <= ?",
                    [token, now],
                )
            row = self.get(token)
        if row is None:
            return ClaimResult(ok=False, state="missing")
        return ClaimResult(
            ok=won,
            state=row.state,
            action=row.action,
            campaign_id=row.campaign_id,
            by_user=row.used_by,
            at=row.used_at,
            payload=row.payload,
        )


# --- approvals -------------------------------------------------------------------


@dataclass(frozen=True)
class Approval:
    """One request for a second person's approval, as stored."""

    id: int
    command: str
    campaign_id: int
    campaign_name: str | None
    previous_state: str | None
    requested_by: str
    requested_by_name: str | None
    team_id: str | None
    channel_id: str | None
    message_ts: str | None
    created_at: str
    expires_at: str
    state: str
    decided_by: str | None
    decided_at: str | None
    # The copy posted in APPROVAL_CHANNEL when that is not the channel of origin.
    copy_channel_id: str | None = None
    copy_message_ts: str | None = None
    # An admin's calling-hours override as the confirmation carried it (bot.control
    # OVERRIDE_KEYS), or None.
    hours_override: Any = json_field(default=None)


@dataclass(frozen=True)
class Decision:
    """What a decide() call found: ``ok`` for the one caller whose decision counted.

    ``expired_now`` is True for the one caller who noticed the expiry, so
    exactly one audit row and one message update record it.
    """

    ok: bool
    approval: Approval | None
    expired_now: bool = False


class Approvals(Component):
    """Open, decide, expire and look up approval requests."""

    def open(
        self,
        *,
        command: str,
        campaign_id: int,
        requested_by: str,
        ttl_s: float,
        campaign_name: str | None = None,
        previous_state: str | None = None,
        requested_by_name: str | None = None,
        team_id: str | None = None,
        channel_id: str | None = None,
        hours_override: Any = None,
    ) -> Approval:
        """Store a new open request that expires ``ttl_s`` seconds from now."""
        if hours_override is not None:
            check_no_secrets(hours_override, "hours_override")
        now = self._clock()
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO approvals (command, campaign_id, campaign_name, previous_state,"
                " requested_by, requested_by_name, team_id, channel_id, created_at, expires_at,"
                " hours_override) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    command,
                    int(campaign_id),
                    campaign_name,
                    previous_state,
                    str(requested_by),
                    requested_by_name,
                    team_id,
                    channel_id,
                    iso(now),
                    iso_after(now, ttl_s),
                    None if hours_override is None else dump_json(hours_override),
                ],
            )
            approval = self.get(int(cursor.lastrowid or 0))
        assert approval is not None
        return approval

    def set_message(self, approval_id: int, channel_id: str, ts: str) -> None:
        """Remember where the request was posted, so any later decision can update it."""
        with self._write() as db:
            db.execute(
                "UPDATE approvals SET channel_id = ?, message_ts = ? WHERE id = ?",
                [channel_id, ts, int(approval_id)],
            )

    def set_copy(self, approval_id: int, channel_id: str, ts: str) -> None:
        """Remember the copy in the approvers' channel, so a decision updates it too."""
        with self._write() as db:
            db.execute(
                "UPDATE approvals SET copy_channel_id = ?, copy_message_ts = ? WHERE id = ?",
                [channel_id, ts, int(approval_id)],
            )

    def get(self, approval_id: int) -> Approval | None:
        """One request by id, whatever its state."""
        with self._read() as db:
            return first_as(
                Approval, db.query("SELECT * FROM approvals WHERE id = ?", [int(approval_id)])
            )

    def decide(self, approval_id: int, *, user_id: str, state: str) -> Decision:
        """Move an open, unexpired request to ``state``; ok for exactly one caller.

        Approving is refused for the requester, cancelling for anyone else,
        here in SQL as well as in the service above.
        """
        if state not in DECISIONS:
            raise ValueError(f"state: expected one of {DECISIONS}, got {state!r}")
        now = self._now()
        sql = (
            "UPDATE approvals SET state = ?, decided_by = ?, decided_at = ?"
            " WHERE id = ? AND state = 'open' AND expires_at > ?"
        )
        params: list[Any] = [state, str(user_id), now, int(approval_id), now]
        if state == "approved":
            sql += " AND requested_by != ?"
            params.append(str(user_id))
        elif state == "cancelled":
            sql += " AND requested_by = ?"
            params.append(str(user_id))
        with self._write() as db:
            won = db.execute(sql, params).rowcount == 1
            expired_now = False
            if not won:
                expired_now = (
                    db.execute(
                        "UPDATE approvals SET state = 'expired', decided_at = ?"
                        " WHERE id = ? AND state = 'open' AND expires_at <= ?",
                        [now, int(approval_id), now],
                    ).rowcount
                    == 1
                )
            approval = self.get(approval_id)
        return Decision(won, approval, expired_now)

    def expire_due(self) -> list[Approval]:
        """Mark every open request past its expiry as expired; returns those this call changed."""
        now = self._now()
        with self._write() as db:
            ids = [
                row["id"]
                for row in db.query(
                    "SELECT id FROM approvals WHERE state = 'open' AND expires_at <= ? ORDER BY id",
                    [now],
                )
            ]
            for approval_id in ids:
                db.execute(
                    "UPDATE approvals SET state = 'expired', decided_at = ?"
                    " WHERE id = ? AND state = 'open'",
                    [now, approval_id],
                )
            return each(self.get, ids)

    def open_requests(self) -> list[Approval]:
        """Every request still waiting, oldest first (for operators and tests)."""
        with self._read() as db:
            return all_as(
                Approval, db.query("SELECT * FROM approvals WHERE state = 'open' ORDER BY id")
            )
