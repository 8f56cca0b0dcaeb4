"""What every store component shares: its connection, lock and clock, and rows as dataclasses.

Each table has a small class (Claims, Grants, Outbox, ...) that writes with
one statement or one ``BEGIN IMMEDIATE`` transaction and reads rows back as a
frozen dataclass. The plumbing for that lives here once: a write runs under the
shared lock *and* a transaction, a read under the lock, and a row becomes its
dataclass by column name, with JSON columns (marked by :func:`json_field`)
decoded on the way. The SQL itself stays at the call site, as a literal passed
straight to ``db.execute``/``db.query``, where tests/test_hardening.py checks
that no value is ever pasted into it.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

import sqlite_utils

from store.db import iso, transaction, utc_now

R = TypeVar("R")
K = TypeVar("K")

_JSON = "store.json_column"


def dump_json(value: Any) -> str:
    """Canonical JSON: the same value always gives the same text (and audit hash)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def load_json(text: str | None) -> Any:
    """The value :func:`dump_json` stored; SQL NULL stays None."""
    return None if text is None else json.loads(text)


def json_field() -> Any:
    """Mark a dataclass field whose column holds JSON text, so :func:`from_row` parses it."""
    return dataclasses.field(metadata={_JSON: True})


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
        """The current time as stored (see :func:`store.db.iso`)."""
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
