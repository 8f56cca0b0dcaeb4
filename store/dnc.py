"""The do-not-call list: numbers nobody may be called at, each with the change that put it
there (who, when, why, from which file).

A number is the INTEGER of its E.164 digits (``+420601123456`` → 420601123456), the
table's rowid: compact, and one B-tree search to look up. Parsing and formatting numbers
is bot/numbers' work; this module only stores and finds the integers. The audit log says
that a change happened (bot/audit.py); these tables say which numbers it touched.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from store.db import BUSY_TIMEOUT_MS, Component, all_as, first_as

ACTIONS = ("add", "remove")
EXPORT_HEADER = ("number", "added_at", "added_by", "added_by_name", "reason", "source")
SCREEN_BATCH = 50_000  # numbers per lookup query: one JSON array, one statement


def e164(key: int) -> str:
    """The number a stored key stands for."""
    return f"+{key}"


def key_of(number: str) -> int:
    """The stored key of an E.164 number (``+`` and up to 15 digits, as bot/numbers gives)."""
    return int(number.removeprefix("+"))


@dataclass(frozen=True)
class Change:
    """One add or remove: who, when, why, from which file, and how many numbers it changed."""

    id: int
    ts: str
    action: str
    user_id: str | None
    user_name: str | None
    reason: str | None
    source: str | None
    numbers: int
    audit_id: int | None


@dataclass(frozen=True)
class Listed:
    """A number on the list, with the change that added it."""

    number: int
    ts: str
    user_id: str | None
    user_name: str | None
    reason: str | None
    source: str | None

    @property
    def e164(self) -> str:
        return e164(self.number)


class DoNotCall(Component):
    """Add, remove, look up, screen and export do-not-call numbers."""

    def begin(
        self,
        action: str,
        *,
        user_id: str | None,
        user_name: str | None,
        reason: str | None,
        source: str | None,
        audit_id: int | None,
    ) -> int:
        """A change row with no numbers yet; a file's import adds its batches to it."""
        if action not in ACTIONS:
            raise ValueError(f"action: expected one of {ACTIONS}, got {action!r}")
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO dnc_changes (ts, action, user_id, user_name, reason, source,"
                " numbers, audit_id) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                [self._now(), action, user_id, user_name, reason, source, audit_id],
            )
            return int(cursor.lastrowid or 0)

    def change(
        self,
        action: str,
        keys: Sequence[int],
        *,
        user_id: str | None,
        user_name: str | None,
        reason: str | None,
        audit_id: int | None,
    ) -> tuple[int, int]:
        """Typed numbers added or removed under a new change row: (change id, how many
        numbers it changed). A crash between the two leaves a change of 0 numbers, which
        changes nothing and is not listed."""
        change_id = self.begin(
            action,
            user_id=user_id,
            user_name=user_name,
            reason=reason,
            source=None,
            audit_id=audit_id,
        )
        done = self.add(change_id, keys) if action == "add" else self.remove(change_id, keys)
        return change_id, done

    def numbers_of(self, change_id: int) -> int:
        """How many numbers a change has changed so far (an import in progress)."""
        with self._read() as db:
            row = db.conn.execute(
                "SELECT numbers FROM dnc_changes WHERE id = ?", [change_id]
            ).fetchone()
        return int(row[0]) if row else 0

    def add(self, change_id: int, keys: Sequence[int]) -> int:
        """Add the numbers not listed yet (sorted first: B-tree inserts in order); returns
        how many were new. The change's count moves in the same transaction, so the list's
        size (a sum over changes) is always exact."""
        if not keys:
            return 0
        data = json.dumps(sorted(keys))
        with self._write() as db:
            before = db.conn.total_changes
            db.execute(
                "INSERT OR IGNORE INTO dnc (number, change_id) SELECT value, ? FROM json_each(?)",
                [change_id, data],
            )
            added = db.conn.total_changes - before
            db.execute(
                "UPDATE dnc_changes SET numbers = numbers + ? WHERE id = ?", [added, change_id]
            )
        return added

    def importer(self, change_id: int) -> Importer:
        """A writer of its own for a file's import (see :class:`Importer`)."""
        return Importer(self._file(), change_id)

    def remove(self, change_id: int, keys: Sequence[int]) -> int:
        """Remove the listed ones among ``keys``; returns how many were listed."""
        if not keys:
            return 0
        with self._write() as db:
            before = db.conn.total_changes
            db.execute(
                "DELETE FROM dnc WHERE number IN (SELECT value FROM json_each(?))",
                [json.dumps(list(keys))],
            )
            removed = db.conn.total_changes - before
            db.execute(
                "UPDATE dnc_changes SET numbers = numbers + ? WHERE id = ?", [removed, change_id]
            )
        return removed

    def check(self, key: int) -> Listed | None:
        with self._read() as db:
            return first_as(
                Listed,
                db.query(
                    "SELECT d.number, c.ts, c.user_id, c.user_name, c.reason, c.source"
                    " FROM dnc AS d JOIN dnc_changes AS c ON c.id = d.change_id"
                    " WHERE d.number = ?",
                    [key],
                ),
            )

    def listed(self, keys: Sequence[int]) -> set[int]:
        """Which of ``keys`` are on the list: the call-list upload's screen."""
        found: set[int] = set()
        with self._read() as db:
            for start in range(0, len(keys), SCREEN_BATCH):
                data = json.dumps(list(keys[start : start + SCREEN_BATCH]))
                found.update(
                    row[0]
                    for row in db.conn.execute(
                        "SELECT number FROM dnc WHERE number IN (SELECT value FROM json_each(?))",
                        [data],
                    )
                )
        return found

    def count(self) -> int:
        """How many numbers are listed: the sum of the changes, not a scan of 10M rows."""
        with self._read() as db:
            (total,) = db.conn.execute(
                "SELECT COALESCE(SUM(CASE action WHEN 'add' THEN numbers ELSE -numbers END), 0)"
                " FROM dnc_changes"
            ).fetchone()
        return int(total)

    def version(self) -> list[int]:
        """Changes when a number is added (a new change, or a batch of an import): a call
        list checked against one version may hold numbers added after it."""
        with self._read() as db:
            adds, numbers = db.conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(numbers), 0) FROM dnc_changes WHERE action = 'add'"
            ).fetchone()
        return [int(adds), int(numbers)]

    def recent(self, limit: int = 5) -> list[Change]:
        """The latest changes that changed something, newest first."""
        with self._read() as db:
            return all_as(
                Change,
                db.query(
                    "SELECT * FROM dnc_changes WHERE numbers > 0 ORDER BY id DESC LIMIT ?",
                    [limit],
                ),
            )

    def export_csv(self, path: Path) -> int:
        """Every listed number as CSV (UTF-8 with a BOM, as Excel writes it) into ``path``;
        returns how many. A connection of its own reads a snapshot (WAL), so a long export
        never holds the store's lock."""
        conn = sqlite3.connect(self._file(), timeout=BUSY_TIMEOUT_MS / 1000)
        rows = 0
        try:
            cursor = conn.execute(
                "SELECT d.number, c.ts, c.user_id, c.user_name, c.reason, c.source"
                " FROM dnc AS d JOIN dnc_changes AS c ON c.id = d.change_id ORDER BY d.number"
            )
            with path.open("w", encoding="utf-8-sig", newline="") as out:
                writer = csv.writer(out)
                writer.writerow(EXPORT_HEADER)
                while batch := cursor.fetchmany(10_000):
                    writer.writerows((e164(n), *rest) for n, *rest in batch)
                    rows += len(batch)
        finally:
            conn.close()
        return rows

    def _file(self) -> str:
        """The database file, for the connections of an import or an export."""
        with self._read() as db:
            row = db.conn.execute("PRAGMA database_list").fetchone()
        return str(row[2])


class Importer:
    """Adds a file's numbers to a change, one batch per transaction, on a connection of its
    own: the store's lock is never held during an import (the bot's other reads and writes
    go on), and a large page cache keeps inserts into a 10,000,000-row table quick. Only
    another writer waits, for at most one batch. Used from one thread at a time."""

    CACHE_KIB = 64 * 1024

    def __init__(self, path: str, change_id: int) -> None:
        self._conn = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
        self._conn.execute("PRAGMA busy_timeout = 5000")  # BUSY_TIMEOUT_MS
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.execute("PRAGMA cache_size = -65536")  # CACHE_KIB
        self.change_id = change_id

    def add(self, keys: Sequence[int]) -> int:
        """As :meth:`DoNotCall.add`: the new numbers and the change's count, in one commit."""
        if not keys:
            return 0
        data = json.dumps(sorted(keys))
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            before = conn.total_changes
            conn.execute(
                "INSERT OR IGNORE INTO dnc (number, change_id) SELECT value, ? FROM json_each(?)",
                [self.change_id, data],
            )
            added = conn.total_changes - before
            conn.execute(
                "UPDATE dnc_changes SET numbers = numbers + ? WHERE id = ?",
                [added, self.change_id],
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return added

    def close(self) -> None:
        self._conn.close()
