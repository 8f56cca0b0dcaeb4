"""The bot's SQLite file: opening it, its migrations, transactions, and what every table's
class shares.

One file holds everything (audit log, claims, grants, subscriptions, outbox, ...) so
an operator can inspect it with ``sqlite3`` or Datasette. Two bot processes may
share the file, so every write runs in ``BEGIN IMMEDIATE`` and the connection
waits (``busy_timeout``) instead of failing when the other process is writing.

Each table has a small class (Claims, Grants, Outbox, ...) built on :class:`Component`:
a write runs under the shared lock *and* a transaction, a read under the lock, and a
row becomes its frozen dataclass by column name, with JSON columns (marked by
:func:`json_field`) decoded on the way. The SQL itself stays at the call site, as a
literal passed straight to ``db.execute``/``db.query``, where tests/test_secrets_and_escaping.py
checks that no value is ever pasted into it.

:class:`Health` reads across the tables (counts and ages, no names or payloads) for
/metrics, and probes whether the file takes writes for /readyz.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from store.schema import MIGRATIONS, Migration

R = TypeVar("R")
K = TypeVar("K")

BUSY_TIMEOUT_MS = 5000


def utc_now() -> datetime:
    """The default clock; injectable so tests can move time without sleeping."""
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    """Fixed-width ISO 8601 UTC (``2024-05-01T12:00:00.123Z``).

    Fixed width matters: timestamps are compared as strings in SQL (claim
    expiry, export ``since``), which is only correct when they all look alike.
    """
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def iso_after(dt: datetime, seconds: float) -> str:
    """The stored form of ``seconds`` after ``dt``: expiry and lease deadlines."""
    return iso(dt + timedelta(seconds=seconds))


def parse_since(since: str) -> str:
    """Turn a user-given ISO date or datetime into the stored timestamp format.

    Naive values are taken as UTC, because every stored timestamp is UTC.
    """
    try:
        dt = datetime.fromisoformat(since.strip())
    except ValueError as exc:
        raise ValueError(
            f"since: expected an ISO date or datetime such as 2024-05-01, got {since!r}"
        ) from exc
    return iso(dt)


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any error.

    IMMEDIATE takes the write lock up front, so read-then-write sequences (read
    the last hash, then append) cannot interleave with another process, and the
    busy timeout applies instead of a late SQLITE_BUSY on lock upgrade.
    """
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def schema_version(db: sqlite_utils.Database) -> int:
    """The number of migration steps applied to this file."""
    return int(db.conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite_utils.Database, migrations: list[Migration] | None = None) -> int:
    """Apply the missing steps in one transaction; safe to run from two processes at once.

    The version is re-read after taking the write lock, so a process that lost
    the race sees the steps already applied and does nothing.
    """
    steps = MIGRATIONS if migrations is None else migrations
    with transaction(db):
        current = schema_version(db)
        if current > len(steps):
            raise RuntimeError(
                f"database schema version {current} is newer than this code "
                f"knows ({len(steps)}); upgrade dialer-bot"
            )
        for step in steps[current:]:
            step(db)
        if current != len(steps):
            # PRAGMA takes no parameters; the value is an int we computed.
            db.conn.execute(f"PRAGMA user_version = {len(steps)}")
    return len(steps)


# --- the file itself: is it still the one opened, and can it take a write? --------------
# SQLite keeps writing through its open descriptor when the file or its directory is
# deleted or replaced: every write "succeeds" into an unlinked inode and is lost at exit.
# So before the bot acts on a write-ahead row it checks that the path still names the
# file it opened (same device and inode) and that the row committed.


class StorageError(Exception):
    """The database cannot keep a write now; ``str()`` says why, in words for a person.

    ``busy``: another process holds the write lock (try again); otherwise the storage is
    failing (deleted, replaced, read-only, full) and the bot's maintainers must look.
    ``held_back``: raised by :func:`write_durably`, so what the write was to record was
    not done (for a dialer command: nothing was sent).
    """

    def __init__(self, reason: str, *, busy: bool = False, held_back: bool = False) -> None:
        super().__init__(reason)
        self.busy = busy
        self.held_back = held_back


@dataclasses.dataclass(frozen=True)
class FileIdentity:
    """What names a file whatever its path: the device and inode the store opened."""

    device: int
    inode: int


def file_identity(path: str | Path) -> FileIdentity | None:
    """The identity of the file at ``path`` now; None for an in-memory database."""
    if str(path) == ":memory:":
        return None
    st = os.stat(path)
    return FileIdentity(st.st_dev, st.st_ino)


def identity_problem(path: str | Path, opened: FileIdentity | None) -> str | None:
    """None when ``path`` still names the file opened as ``opened`` and its directory is
    there; else what happened to it. A few stat calls: cheap enough before every command."""
    if opened is None:
        return None
    target = Path(path)
    if not target.parent.is_dir():
        return "the database's directory is gone"
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return "the database file was deleted"
    except OSError as exc:
        return f"the database file cannot be read ({exc.strerror})"
    if (st.st_dev, st.st_ino) != (opened.device, opened.inode):
        return "the database file was replaced by another file"
    return None


def disk_problem(path: str | Path) -> str | None:
    """None when the file and its file system take writes and the disk has room."""
    target = Path(path)
    try:
        fs = os.statvfs(target.parent)
    except OSError as exc:
        return f"the database's file system cannot be read ({exc.strerror})"
    if fs.f_flag & os.ST_RDONLY:
        return "the database's file system is read-only"
    if not (os.access(target, os.W_OK) and os.access(target.parent, os.W_OK)):
        return "the database file is read-only for the bot"
    free = fs.f_bavail * fs.f_frsize
    if free < MIN_FREE_BYTES:
        return f"the disk is full ({free // 1024} KiB free)"
    return None


def size_problem(conn: sqlite3.Connection) -> str | None:
    """None while SQLite's own page limit (PRAGMA max_page_count) leaves room."""
    (pages,) = conn.execute("PRAGMA page_count").fetchone()
    (limit,) = conn.execute("PRAGMA max_page_count").fetchone()
    if pages >= limit:
        return f"the database is full (SQLite's max_page_count {limit} reached)"
    return None


def storage_problem(
    path: str | Path, opened: FileIdentity | None, conn: sqlite3.Connection
) -> str | None:
    """None when a write now would land, and stay, in the file the store opened: it is
    still that file (its directory there), neither it nor its file system is read-only,
    and there is room on the disk and under SQLite's page limit (the completion row of a
    command must fit too). The caller holds the store's lock."""
    if opened is None:  # in memory: nothing on disk to lose
        return size_problem(conn)
    return identity_problem(path, opened) or disk_problem(path) or size_problem(conn)


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def storage_error(exc: sqlite3.Error) -> StorageError | None:
    """The StorageError a failed write means, or None when it is a bug (a constraint, bad
    SQL) rather than the storage: those must surface as they are."""
    if isinstance(exc, sqlite3.OperationalError) or type(exc) is sqlite3.DatabaseError:
        if _is_busy(exc):
            return StorageError("another process is holding the database", busy=True)
        return StorageError(f"SQLite: {exc}")
    return None


def write_durably(
    path: str | Path,
    opened: FileIdentity | None,
    conn: sqlite3.Connection,
    write: Callable[[], R],
) -> R:
    """Run ``write`` (one committed transaction) on the file the store opened, and make
    sure afterwards that it still is that file; StorageError when either is not so.

    The commit is synced to disk (``synchronous = FULL``). Checked before
    (:func:`storage_problem`: nothing is written into a deleted, replaced, read-only or
    full file) and after (it was not swapped while the write waited for the
    lock), so a row it returns is in the file an operator will read. The caller holds
    the store's lock.
    """
    problem = storage_problem(path, opened, conn)
    if problem is not None:
        raise StorageError(problem, held_back=True)
    try:
        # synchronous=FULL for this commit: WAL is fsynced, so the row survives a power
        # loss too (NORMAL, the connection's default, may lose the last commits).
        conn.execute("PRAGMA synchronous = FULL")
        try:
            result = write()
        finally:
            conn.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.Error as exc:
        failure = storage_error(exc)
        if failure is None:
            raise
        raise StorageError(str(failure), busy=failure.busy, held_back=True) from exc
    problem = identity_problem(path, opened)
    if problem is not None:
        raise StorageError(problem, held_back=True)
    return result


def open_db(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if needed) the database file, configured and migrated.

    The connection is in autocommit mode (``isolation_level=None``) and may be
    used from a thread other than its creator; callers serialise access and
    open transactions explicitly with :func:`transaction`.
    """
    target = str(path)
    if target != ":memory:":
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        target, check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        db = sqlite_utils.Database(conn)
        migrate(db)
    except BaseException:
        conn.close()
        raise
    return db


# A read that must never queue behind a write (the role lookup of an access check, which
# some acks wait for) goes through a second connection with a thread of its own: in WAL
# mode a reader does not wait for writers, and if the file is locked beyond that (another
# process checkpointing), it gives up after half a second instead of five.
READ_BUSY_TIMEOUT_MS = 500


def open_reader(path: str | Path) -> sqlite_utils.Database:
    """A read-only (query_only) connection to the file :func:`open_db` opened and migrated."""
    conn = sqlite3.connect(
        str(path),
        check_same_thread=False,
        isolation_level=None,
        timeout=READ_BUSY_TIMEOUT_MS / 1000,
    )
    try:
        conn.execute("PRAGMA busy_timeout = 500")  # READ_BUSY_TIMEOUT_MS
        conn.execute("PRAGMA query_only = ON")
    except BaseException:
        conn.close()
        raise
    return sqlite_utils.Database(conn)


# --- JSON columns and rows -----------------------------------------------------
# Audit requests and claim payloads are checked key by key before they are written:
# a secret in the chained log could never be removed without breaking the chain.

# Keys whose values are credentials; matched case-insensitively, '-' == '_'.
SECRET_KEYS = frozenset(
    {
        "password",
        "passwd",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "secret",
        "client_secret",
        "authorization",
        "api_key",
        "apikey",
    }
)


def check_no_secrets(value: Any, where: str = "request") -> None:
    """Refuse credentials anywhere in a JSON-like value (dict keys, recursively).

    The log is meant to be read by operators and exported; a password that got
    in could never be removed without breaking the chain.
    """
    if isinstance(value, Mapping):
        for key, item in value.items():
            if str(key).lower().replace("-", "_") in SECRET_KEYS:
                raise ValueError(f"{where}: refusing to store secret field {key!r}")
            check_no_secrets(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            check_no_secrets(item, f"{where}[{index}]")


_JSON = "store.json_column"


def dump_json(value: Any) -> str:
    """Canonical JSON: the same value always gives the same text (and audit hash)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def load_json(text: str | None) -> Any:
    """The value :func:`dump_json` stored; SQL NULL stays None."""
    return None if text is None else json.loads(text)


def json_field(default: Any = dataclasses.MISSING) -> Any:
    """Mark a dataclass field whose column holds JSON text, so :func:`from_row` parses it."""
    return dataclasses.field(default=default, metadata={_JSON: True})


def from_row(cls: type[R], row: Mapping[str, Any]) -> R:
    """Build the dataclass ``cls`` from a row by column name.

    A field the row lacks takes its dataclass default (e.g. columns only a view
    has); without a default that is a KeyError, never a silent None.
    """
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]  # R is a dataclass
        if f.name not in row and (
            f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        ):
            continue
        value = row[f.name]
        values[f.name] = load_json(value) if f.metadata.get(_JSON) else value
    return cls(**values)


def all_as(cls: type[R], rows: Iterable[Mapping[str, Any]]) -> list[R]:
    """Every row of a query (fetched now, so call it while holding the lock), as ``cls``."""
    return [from_row(cls, row) for row in rows]


def first_as(cls: type[R], rows: Iterable[Mapping[str, Any]]) -> R | None:
    """The row of a lookup by key, as ``cls``; None when there is none."""
    found = all_as(cls, rows)
    return found[0] if found else None


def each(fetch: Callable[[K], R | None], keys: Iterable[K]) -> list[R]:
    """``fetch`` (a lookup by key) for each key in turn, e.g. the rows a write just touched.

    Keys that find nothing are left out.
    """
    found = (fetch(key) for key in keys)
    return [row for row in found if row is not None]


class Component:
    """Base of the per-table classes: one connection, one lock shared by all, one clock.

    The lock is shared (an RLock, so a read inside a write is fine) because the
    sync API may be called directly while the store thread uses the connection.
    """

    def __init__(
        self,
        db: sqlite_utils.Database,
        lock: threading.RLock | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.db = db
        self._lock = lock or threading.RLock()
        self._clock = clock

    def _now(self) -> str:
        """The current time as stored (see :func:`iso`)."""
        return iso(self._clock())

    @contextmanager
    def _read(self) -> Iterator[sqlite_utils.Database]:
        """Hold the lock while a query runs and its rows are fetched."""
        with self._lock:
            yield self.db

    @contextmanager
    def _write(self) -> Iterator[sqlite_utils.Database]:
        """Hold the lock and a write transaction; everything inside commits or nothing."""
        with self._lock, transaction(self.db):
            yield self.db


# --- health -------------------------------------------------------------------

# Control commands whose outcomes are counted (the audit log's actions for bot/control.py).
CONTROL_ACTIONS = ("start", "pause", "unpause", "reload", "remove")
READY_WRITE_TIMEOUT_MS = 1000
# Below this much free space the next checkpoint or WAL growth may fail: not ready.
MIN_FREE_BYTES = 1024 * 1024
# The probe's PRAGMAs are literal SQL (tests/test_secrets_and_escaping.py); they must match these.
assert BUSY_TIMEOUT_MS == 5000 and len(CONTROL_ACTIONS) == 5  # noqa: S101
assert READ_BUSY_TIMEOUT_MS == 500  # noqa: S101


@dataclasses.dataclass(frozen=True)
class Gauges:
    """Counts and labels only: no campaign names, no payloads."""

    outbox_depth: int
    outbox_oldest_created_at: str | None
    pending_approvals: int
    pending_schedules: int
    audit_entries: int
    control_outcomes: dict[tuple[str, str], int] = dataclasses.field(default_factory=dict)


class Health(Component):
    """What an operator's metrics and readiness probe need: read-only gauges, plus the one
    check /readyz uses (does the file still take writes?)."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        lock: threading.RLock | None = None,
        clock: Callable[[], datetime] = utc_now,
        *,
        path: str | Path = ":memory:",
        opened: FileIdentity | None = None,
    ) -> None:
        super().__init__(db, lock, clock)
        self._path = Path(path)
        self._opened = opened

    def snapshot(self) -> Gauges:
        with self._read() as db:
            conn = db.conn
            depth, oldest = conn.execute(
                "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE state = 'pending'"
            ).fetchone()
            (approvals,) = conn.execute(
                "SELECT COUNT(*) FROM approvals WHERE state = 'open'"
            ).fetchone()
            (entries,) = conn.execute("SELECT COUNT(*) FROM audit_log").fetchone()
            outcomes = {
                (action, outcome): n
                for action, outcome, n in conn.execute(
                    "SELECT action, outcome, COUNT(*) FROM audit_log"
                    " WHERE action IN (?, ?, ?, ?, ?) AND outcome != 'pending'"
                    " GROUP BY action, outcome",
                    CONTROL_ACTIONS,
                )
            }
            (schedules,) = conn.execute(
                "SELECT COUNT(*) FROM schedules WHERE state = 'pending'"
            ).fetchone()
        return Gauges(depth, oldest, approvals, schedules, entries, outcomes)

    def problem(self) -> str | None:
        """None when the file would take the next write; else why not, in a few words.

        Cheap (a few stat calls, two PRAGMAs, a write lock taken and given back), so
        /readyz can ask every few seconds: :func:`storage_problem`, then the write lock
        comes within a second and a write statement is accepted.
        """
        with self._lock:
            problem = storage_problem(self._path, self._opened, self.db.conn)
        return problem or self.writable()

    def writable(self) -> str | None:
        """None when the write lock can be taken within a second and a write statement is
        accepted (not a read-only connection); else SQLite's reason."""
        with self._lock:
            conn = self.db.conn
            conn.execute("PRAGMA busy_timeout = 1000")  # READY_WRITE_TIMEOUT_MS
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("DELETE FROM seen_events WHERE 0")  # a write, of nothing
                conn.execute("ROLLBACK")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                return f"not writable: {exc}"
            finally:
                conn.execute("PRAGMA busy_timeout = 5000")  # back to BUSY_TIMEOUT_MS
        return None


def age_seconds(iso_ts: str | None, now: datetime) -> float | None:
    """How long ago a stored timestamp was (never negative); None stays None."""
    if iso_ts is None:
        return None
    then = datetime.fromisoformat(iso_ts.replace("Z", "+00:00"))
    return max(0.0, (now - then).total_seconds())
