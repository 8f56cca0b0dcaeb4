"""Role grants: who may view, operate or administer, everywhere or per channel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from store.db import Component, all_as, each, first_as

ROLES = ("viewer", "operator", "admin")


@dataclass(frozen=True)
class Grant:
    """One role for one user; ``channel_id`` None means in every channel."""

    id: int
    user_id: str
    role: str
    channel_id: str | None
    granted_by: str | None
    granted_at: str


class Grants(Component):
    """Store and look up role grants (the rules that use them live in bot/access.py)."""

    def grant(
        self,
        user_id: str,
        role: str,
        channel_ids: list[str] | None,
        granted_by: str | None,
    ) -> list[Grant]:
        """Give ``role`` in each channel (None = everywhere); returns the grants newly added.

        Granting what a user already has is a no-op, so repeating a command is safe.
        """
        if role not in ROLES:
            raise ValueError(f"role: expected one of {ROLES}, got {role!r}")
        targets: list[str | None] = [None] if channel_ids is None else list(channel_ids)
        if not targets:
            raise ValueError("channel_ids: give at least one channel, or None for everywhere")
        now = self._now()
        added: list[int] = []
        with self._write() as db:
            for channel_id in targets:
                cursor = db.execute(
                    "INSERT OR IGNORE INTO grants (user_id, role, channel_id, granted_by,"
                    " granted_at) VALUES (?, ?, ?, ?, ?)",
                    [user_id, role, channel_id, granted_by, now],
                )
                if cursor.rowcount == 1:
                    added.append(int(cursor.lastrowid or 0))
            return each(self._get, added)

    def revoke(
        self, user_id: str, role: str | None = None, channel_ids: list[str] | None = None
    ) -> int:
        """Remove the user's grants (of one role, or all; in the channels named, or
        wherever they apply); returns how many went."""
        sql = "DELETE FROM grants WHERE user_id = ?"
        params: list[Any] = [user_id]
        if role is not None:
            if role not in ROLES:
                raise ValueError(f"role: expected one of {ROLES}, got {role!r}")
            sql += " AND role = ?"
            params.append(role)
        if channel_ids is None:
            with self._write() as db:
                return db.execute(sql, params).rowcount
        sql += " AND channel_id = ?"
        removed = 0
        with self._write() as db:
            for channel_id in dict.fromkeys(channel_ids):
                removed += db.execute(sql, [*params, channel_id]).rowcount
        return removed

    def for_user(self, user_id: str) -> list[Grant]:
        """Every grant of one user, oldest first."""
        with self._read() as db:
            return all_as(
                Grant, db.query("SELECT * FROM grants WHERE user_id = ? ORDER BY id", [user_id])
            )

    def all(self) -> list[Grant]:
        """Every grant, by user then age (for ``/dialer access`` listings)."""
        with self._read() as db:
            return all_as(Grant, db.query("SELECT * FROM grants ORDER BY user_id, id"))

    def _get(self, grant_id: int) -> Grant | None:
        with self._read() as db:
            return first_as(Grant, db.query("SELECT * FROM grants WHERE id = ?", [grant_id]))
