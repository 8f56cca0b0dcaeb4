"""`dialer-bot audit backup PATH`: a consistent copy of the live database, then its chain checked.

SQLite's online backup API copies the file page by page through a read transaction of its
own; in WAL mode that transaction sees one snapshot and never blocks the bot's writers, so
the bot keeps running while the copy is made. The copy is written next to PATH under a
temporary name and renamed into place only once complete, so PATH is never half a database.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from store.audit import AuditLog, VerifyResult
from store.db import BUSY_TIMEOUT_MS


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
