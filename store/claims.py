"""Single-use action tokens: a confirmation button runs its command exactly once.

The claim is a database fact, not a memory flag: one conditional UPDATE flips
the token from ``open`` to ``used`` (or ``cancelled``), and SQLite's write lock
guarantees that of any number of clicks, threads or processes only one sees a
changed row.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from store.db import Component, check_no_secrets, dump_json, first_as, iso, iso_after, json_field

FINAL_STATES = ("used", "cancelled")


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
