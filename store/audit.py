"""The audit log: append-only, hash-chained, written ahead of every dialer call; its export,
its anchors and its backup.

Rows are never updated. A request is first written as ``pending``; its result
is a second row (``ref_id`` = the pending row's id) so completing a request
never rewrites history and the chain stays verifiable. The ``audit_requests``
view joins the two into one line per request for operators.

Each row's ``hash`` is SHA-256 over the canonical JSON of all its other
columns, ``prev_hash`` (the previous row's hash) included, so an edited,
inserted or deleted row breaks the chain where it happened.

A forger who rewrites the file can recompute every hash after an edit, so the chain alone
cannot prove anything about itself. An *anchor*, a copy of entry N's hash kept elsewhere
(a Slack message the bot posted, which the file's owner cannot edit), can: if entries up
to N were rewritten, entry N's hash changes, because each hash covers the previous one.
The bot records each post as an ``anchor`` row, so the chain also says where to find its
anchors.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from store.db import (
    BUSY_TIMEOUT_MS,
    Component,
    all_as,
    check_no_secrets,
    dump_json,
    each,
    first_as,
    json_field,
    parse_since,
    utc_now,
)

GENESIS_HASH = "0" * 64
OUTCOMES = ("pending", "ok", "failed", "denied", "unknown")
COMPLETION_OUTCOMES = ("ok", "failed", "unknown")
RECORD_OUTCOMES = ("ok", "failed", "denied", "unknown")
UNKNOWN_DETAIL = "the bot stopped before the dialer's answer was recorded"

# Columns covered by the hash: every column except ``hash``. A later migration
# that adds a column must decide explicitly whether new rows hash it.
HASHED_COLUMNS = (
    "id",
    "ts",
    "team_id",
    "user_id",
    "user_name",
    "channel_id",
    "action",
    "campaign_id",
    "request",
    "outcome",
    "detail",
    "duration_ms",
    "ref_id",
    "prev_hash",
)
COLUMNS = (*HASHED_COLUMNS, "hash")

_BATCH = 500


def row_hash(row: Mapping[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON of the hashed columns of ``row``."""
    content = {name: row.get(name) for name in HASHED_COLUMNS}
    return hashlib.sha256(dump_json(content).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AuditEntry:
    """One request as operators see it (a line of the ``audit_requests`` view)."""

    id: int
    ts: str
    team_id: str | None
    user_id: str | None
    user_name: str | None
    channel_id: str | None
    action: str
    campaign_id: int | None
    request: dict[str, Any] | None = json_field()
    outcome: str
    detail: str | None
    duration_ms: int | None
    completion_id: int | None = None
    completed_ts: str | None = None


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of walking the chain; ``first_bad_id`` is where it breaks."""

    ok: bool
    count: int
    first_bad_id: int | None = None
    reason: str | None = None


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _opt_int(value: Any, name: str) -> int | None:
    """Coerce now, so the value read back later hashes exactly as it was written."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"{name}: expected an integer, got {value!r}")
    return int(value)


class AuditLog(Component):
    """Append-only chained audit log over one ``sqlite_utils.Database``."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        lock: threading.RLock | None = None,
        clock: Callable[[], datetime] = utc_now,
        *,
        request_id_source: Callable[[], str | None] | None = None,
    ) -> None:
        super().__init__(db, lock, clock)
        # The id of the Slack request being handled (the bot passes bot.logs.current_request_id),
        # added to the request JSON so a log line and an audit row can be joined.
        self.request_id_source = request_id_source

    # --- writing ---------------------------------------------------------

    def _append(self, fields: dict[str, Any]) -> int:
        """Chain and insert one row. Caller holds the lock and a write transaction."""
        last = self.db.conn.execute(
            "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1"
        ).fetchone()
        last_id = last[0] if last else 0
        next_id = max(last_id, self._last_issued_id()) + 1
        row = {name: None for name in HASHED_COLUMNS}
        row.update(fields)
        row["id"] = next_id
        row["ts"] = self._now()
        row["prev_hash"] = last[1] if last else GENESIS_HASH
        row["hash"] = row_hash(row)
        placeholders = ", ".join("?" for _ in COLUMNS)
        self.db.execute(
            f"INSERT INTO audit_log ({', '.join(COLUMNS)}) VALUES ({placeholders})",  # noqa: S608
            [row[name] for name in COLUMNS],
        )
        return next_id

    def _last_issued_id(self) -> int:
        """The highest id ever given out (AUTOINCREMENT remembers it after a delete)."""
        seq = self.db.conn.execute(
            "SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'"
        ).fetchone()
        return seq[0] if seq else 0

    def _request_fields(
        self,
        *,
        action: str,
        user_id: str | None,
        channel_id: str | None,
        team_id: str | None,
        user_name: str | None,
        campaign_id: int | None,
        request: Any,
    ) -> dict[str, Any]:
        if not action or not isinstance(action, str):
            raise ValueError("action: a non-empty string is required")
        if request is not None:
            check_no_secrets(request)
        rid = self.request_id_source() if self.request_id_source is not None else None
        if rid is not None and (request is None or isinstance(request, Mapping)):
            request = {**(request or {}), "request_id": rid}
        return {
            "action": action,
            "user_id": _opt_str(user_id),
            "channel_id": _opt_str(channel_id),
            "team_id": _opt_str(team_id),
            "user_name": _opt_str(user_name),
            "campaign_id": _opt_int(campaign_id, "campaign_id"),
            "request": None if request is None else dump_json(request),
        }

    def begin(
        self,
        *,
        action: str,
        user_id: str | None,
        channel_id: str | None,
        team_id: str | None = None,
        user_name: str | None = None,
        campaign_id: int | None = None,
        request: Any = None,
    ) -> int:
        """Write the pending row before the dialer is called; returns its id.

        A crash after this leaves a pending entry, never nothing.
        """
        fields = self._request_fields(
            action=action,
            user_id=user_id,
            channel_id=channel_id,
            team_id=team_id,
            user_name=user_name,
            campaign_id=campaign_id,
            request=request,
        )
        fields["outcome"] = "pending"
        with self._write():
            return self._append(fields)

    def complete(
        self,
        pending_id: int,
        *,
        outcome: str,
        detail: str | None = None,
        duration_ms: int | None = None,
        campaign_id: int | None = None,
    ) -> int:
        """Append the completion row for ``pending_id``; returns the new row's id.

        ``campaign_id`` names a campaign the request created (unknown when the pending
        row was written); otherwise the completion row repeats the pending row's.
        """
        if outcome not in COMPLETION_OUTCOMES:
            raise ValueError(f"outcome: expected one of {COMPLETION_OUTCOMES}, got {outcome!r}")
        with self._write():
            return self._complete(pending_id, outcome, detail, duration_ms, campaign_id)

    def _complete(
        self,
        pending_id: int,
        outcome: str,
        detail: str | None,
        duration_ms: int | None,
        campaign_id: int | None = None,
    ) -> int:
        pending = list(
            self.db.query("SELECT * FROM audit_log WHERE id = ? AND ref_id IS NULL", [pending_id])
        )
        if not pending:
            raise LookupError(f"audit entry {pending_id} does not exist")
        if pending[0]["outcome"] != "pending":
            raise ValueError(f"audit entry {pending_id} is not pending")
        source = pending[0]
        return self._append(
            {
                "team_id": source["team_id"],
                "user_id": source["user_id"],
                "user_name": source["user_name"],
                "channel_id": source["channel_id"],
                "action": source["action"],
                "campaign_id": _opt_int(
                    source["campaign_id"] if campaign_id is None else campaign_id, "campaign_id"
                ),
                "outcome": outcome,
                "detail": _opt_str(detail),
                "duration_ms": _opt_int(duration_ms, "duration_ms"),
                "ref_id": pending_id,
            }
        )

    def record(
        self,
        *,
        action: str,
        outcome: str,
        user_id: str | None,
        channel_id: str | None,
        team_id: str | None = None,
        user_name: str | None = None,
        campaign_id: int | None = None,
        request: Any = None,
        detail: str | None = None,
        duration_ms: int | None = None,
    ) -> int:
        """One-shot row for things with no dialer call in between (e.g. denied)."""
        if outcome not in RECORD_OUTCOMES:
            raise ValueError(f"outcome: expected one of {RECORD_OUTCOMES}, got {outcome!r}")
        fields = self._request_fields(
            action=action,
            user_id=user_id,
            channel_id=channel_id,
            team_id=team_id,
            user_name=user_name,
            campaign_id=campaign_id,
            request=request,
        )
        fields.update(
            outcome=outcome,
            detail=_opt_str(detail),
            duration_ms=_opt_int(duration_ms, "duration_ms"),
        )
        with self._write():
            return self._append(fields)

    def mark_unknown_pending(self) -> list[AuditEntry]:
        """Close every pending request that has no completion as ``unknown``.

        Meant for start-up: those requests were in flight when the bot stopped,
        so nobody knows whether the dialer acted. Returns them for reporting.
        """
        with self._lock:
            with self._write() as db:
                ids = [
                    row["id"]
                    for row in db.query(
                        "SELECT p.id FROM audit_log AS p WHERE p.outcome = 'pending'"
                        " AND p.ref_id IS NULL AND NOT EXISTS"
                        " (SELECT 1 FROM audit_log AS c WHERE c.ref_id = p.id) ORDER BY p.id"
                    )
                ]
                for pending_id in ids:
                    self._complete(pending_id, "unknown", UNKNOWN_DETAIL, None)
            return each(self.get, ids)

    # --- reading ---------------------------------------------------------

    def count(self) -> int:
        with self._read() as db:
            return int(db.conn.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0])

    def get(self, entry_id: int) -> AuditEntry | None:
        """One request by its (pending or one-shot) row id."""
        with self._read() as db:
            return first_as(
                AuditEntry, db.query("SELECT * FROM audit_requests WHERE id = ?", [entry_id])
            )

    def history(
        self,
        *,
        campaign_id: int | None = None,
        user_id: str | None = None,
        outcome: str | None = None,
        hide_denied: bool = False,
        before_id: int | None = None,
        limit: int = 10,
    ) -> list[AuditEntry]:
        """Latest requests first, one entry per request, optionally filtered.

        ``before_id`` pages further back (entries older than that id);
        ``hide_denied`` leaves refused clicks out of a campaign's last entries.

        With a filter, the candidates come from the history indexes (schema
        ``_v10_history_indexes``), newest first, from both rows a request may have: its own
        (a one-shot row, or the pending row, whose campaign and person the request keeps)
        and its completion (which holds the outcome, and the campaign a create made). At
        most ``limit`` of each, then the view checks every filter on the joined entry, so
        the answer is the view's own; over a million rows it takes milliseconds where a
        filter on the view alone read the log from its newest row back to the match.
        """
        # ``where`` filters the joined entry; ``own`` and ``done`` pick candidates from a
        # request's own row and from its completion row. A completion repeats its request's
        # person and campaign (or names the campaign a create made) and holds its outcome;
        # a row without completion is its own outcome, so only such rows count for one.
        where, own, done = "", "", ""
        params: list[Any] = []
        if campaign_id is not None:
            where += " AND campaign_id = ?"
            own += " AND campaign_id = ?"
            done += " AND campaign_id = ?"
            params.append(int(campaign_id))
        if user_id is not None:
            where += " AND user_id = ?"
            own += " AND user_id = ?"
            done += " AND user_id = ?"
            params.append(str(user_id))
        if outcome is not None:
            where += " AND outcome = ?"
            own += " AND outcome = ? AND NOT EXISTS"
            own += " (SELECT 1 FROM audit_log AS x WHERE x.ref_id = audit_log.id)"
            done += " AND outcome = ?"
            params.append(str(outcome))
        if hide_denied:
            where += " AND outcome != 'denied'"
            own += " AND outcome != 'denied'"
        filters = list(params)
        if before_id is not None:
            where += " AND id < ?"
            own += " AND id < ?"
            done += " AND ref_id < ?"
            params.append(int(before_id))
        n = int(limit)
        with self._read() as db:
            if not filters:
                rows = db.query(  # constants only (tests/test_secrets_and_escaping.py)
                    "SELECT * FROM audit_requests WHERE 1 = 1"  # noqa: S608
                    + where
                    + " ORDER BY id DESC LIMIT ?",
                    [*params, n],
                )
                return all_as(AuditEntry, rows)
            rows = db.query(  # constants only (tests/test_secrets_and_escaping.py)
                "SELECT * FROM audit_requests WHERE id IN ("  # noqa: S608
                " SELECT id FROM (SELECT id FROM audit_log WHERE ref_id IS NULL"
                + own
                + " ORDER BY id DESC LIMIT ?) UNION ALL SELECT ref_id FROM (SELECT ref_id"
                " FROM audit_log WHERE ref_id IS NOT NULL"
                + done
                + " ORDER BY ref_id DESC LIMIT ?))"
                + where
                + " ORDER BY id DESC LIMIT ?",
                [*params, n, *params, n, *params, n],  # own, done, where: the same values
            )
            return all_as(AuditEntry, rows)

    def _raw_rows(self, since: str | None = None) -> Iterator[dict[str, Any]]:
        """Raw rows by id, fetched in batches so the lock is never held across a yield."""
        after = 0
        where = ""
        params: list[Any] = []
        if since is not None:
            where = " AND ts >= ?"
            params.append(parse_since(since))
        while True:
            with self._lock:
                batch = list(
                    self.db.query(
                        f"SELECT {', '.join(COLUMNS)} FROM audit_log"  # noqa: S608
                        f" WHERE id > ?{where} ORDER BY id LIMIT {_BATCH}",
                        [after, *params],
                    )
                )
            if not batch:
                return
            yield from batch
            after = batch[-1]["id"]

    def verify(self) -> VerifyResult:
        """Walk the chain by id and report the first row that does not fit.

        Detects edited rows (hash mismatch), deleted rows (id gap, including a
        deleted last row via sqlite_sequence) and inserted or reordered rows
        (prev_hash does not match). It cannot detect a forger who rewrites the
        whole tail consistently; keep a copy of the latest hash elsewhere for that.
        """
        count = 0
        prev_id = 0
        prev_hash = GENESIS_HASH
        for row in self._raw_rows():
            count += 1
            if row["id"] != prev_id + 1:
                return VerifyResult(False, count, row["id"], "deleted before this row")
            if row["prev_hash"] != prev_hash:
                return VerifyResult(False, count, row["id"], "inserted or reordered")
            if row_hash(row) != row["hash"]:
                return VerifyResult(False, count, row["id"], "edited")
            prev_id = row["id"]
            prev_hash = row["hash"]
        with self._lock:
            last_issued = self._last_issued_id()
        if last_issued > prev_id:
            return VerifyResult(False, count, prev_id + 1, "deleted at the end")
        return VerifyResult(True, count)

    # --- export (`dialer-bot audit export`) -------------------------------

    def export(self, fmt: str = "jsonl", since: str | None = None) -> Iterator[str]:
        """Yield the raw log (every column, chain included) as text lines ending in "\\n",
        so an auditor can re-hash the rows.

        ``csv``: a header line, then one record per row (a record may span lines
        when a value contains a newline). ``jsonl``: one JSON object per row.
        ``request`` stays the stored JSON text so exported rows can be re-hashed.
        ``since`` is an ISO date or datetime; rows with ``ts >= since`` are kept.
        """
        if fmt not in ("csv", "jsonl"):
            raise ValueError(f"format: expected 'csv' or 'jsonl', got {fmt!r}")
        if since is not None:
            parse_since(since)  # fail before the first line, not halfway through
        return self._export_lines(fmt, since)

    def _export_lines(self, fmt: str, since: str | None) -> Iterator[str]:
        if fmt == "jsonl":
            for row in self._raw_rows(since):
                yield json.dumps(row, ensure_ascii=False) + "\n"
            return
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")

        def take(values: list[Any]) -> str:
            writer.writerow(values)
            line = buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            return line

        yield take(list(COLUMNS))
        for row in self._raw_rows(since):
            yield take(["" if row[name] is None else row[name] for name in COLUMNS])


# --- anchors ---------------------------------------------------------------------

ANCHOR_ACTION = "anchor"
_ANCHOR = re.compile(r"^\s*(\d+)\s*:\s*([0-9a-fA-F]{64})\s*$")


@dataclass(frozen=True)
class Anchor:
    entry: int
    hash: str


def parse_anchor(text: str) -> Anchor:
    """`N:HASH` as typed on the command line (HASH: the 64 hex digits the bot posted)."""
    match = _ANCHOR.match(text)
    if match is None:
        raise ValueError(
            f"anchor: expected ENTRY:HASH such as 42:3f2a…(64 hex digits), got {text!r}"
        )
    return Anchor(int(match[1]), match[2].lower())


def anchor_text(anchor: Anchor) -> str:
    """The Slack message; `audit verify --anchor N:HASH` takes its two values."""
    return f"audit head: entry {anchor.entry}, hash {anchor.hash}"


class Anchors(Component):
    """Check an anchor against the file; find the anchors the bot recorded."""

    def check(self, anchor: Anchor) -> str | None:
        """None when entry N still has the anchored hash; else what is wrong."""
        with self._read() as db:
            row = db.conn.execute(
                "SELECT hash FROM audit_log WHERE id = ?", [anchor.entry]
            ).fetchone()
        if row is None:
            return f"entry {anchor.entry} is missing: entries up to it were deleted"
        if row[0] != anchor.hash:
            return (
                f"entry {anchor.entry} does not match the anchor: entries up to "
                f"{anchor.entry} were rewritten"
            )
        return None

    def head(self) -> Anchor | None:
        with self._read() as db:
            row = db.conn.execute(
                "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1"
            ).fetchone()
        return None if row is None else Anchor(int(row[0]), str(row[1]))

    def head_is_anchored(self) -> bool:
        """True when nothing was written since the last anchor row (no need to post again)."""
        with self._read() as db:
            row = db.conn.execute(
                "SELECT action FROM audit_log ORDER BY id DESC LIMIT 1"
            ).fetchone()
        return row is None or row[0] == ANCHOR_ACTION

    def recorded(self, limit: int = 5) -> list[dict[str, Any]]:
        """The latest anchor rows' request JSON (entry, hash, channel, message_ts), newest first."""
        with self._read() as db:
            rows = db.conn.execute(
                "SELECT id, ts, channel_id, request FROM audit_log"
                " WHERE action = ? AND outcome = 'ok'"
                " ORDER BY id DESC LIMIT ?",
                [ANCHOR_ACTION, limit],
            ).fetchall()
        return [
            {"row": r[0], "ts": r[1], "channel_id": r[2], **json.loads(r[3] or "{}")} for r in rows
        ]


# --- backup (`dialer-bot audit backup PATH`) -------------------------------------
# SQLite's online backup API copies the file page by page through a read transaction of
# its own; in WAL mode that transaction sees one snapshot and never blocks the bot's
# writers, so the bot keeps running while the copy is made. The copy is written next to
# PATH under a temporary name and renamed into place only once complete, so PATH is never
# half a database.


class BackupError(Exception):
    """The copy could not be made; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    verify: VerifyResult


def backup(source: str | Path, target: str | Path) -> BackupResult:
    """Copy `source` to `target` (which must not exist yet) and verify the copy's chain."""
    src, dst = Path(source), Path(target)
    if not src.is_file():
        raise BackupError(f"no database at {src}")
    if dst.exists():
        raise BackupError(f"{dst} already exists; choose a new file name")
    if not dst.parent.is_dir():
        raise BackupError(f"directory {dst.parent} does not exist")
    partial = dst.with_name(f".{dst.name}.partial-{os.getpid()}")
    # Read-only: a backup must never migrate or otherwise touch the live file.
    reader = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        writer = sqlite3.connect(partial)
        try:
            reader.backup(writer)  # all pages in one step: one snapshot, no restarts
            writer.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        finally:
            writer.close()
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"the copy failed: {exc}") from None
    finally:
        reader.close()
    os.replace(partial, dst)
    return BackupResult(dst, dst.stat().st_size, verify_file(dst))


def verify_file(path: str | Path) -> VerifyResult:
    """Walk the chain of a database file without migrating or writing it."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return AuditLog(sqlite_utils.Database(conn)).verify()
    finally:
        conn.close()
